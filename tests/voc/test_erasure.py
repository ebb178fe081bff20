"""Erasure removes a person's texts from every voc_* table; other people's stay, and a later
refresh does not bring them back."""

from __future__ import annotations

from pathlib import Path

import empreinte
from empreinte.privacy import erasure

from .calls import T0, call, days, planted, turns


def test_erasure_removes_the_persons_voc_rows(tmp_path: Path) -> None:
    with empreinte.open(tmp_path / "ws") as ws:
        for i, (_, text) in enumerate(planted(40)):
            user = "jane" if i % 10 == 0 else f"u{i}"
            call(ws, turns(("customer", text)), user=user, at=T0 + days(i % 5))
        ws.track("NPS Answered", user_id="jane", properties={"score": 2, "comment": "Nul"})
        ws.voc.refresh()
        assert ws.voc.count() == 41
        linked = sum(t["texts"] for t in ws.voc.topics())
        report = erasure.erase_by(ws, "userId", "jane", "test")
        assert report.counts["voc_texts"] == 5 and report.counts["voc_text_topics"] >= 4
        assert ws.voc.count() == 36
        left = {row["seq"] for row in ws.voc.conversations(limit=100)}
        assert all(ws.voc.conversation(seq)["turns"] for seq in left)
        assert sum(t["texts"] for t in ws.voc.topics()) == linked - report.counts["voc_text_topics"]
        ws.voc.refresh(refit=True)
        assert ws.voc.count() == 36
