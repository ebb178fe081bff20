"""A daemon thread the server starts and stops with itself (the identity sync, the segment
scheduler): `start` once, `stop` sets the event the loop waits on and joins it."""

from __future__ import annotations

import threading


class BackgroundLoop:
    """Subclasses write `_run`, which loops on `self._stop.wait(...)` until it is set."""

    thread_name = "empreinte-background"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        raise NotImplementedError
