"""A workspace's side of the published log: its collector id, its pending erasures, and one
round of work (pending erasures, staging, and publishing when it leads). The workspace
composes it (`workspace.published`); the server runs rounds in the background, the CLI once."""

from __future__ import annotations

import logging
import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from empreinte.errors import ConfigError
from empreinte.publish.erasure import (
    ErasureNotice,
    ErasureResult,
    PendingErasures,
    PublishedErasure,
    SiblingHashes,
    notices,
)
from empreinte.publish.log import PublishedLog
from empreinte.publish.publisher import Publisher, PublishReport
from empreinte.publish.settings import PublishSettings
from empreinte.publish.stage import stage
from empreinte.store.engine import Engine
from empreinte.store.privacy_store import ErasurePlan

logger = logging.getLogger("empreinte.publish")

#: Beside the workspace's log: erasures not yet applied to the published log.
PENDING_DIR = "publish-erasures"
#: Beside the workspace's log: the collector id it stages under, per published log's URL.
IDENTITY_FILE = "publish-collector.json"
#: Beside the workspace's log: the other collectors' erasures this workspace made its own.
ADOPTED_FILE = "publish-adopted.json"


@dataclass
class Round:
    erasures: list[ErasureResult] = field(default_factory=list)
    staged: int = 0  # segments
    published: PublishReport | None = None


class Publication:
    """What a workspace publishes, and where (`[publish]`); inert without a URL."""

    def __init__(self, directory: Path, engine: Engine, settings: PublishSettings):
        self.settings = settings
        self.collector = settings.collector(directory)
        self._engine = engine
        self._directory = directory
        self._checked: set[str] = set()  # URLs whose collector id this process checked
        self._own_notices: set[str] = set()  # erasure notices of this collector, seen
        self._pending = PendingErasures(directory / PENDING_DIR)
        self._lock = threading.Lock()  # a round and an erasure's application, one at a time
        self._log: PublishedLog | None = None
        self._publisher: Publisher | None = None

    @property
    def enabled(self) -> bool:
        return self.settings.url is not None

    def log(self, url: str | None = None) -> PublishedLog:
        if url is not None and url != self.settings.url:
            return PublishedLog(url)  # `--log`: the store's credentials from the environment
        if self._log is None:
            if self.settings.url is None:
                raise ValueError("no [publish] url")
            self._log = PublishedLog(self.settings.url, **self.settings.storage_options)
        return self._log

    # -- erasure (privacy/erasure.py calls these) -----------------------------------------

    def record(self, plan: ErasurePlan, siblings: SiblingHashes) -> None:
        """Before the local erasure commits: keep what the published log must lose, and what
        the other collectors must hear of it."""
        if self.enabled:
            self._pending.record(PublishedErasure.from_plan(plan, self.collector, siblings))

    def discard(self, erasure_id: str) -> None:
        """The local erasure failed: nothing to apply."""
        self._pending.discard(erasure_id)

    def apply(self) -> None:
        """After it committed: reach the published log now. A failure (the store out of
        reach) leaves the erasure pending for the next round, logged."""
        if not self.enabled:
            return
        try:
            with self._lock:
                self._pending.apply(self.log())
        except Exception:
            logger.exception("erasure pending for the published log %s", self.settings.url)

    # -- erasures made on the other collectors (privacy/erasure.py adopts them) -------------

    def notices_to_adopt(self) -> list[ErasureNotice]:
        """Erasures other collectors applied to the published log that this workspace has
        not yet made its own."""
        if not self.enabled:
            return []
        # Every round asks: only notices not seen yet are read (this collector's own ones
        # are remembered in memory, the adopted ones on disk).
        fresh = notices(self.log(), known=self._adopted() | self._own_notices)
        self._own_notices |= {n.erasure_id for n in fresh if n.collector == self.collector}
        return [n for n in fresh if n.collector != self.collector]

    def adopted(self, erasure_id: str) -> None:
        """Remember that this workspace made `erasure_id` its own (written whole)."""
        ids = sorted(self._adopted() | {erasure_id})
        _write_whole(self._directory / ADOPTED_FILE, orjson.dumps(ids))

    def _adopted(self) -> set[str]:
        path = self._directory / ADOPTED_FILE
        return set(orjson.loads(path.read_bytes())) if path.exists() else set()

    # -- a round --------------------------------------------------------------------------

    def run(self, *, publish: bool | None = None, url: str | None = None) -> Round:
        """Pending erasures, then staging, then (when `publish`, by default when this
        collector leads) publication."""
        log = self.log(url)
        done = Round()
        with self._lock:
            self._check_identity(log)
            done.erasures = self._pending.apply(log)
            done.staged = len(stage(self._engine, log, self.collector))
            if self.settings.leader if publish is None else publish:
                if self._publisher is None or self._publisher.log is not log:
                    self._publisher = Publisher(log, compaction=self.settings.compaction())
                done.published = self._publisher.publish()
        return done

    def _check_identity(self, log: PublishedLog) -> None:
        """One collector id per workspace and one workspace per collector id, for each
        published log (checked once per process and URL).

        The id a workspace stages under is remembered beside it: another id (a default that
        changed with the host name) would stage the whole log again, publishing twice what is
        older than the dedup horizon. And the id is claimed at the URL by this workspace's
        random token (`collectors/<id>.json`, created exclusively): two workspaces under one id
        (settings copied by `init --like`, one directory name on one host) would share one
        watermark, and the second one's events under it would never be published."""
        if log.url in self._checked:
            return
        path = self._directory / IDENTITY_FILE
        known: dict[str, Any] = orjson.loads(path.read_bytes()) if path.exists() else {}
        token = known.setdefault("workspace", secrets.token_hex(16))
        urls: dict[str, str] = known.setdefault("collectors", {})
        before = urls.get(log.url)
        if before is not None and before != self.collector:
            raise ConfigError(
                f"this workspace stages to {log.url} as collector {before!r}, not "
                f"{self.collector!r}: set [publish] collector_id = {before!r} in empreinte.toml "
                f"(or remove {path} to start anew, publishing older events twice)"
            )
        claim = f"collectors/{self.collector}.json"
        mine = orjson.dumps({"workspace": token})
        if not log.create_exclusive(claim, mine) and log.read_bytes(claim) != mine:
            raise ConfigError(
                f"collector id {self.collector!r} at {log.url} belongs to another workspace "
                "(settings copied from it?): give this one its own [publish] collector_id"
            )
        if before is None:
            urls[log.url] = self.collector
            _write_whole(path, orjson.dumps(known, option=orjson.OPT_INDENT_2))
        self._checked.add(log.url)


def _write_whole(path: Path, data: bytes) -> None:
    """`data` at `path`, whole or not at all (a temporary file renamed over it)."""
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


__all__ = ["PENDING_DIR", "Publication", "Round"]
