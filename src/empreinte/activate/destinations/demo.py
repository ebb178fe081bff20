"""The demo's destination (`empreinte demo` calls `seed_demo`): the frequent buyers who allow
marketing e-mails, exported as CSV to `exports/crm/crm-export.csv` inside the demo workspace,
as a CRM would pick up its audience file — so that a newcomer sees a destination, its
deliveries and its file at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from empreinte.activate.destinations.model import Created, RoundReport
from empreinte.errors import SegmentNotFound

if TYPE_CHECKING:
    from empreinte.workspace import Workspace

SEGMENT = "frequent-buyers"
EXPRESSION = 'did("Order Completed", count>=3)'
NAME = "crm-export"


def seed_demo(ws: Workspace) -> tuple[Created, list[RoundReport]]:
    """Save the segment (when absent), add the CSV destination and write its first file."""
    try:
        ws.segments.get(SEGMENT)
    except SegmentNotFound:
        ws.segments.create(
            SEGMENT,
            EXPRESSION,
            description="Bought three times or more (the demo's CRM audience)",
            by="demo",
        )
    created = ws.destinations.add(
        NAME,
        "csv",
        purpose="marketing_email",
        directory="crm",
        segments=[SEGMENT],
        traits=["country", "preferred_channel"],
        by="demo",
    )
    return created, ws.destinations.sync(NAME)
