"""A real HTTP receiver on a free port, as a marketing tool's webhook endpoint would be: it
records what it accepts, and can be told to fail (500) a number of times, or until told
otherwise."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson


@dataclass
class Endpoint:
    fail_next: int = 0  # answer 500 to this many requests first
    down: bool = False  # answer 500 while true
    requests: int = 0  # every request, failed or not
    accepted: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def messages(self) -> list[dict[str, Any]]:
        """Every message of every accepted request, in order."""
        return [m for _, body in self.accepted for m in orjson.loads(body)["batch"]]


class Receiver:
    def __init__(self) -> None:
        self.endpoints: dict[str, Endpoint] = {}
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    endpoint = receiver.endpoints.setdefault(self.path, Endpoint())
                    endpoint.requests += 1
                    failing = endpoint.down or endpoint.fail_next > 0
                    if endpoint.fail_next > 0:
                        endpoint.fail_next -= 1
                    if not failing:
                        endpoint.accepted.append((dict(self.headers), body))
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._server.server_port}{path}"

    def endpoint(self, path: str, **settings: Any) -> Endpoint:
        with self._lock:
            endpoint = self.endpoints.setdefault(path, Endpoint())
            for key, value in settings.items():
                setattr(endpoint, key, value)
            return endpoint

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
