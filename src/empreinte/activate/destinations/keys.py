"""The destinations' secrets — a webhook's signing secret, a Segment forwarder's write key —
kept beside the workspace in `destination-secrets.json` (owner-only, like `pseudonym.key`),
never in the database: a copy of the DuckDB file (a snapshot, a backup, the Parquet export)
carries none of them. They are read to sign and send, so they are stored as given."""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

import orjson

FILE = "destination-secrets.json"
_lock = threading.Lock()


class SecretFile:
    """name → secret, one JSON object, rewritten atomically (a temporary file renamed)."""

    def __init__(self, workspace: Path):
        self.path = workspace / FILE

    def _read(self) -> dict[str, str]:
        try:
            data = orjson.loads(self.path.read_bytes())
        except FileNotFoundError:
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def get(self, name: str) -> str | None:
        return self._read().get(name)

    def put(self, name: str, secret: str) -> None:
        with _lock:
            data = self._read()
            data[name] = secret
            self._write(data)

    def remove(self, name: str) -> None:
        with _lock:
            data = self._read()
            if data.pop(name, None) is not None:
                self._write(data)

    def _write(self, data: dict[str, str]) -> None:
        fd, temporary = tempfile.mkstemp(prefix=".secrets-", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(orjson.dumps(data, option=orjson.OPT_SORT_KEYS))
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
