"""`empreinte serve` publishing in the background when `[publish] url` is set (docs/publish.md):
every `[publish] interval` a round applies pending erasures, stages what the collector
committed since its watermark, publishes when `[publish] leader = true`, and makes its
own the erasures other collectors published (privacy/erasure.py, `adopt_published`); once
more when the server stops. A failure (the store out of reach) is logged and the next round retries:
the watermark lives at the URL, so nothing is staged twice or skipped."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from empreinte.web.background import BackgroundLoop

if TYPE_CHECKING:
    from empreinte.workspace import Workspace

log = logging.getLogger("empreinte.publish")


class PublishLoop(BackgroundLoop):
    thread_name = "empreinte-publish"

    def __init__(self, workspace: Workspace):
        super().__init__()
        self._workspace = workspace
        self._published = workspace.published
        self.rounds = 0

    def start(self) -> None:
        if self._published.enabled:
            super().start()

    def run_once(self) -> None:
        from empreinte.privacy.erasure import adopt_published

        self._published.run()
        # Erasures other collectors published: this collector's log forgets the person too.
        adopt_published(self._workspace)
        self.rounds += 1

    def _run(self) -> None:
        interval = self._published.settings.interval.total_seconds()
        while not self._stop.wait(interval):
            self._round()
        self._round()  # what was committed before the server stopped

    def _round(self) -> None:
        try:
            self.run_once()
        except Exception:
            log.exception(
                "publishing to %s failed; retried next round", self._published.settings.url
            )
