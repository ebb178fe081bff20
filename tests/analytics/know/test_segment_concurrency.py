"""Two refreshes of one segment at the same time (the server's scheduler and an API call):
neither fails, and the history stays the story of the members — everyone's entries minus
their exits is the final membership."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import empreinte
from empreinte.errors import EmpreinteError

from .segment_people import AS_OF, DAY, people


def test_concurrent_refreshes_of_one_segment_keep_a_consistent_history(tmp_path: Path) -> None:
    with empreinte.open(tmp_path) as ws:
        assert not ws.ingest(people()).rejected
        ws.flush()
        # Membership changes with the moment: orders within 30 days of it.
        ws.segments.create("recent", 'did("Order Completed", within="30d")')
        moments = [AS_OF - DAY * (15 * (i % 4)) for i in range(12)]
        errors: list[EmpreinteError] = []

        def refresh(which: list[int]) -> None:
            for i in which:
                try:
                    ws.segments.refresh("recent", moments[i])
                except EmpreinteError as exc:
                    errors.append(exc)

        threads = [
            threading.Thread(target=refresh, args=(list(range(start, 12, 2)),)) for start in (0, 1)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        history = ws.segments.history("recent", limit=10_000)
        balance: Counter[str] = Counter()
        for change in history:
            balance[change.profile_id] += 1 if change.change == "entered" else -1
        members = set(ws.segments.members("recent"))
        assert {p for p, n in balance.items() if n == 1} == members
        assert all(n in (0, 1) for n in balance.values())
