"""Access and portability: everything the workspace holds about one person, as one JSON document.

The document (`format` "empreinte.export/1") holds, with raw personal values:
- `identifiers`: every identifier of the person's merged profile, with its raw value (read
  back from the vault for e-mails and phones, which the log keeps as pseudonyms);
- `profile`: the unified profile (traits merged across identities with their history, and
  the computed traits), as `GET /api/profiles/{id}` shows it to an admin;
- `consent`: the state of every purpose and the whole consent history;
- `events`: every event the profile owns, oldest first, in the shape of a Segment message,
  with the raw values put back; a conversation or verbatim whose original an admin opted to
  keep (privacy/text_originals.py) carries it, decrypted, under `originals` — each read audited
  like an admin's `voc originals show` (action `export`);
- `originals`: how many originals are included, and how many could not be (expired, or a
  read-only copy of the database beside a running server, where a read could not be audited).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from empreinte.errors import OriginalUnavailable
from empreinte.privacy import consent
from empreinte.privacy.people import raw_identifiers
from empreinte.privacy.pii import rehydrate, without_vault
from empreinte.privacy.text_originals import VAULT_KEY as SEALED_ORIGINALS
from empreinte.profiles.views import event_json, profile_json
from empreinte.store.voc_originals_store import OriginalsAuditEntry

if TYPE_CHECKING:
    from empreinte.workspace import Workspace

FORMAT = "empreinte.export/1"


def export(
    workspace: Workspace, profile_id: str, *, actor: str = "system", originals: bool = True
) -> dict[str, Any]:
    """The export document of the person of `profile_id` (following merges), made for `actor`
    (the audit's name); `originals=False` withholds the kept originals of texts (counted).
    `ProfileNotFound` when unknown."""
    profiles = workspace.profiles
    current = profiles.current(profile_id)
    records = workspace.identity.identifiers(current)
    events = profiles.events(current, include_bots=True)
    raw = raw_identifiers(workspace, [r.id_key for r in records], events)
    profile = profiles.get(current, pii=True)
    exported, counts = _with_originals(workspace, events, actor, originals)
    return {
        "format": FORMAT,
        "exportedAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "profileId": current,
        "identifiers": [
            {"type": r.id_type, "value": raw.get(r.id_key), "key": r.id_key} for r in records
        ],
        "profile": profile_json(profile),
        "consent": consent.ledger(workspace, current).to_json(),
        "events": exported,
        "originals": counts,
    }


def _with_originals(
    workspace: Workspace, events: list[dict[str, Any]], actor: str, read: bool
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The events as exported, each with its decrypted originals when kept and readable, and
    the counts: `included`, `expired`, `withheld` (not read)."""
    vault = workspace.policy.originals
    store = workspace.engine.voc_originals_store()
    counts = {"included": 0, "expired": 0, "withheld": 0}
    exported = []
    for event in events:
        document = event_json(without_vault(rehydrate(event)))
        sealed = (event.get("pii") or {}).get(SEALED_ORIGINALS)
        if isinstance(sealed, str):
            if not read or vault is None:
                counts["withheld"] += 1
            else:
                try:
                    document["originals"] = vault.open(sealed)
                    outcome = "shown"
                except OriginalUnavailable:
                    outcome = "expired"
                counts["included" if outcome == "shown" else "expired"] += 1
                store.record(
                    OriginalsAuditEntry(datetime.now(UTC), actor, "export", event["seq"], outcome)
                )
        exported.append(document)
    return exported, counts
