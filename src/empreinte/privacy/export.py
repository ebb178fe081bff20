"""Access and portability: everything the workspace holds about one person, as one JSON document.

The document (`format` "empreinte.export/1") holds, with raw personal values:
- `identifiers`: every identifier of the person's merged profile, with its raw value (read
  back from the vault for e-mails and phones, which the log keeps as pseudonyms);
- `profile`: the unified profile (traits merged across identities with their history, and
  the computed traits), as `GET /api/profiles/{id}` shows it to an admin;
- `consent`: the state of every purpose and the whole consent history;
- `events`: every event the profile owns, oldest first, in the shape of a Segment message,
  with the raw values put back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from empreinte.privacy import consent
from empreinte.privacy.people import raw_identifiers
from empreinte.privacy.pii import rehydrate, without_vault
from empreinte.profiles.views import event_json, profile_json

if TYPE_CHECKING:
    from empreinte.workspace import Workspace

FORMAT = "empreinte.export/1"


def export(workspace: Workspace, profile_id: str) -> dict[str, Any]:
    """The export document of the person of `profile_id` (following merges);
    `ProfileNotFound` when unknown."""
    profiles = workspace.profiles
    current = profiles.current(profile_id)
    records = workspace.identity.identifiers(current)
    events = profiles.events(current, include_bots=True)
    raw = raw_identifiers(workspace, [r.id_key for r in records], events)
    profile = profiles.get(current, pii=True)
    return {
        "format": FORMAT,
        "exportedAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "profileId": current,
        "identifiers": [
            {"type": r.id_type, "value": raw.get(r.id_key), "key": r.id_key} for r in records
        ],
        "profile": profile_json(profile),
        "consent": consent.ledger(workspace, current).to_json(),
        "events": [event_json(without_vault(rehydrate(e))) for e in events],
    }
