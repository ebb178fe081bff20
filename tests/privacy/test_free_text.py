"""Survey comments in the log: the customer's phone, e-mail and card numbers are masked at
ingestion, the comment as written kept in the vault for admins and erased with the person."""

from __future__ import annotations

from datetime import UTC, datetime

from empreinte.privacy import erasure
from empreinte.workspace import Workspace

from .conftest import at

WRITTEN = (
    "Colis perdu. Rappelez-moi au 06 12 34 56 78 ou écrivez à jane.doe@example.com ; "
    "remboursez la carte 4111 1111 1111 1111."
)
MASKED = "Colis perdu. Rappelez-moi au [phone] ou écrivez à [email] ; remboursez la carte [card]."


def test_a_comment_is_stored_masked_and_read_back_as_written_only_from_the_vault(
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
    assert raw["properties"]["comment"] == WRITTEN
    # the closed-loop list shows the masked text
    (low,) = ws.cx.detractors(days=30, until=datetime(2025, 1, 2, tzinfo=UTC))
    assert low.comment == MASKED

    report = erasure.erase_by(ws, "userId", "u-jane", "dpo")
    assert report.counts["vault_rows"] == 1
    assert ws.events(event="NPS Answered", pii=True) == []
