"""Erasure, the right to be forgotten: a person's data leaves the workspace and stays out.

`erase(workspace, profile_id, actor)`:

1. finds the person's whole merged profile (every identifier of it, the graph brought up to
   date first) and the events it owns (the events whose most trusted identifier is the
   person's, as `profiles` assigns them); the person's identifiers are the profile's and the
   personal ones (scrub.py) their own events carry, even those the graph gave someone else;
2. splits them into the person's own and the *shared* ones: an identifier that another
   person's events carry too (the family tablet, a switchboard number, an address an
   attacker sent first). A shared device or anonymous id is not the person's alone: it stays
   with the others, off the suppression list. A shared *personal* identifier is the person's
   all the same: it is suppressed, and taken out of the other people's events, which stay;
3. puts the identifiers to suppress on the suppression list in memory, so that the writer
   drops (or strips, scrub.py) events carrying them from now on, and waits for what the
   writer already took;
4. in one transaction: deletes the events (with their consent entries) and their vault rows,
   the identity rows, conflicts and overrides of the person, the match reviews naming them or
   their records, and the rows of any other derived table that name their profile ids,
   identifier keys or events (by the column names of `PERSON_COLUMNS`); takes the shared
   personal identifiers out of the events that stay, and the person's raw e-mails and phones
   out of every vault row; stores the suppression hashes; writes the audit record (when,
   who, hashed ids, counts: no personal data);
5. rebuilds the identity graph from what is left of the log, so that it forgets the person.

When the workspace publishes to a Parquet log (`[publish] url`, docs/publish.md), what that
log must lose is recorded beside the workspace before step 4 and applied to every published
and staged file after it (`PublishedCopies`); left pending, and retried, if the log's store
cannot be reached.

Before step 4, every destination that received the person is sent a deletion request
(`workspace.destinations`, activate/destinations/: queued in its outbox, without the
person's profile id, so that step 4 keeps it); the audit record counts them and names each
destination (`destination:<name>`), and the report lists them. Erasure knows destinations only
through the small `Recipients` interface below, which the workspace composes.

See docs/privacy.md, "Erasure", for why shared personal identifiers are not spared.

An unknown person raises `ProfileNotFound` and changes nothing.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import phonenumbers

from empreinte.errors import PrivacyError, ProfileNotFound
from empreinte.identity.model import profile_id_for
from empreinte.privacy.people import Person, locate, lookup_key, raw_identifiers
from empreinte.privacy.scrub import VaultScrubber, is_personal, regions_of_numbers, value_of
from empreinte.publish.erasure import ErasureNotice, SiblingHashes
from empreinte.store.privacy_store import ErasurePlan

if TYPE_CHECKING:
    from empreinte.workspace import Workspace

_erasing = threading.Lock()


class Notice(Protocol):
    @property
    def destinations(self) -> tuple[str, ...]:
        """The destinations a deletion request was queued for."""
        ...


class Recipients(Protocol):
    """What erasure asks of the places data was sent to (the workspace's destinations)."""

    def request_deletion(self, erasure_id: str, profile_ids: Sequence[str]) -> Notice:
        """Queue a deletion request to each one that received one of `profile_ids`."""
        ...

    def cancel_deletion(self, erasure_id: str) -> None:
        """Withdraw them: the erasure failed."""
        ...

    def paused(self) -> AbstractContextManager[object]:
        """Held while the erasure runs: nothing is sent meanwhile."""
        ...


class PublishedCopies(Protocol):
    """What erasure asks of the published Parquet log (publish/collector.py): the rows it
    must lose are recorded before the local commit, applied after it (or later, pending)."""

    def record(self, plan: ErasurePlan, siblings: SiblingHashes) -> None: ...

    def discard(self, erasure_id: str) -> None: ...

    def apply(self) -> None: ...


@dataclass(frozen=True)
class ErasureReport:
    """What an erasure did. `profile_id` is for the caller only: the audit does not keep it."""

    erasure_id: str
    profile_id: str
    counts: Mapping[str, int]
    suppressed: int  # identifiers put on the suppression list
    shared: int  # device and anonymous ids other people's events carry too: kept theirs
    scrubbed: int = 0  # personal ids other people's events carry too: taken out of them
    destinations: tuple[str, ...] = ()  # sent a deletion request: they had received the person

    def to_json(self) -> dict[str, Any]:
        return {
            "erasureId": self.erasure_id,
            "profileId": self.profile_id,
            "counts": dict(self.counts),
            "suppressedIdentifiers": self.suppressed,
            "sharedIdentifiersKept": self.shared,
            "scrubbedIdentifiers": self.scrubbed,
            "destinationsNotified": list(self.destinations),
        }


@dataclass(frozen=True)
class Suppressed:
    """An identifier already on the suppression list: when, and by which erasure."""

    since: datetime
    erasure_id: str


def erase(workspace: Workspace, profile_id: str, actor: str) -> ErasureReport:
    """Erase the person of `profile_id` (following merges); see the module docstring."""
    with _erasing:
        person = locate(workspace, "profileId", profile_id)
        return _erase(workspace, person, actor)


def erase_by(workspace: Workspace, by: str, value: str, actor: str) -> ErasureReport:
    """Erase the person named by an identifier (`by`: profileId, email, phone, userId,
    anonymousId, loyaltyCard)."""
    with _erasing:
        person = locate(workspace, by, value)
        return _erase(workspace, person, actor)


def suppressed(workspace: Workspace, by: str, value: str) -> Suppressed | None:
    """Whether the identifier named by `by`=`value` belongs to an erased person."""
    if by == "profileId":
        return None  # profile ids are not kept: only identifiers, hashed
    key = lookup_key(workspace, by, value)
    entry = workspace.privacy_store.suppression_entry(workspace.suppression.hash(key))
    return Suppressed(*entry) if entry else None


def _erase(workspace: Workspace, person: Person, actor: str) -> ErasureReport:
    if not actor:
        raise PrivacyError("an erasure needs an actor (who asked for it)", "actor")
    store = workspace.privacy_store
    # Read what carries the keys first: every such event is then in the graph when the owned
    # events are read (that read syncs it), so none is mistaken for someone else's.
    store.events_carrying(set(person.keys))
    records = workspace.profiles.events(person.profile_id, include_bots=True)
    owned = {int(r["seq"]) for r in records}
    # The person's identifiers: the profile's, and the personal ones their own events carry
    # even when the graph gave them to someone who sent them first (an attacker's event
    # with the victim's e-mail, before the victim's own).
    keys = set(person.keys) | {
        k for r in records for k in r.get("identifiers") or () if is_personal(k)
    }
    shared: set[str] = set()
    for seq, identifiers in store.events_carrying(keys):
        if seq not in owned:
            shared.update(k for k in identifiers if k in keys)
    exclusive = keys - shared
    personal = {k for k in keys if is_personal(k)}
    scrubbed = personal & shared  # taken out of the other people's events
    kept = shared - personal  # devices and browsers others use too: stay theirs
    salt = workspace.identity.salt
    profile_ids = {person.profile_id} | {profile_id_for(k, salt) for k in keys}
    hashes = {workspace.suppression.hash(k) for k in exclusive | personal}
    shared_hashes = {workspace.suppression.hash(k) for k in scrubbed}
    erasure_id = "er_" + secrets.token_hex(10)
    recipients: Recipients = workspace.destinations
    # No destination round runs from the deletion requests to the commit below: a message
    # about the person cannot leave in between, unrecorded and so never asked back.
    with recipients.paused():
        notified = recipients.request_deletion(erasure_id, sorted(profile_ids)).destinations
        plan = ErasurePlan(
            erasure_id=erasure_id,
            actor=actor,
            seqs=sorted(owned),
            keys=sorted(keys),
            exclusive_keys=sorted(exclusive),
            profile_ids=sorted(profile_ids),
            id_hashes=sorted(hashes),
            shared_hashes=sorted(shared_hashes),
            match_review_ids=_match_reviews(workspace, keys, profile_ids),
            extra_counts={
                "suppressed_identifiers": len(hashes),
                "shared_identifiers": len(kept),
                "scrubbed_identifiers": len(scrubbed),
                "destinations_notified": len(notified),
                **{f"destination:{name}": 1 for name in notified},
            },
            scrub_keys=sorted(scrubbed),
            scrub_values=sorted(value_of(k) for k in scrubbed),
            **_raw_values(workspace, personal, records),
        )
        # From here on the writer drops the person's new events; `flush` waits for the groups it
        # took before, so that the transaction below sees (and deletes) every event of theirs.
        workspace.suppression.add(hashes, shared_hashes)
        # Kept beside the log before the local commit, so that a crash after it cannot leave
        # the published Parquet log holding the person (publish/erasure.py).
        published: PublishedCopies = workspace.published
        try:
            sole = sorted(workspace.suppression.hash(k) for k in exclusive & personal)
            published.record(plan, SiblingHashes(sorted(hashes), sorted(shared_hashes), sole))
            workspace.flush()
            counts = store.erase(plan)
        except BaseException:
            workspace.suppression.discard(hashes)
            recipients.cancel_deletion(erasure_id)
            published.discard(erasure_id)
            raise
    published.apply()
    workspace.drop_published_snapshots()  # copies of published rows (store/spark/published.py)
    workspace.identity.rebuild()
    workspace.policy.pseudonymiser.forget()
    return ErasureReport(
        plan.erasure_id,
        person.profile_id,
        counts,
        len(hashes),
        len(kept),
        len(scrubbed),
        notified,
    )


def adopt_published(workspace: Workspace) -> list[ErasureReport]:
    """Make this workspace's own the erasures other collectors of its published log made
    (docs/publish.md, "Erasure on every collector"): a person erased on one collector is
    erased from every sibling's log too, and refused at every sibling's door from then on.

    For each notice not yet adopted: every local profile holding a personal identifier the
    person alone carried there (matched by suppression hash: the notice holds no key) is
    erased here, by the local rules (what it shares with other people here is scrubbed, not
    erased); then every hash of the notice joins the local suppression list, for identifiers
    this collector has not seen yet. Both are audited with the other collector's name."""
    notices = workspace.published.notices_to_adopt()
    if not notices:
        return []
    with workspace.analytics("duckdb") as log:
        identities = log.to_pyarrow(log.table("identities").select("id_key", "profile_id"))
    owner_of_hash = {
        workspace.suppression.hash(key): profile
        for key, profile in zip(
            identities["id_key"].to_pylist(), identities["profile_id"].to_pylist(), strict=True
        )
        if is_personal(key)
    }
    reports: list[ErasureReport] = []
    for notice in notices:
        reports.extend(_adopt(workspace, notice, owner_of_hash))
        workspace.published.adopted(notice.erasure_id)
    # Even with no local profile of theirs: the snapshots copied the published log's rows.
    workspace.drop_published_snapshots()
    return reports


def _adopt(
    workspace: Workspace, notice: ErasureNotice, owner_of_hash: Mapping[str, str]
) -> list[ErasureReport]:
    actor = f"collector {notice.collector} (erasure {notice.erasure_id})"
    reports = []
    for profile_id in sorted({owner_of_hash[h] for h in notice.hashes.erase if h in owner_of_hash}):
        try:
            reports.append(erase(workspace, profile_id, actor))
        except ProfileNotFound:
            continue  # erased already (an earlier notice named the same person)
    known = workspace.privacy_store.suppressed_hashes()
    missing = sorted(set(notice.hashes.suppress) - known)
    if missing:
        shared = sorted(set(notice.hashes.shared) & set(missing))
        with _erasing:
            workspace.suppression.add(missing, shared)
            workspace.privacy_store.erase(
                ErasurePlan(
                    erasure_id="er_" + secrets.token_hex(10),
                    actor=actor,
                    seqs=[],
                    keys=[],
                    exclusive_keys=[],
                    profile_ids=[],
                    id_hashes=missing,
                    match_review_ids=[],
                    extra_counts={"suppressed_identifiers": len(missing)},
                    shared_hashes=shared,
                )
            )
    return reports


def _raw_values(
    workspace: Workspace, personal: set[str], records: list[dict[str, Any]]
) -> dict[str, Any]:
    """What the plan needs to take the person's e-mails and phones out of every event and
    vault row: their pseudonyms, the texts a vault row holding them contains (an address in
    lower case, a number's national digits), and the rewrite of such a row."""
    wanted = {k for k in personal if k.startswith(("email:", "phone:"))}
    raw = raw_identifiers(workspace, wanted, records)
    texts, digits, numbers = [], [], []
    for key, value in raw.items():
        if key.startswith("email:"):
            texts.append(value.lower())
            continue
        numbers.append(value)
        try:
            digits.append(str(phonenumbers.parse(value).national_number))
        except phonenumbers.NumberParseException:
            continue
    regions = [workspace.policy.default_region, *regions_of_numbers(numbers)]
    vault = VaultScrubber(workspace.policy.pseudonymiser, wanted.__contains__, regions)
    return {
        "pseudonyms": sorted(value_of(k) for k in wanted),
        "vault_texts": sorted(texts),
        "vault_digits": sorted(digits),
        "vault_scrub": vault.values,
    }


def _match_reviews(workspace: Workspace, keys: set[str], profile_ids: set[str]) -> list[str]:
    """Match reviews that name the person: one of their profile ids, one of their records
    (the keys an accepted match writes), or the identifier a review links to."""
    out = []
    reviews = workspace.privacy_store.match_reviews()
    for review_id, record_id, other_id, profile_id, detail in reviews:
        id_type = str(detail.get("id_type") or "")
        records = [r for r in (record_id, other_id) if r]
        named = (
            {f"external:{id_type}={r}" for r in records}
            | {f"matched_record:{id_type}={r}" for r in records}
            | {f"anonymous_id:{id_type}:{r}" for r in records}
        )
        named |= set(_link_keys(workspace, detail.get("link")))
        if (profile_id in profile_ids) or (named & keys):
            out.append(review_id)
    return out


def _link_keys(workspace: Workspace, link: Any) -> Iterable[str]:
    if not isinstance(link, Mapping):
        return
    for by, value in link.items():
        if isinstance(value, str) and by in ("userId", "email", "phone"):
            try:
                yield lookup_key(workspace, by, value)
            except PrivacyError:
                continue


__all__ = [
    "ErasureReport",
    "ProfileNotFound",
    "Suppressed",
    "adopt_published",
    "erase",
    "erase_by",
    "suppressed",
]
