"""Survey comments in the log: the customer's phone, e-mail and card numbers are redacted at
ingestion (privacy/text_pii/); the comment as written is kept nowhere, not even in the
vault (only sealed, when an admin opted in: tests/voc/ingest/)."""

from __future__ import annotations

from datetime import UTC, datetime

from empreinte.privacy import erasure
from empreinte.workspace import Workspace

from .conftest import at

WRITTEN = (
    "Colis perdu. Rappelez-moi au 06 12 34 56 78 ou écrivez à jane.doe@example.com ; "
    "remboursez la carte 4111 1111 1111 1111."
)
MASKED = "Colis perdu. Rappelez-moi au <PHONE> ou écrivez à <EMAIL> ; remboursez la carte <CARD>."


def test_a_comment_is_stored_redacted_and_its_text_as_written_is_kept_nowhere(
    ws: Workspace,
) -> None:
    answer = {
        "type": "track",
        "event": "NPS Answered",
        "userId": "u-jane",
        "timestamp": at(1),
        "properties": {"score": 2, "comment": WRITTEN, "survey_id": "nps-delivery"},
    }
    assert not ws.ingest([answer], source="web").rejected
    ws.flush()
    (stored,) = ws.events(event="NPS Answered")
    assert stored["properties"]["comment"] == MASKED
    (raw,) = ws.events(event="NPS Answered", pii=True)
    assert raw["properties"]["comment"] == MASKED  # an admin's view: nothing to put back
    # the closed-loop list shows the masked text
    (low,) = ws.cx.detractors(days=30, until=datetime(2025, 1, 2, tzinfo=UTC))
    assert low.comment == MASKED

    report = erasure.erase_by(ws, "userId", "u-jane", "dpo")
    assert report.counts["events"] == 1 and report.counts["vault_rows"] == 0
    assert ws.events(event="NPS Answered", pii=True) == []
