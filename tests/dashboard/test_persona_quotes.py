"""A persona card's quote is one person's comment: when that person withdraws profiling, the
dashboard takes the quote down (within `QUOTES_CHECKED_EVERY`), without waiting for the
persona report to expire; the quote's author is never shown nor exported."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

import empreinte
from empreinte.demo import generate
from empreinte.privacy import consent
from empreinte.web.dashboard.pages.segments import PersonaReports, _Personas
from empreinte.workspace import Workspace


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    root = Path(tmp_path_factory.mktemp("persona-quotes"))
    (root / "empreinte.toml").write_text(
        "[consent]\ndefaults = { analytics = true, profiling = true }\n"
    )
    with empreinte.open(root) as workspace:
        # Only people with 25 touchpoints or more are in a persona (a third of them): enough
        # people for a persona to have the 10 commenters a quote needs.
        assert not workspace.ingest(generate(600, seed=3)).rejected
        yield workspace


def test_a_withdrawn_author_s_quote_is_taken_down(ws: Workspace) -> None:
    report = ws.know.personas(None, 0, lang="en")
    quoted = [card for card in report.cards if card.quote is not None]
    assert quoted, "the demo must give some card a quote"
    for card in report.cards:
        assert "quote_by" not in card.to_dict()
        if card.quote_by is not None:
            assert card.quote_by not in card.to_html() + card.to_markdown()
    entry = _Personas(0, datetime.now(UTC), time.monotonic(), report, None)
    reports = PersonaReports()
    assert reports._take_down_quotes(ws, entry) is False  # everyone still allows profiling
    assert entry.report is report

    author = quoted[0].quote_by
    assert author is not None
    consent.record(ws, purpose="profiling", granted=False, wording_version="v1", profile_id=author)
    assert reports._take_down_quotes(ws, entry) is False  # checked a moment ago: not yet
    entry.quotes_checked -= 61
    assert reports._take_down_quotes(ws, entry) is True
    assert entry.report is not None
    after = {card.number: card for card in entry.report.cards}
    assert after[quoted[0].number].quote is None
    for card in quoted[1:]:  # other authors' quotes stay, unless it was the same person
        assert after[card.number].quote == (None if card.quote_by == author else card.quote)
