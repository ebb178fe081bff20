"""What privacy keeps in storage, engine-neutral: the records and the `PrivacyStore` interface
(users, the suppression list and its counts, erasure, the erasure audit, the consent entries
of the log). DuckDB's SQL for it is store/duckdb/privacy_store.py; `privacy/` holds the rules.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

CONSENT_EVENT = "Consent Updated"
#: What an erased person's identifier becomes in the payloads of the events that stay.
ERASED = "[erased]"

#: Column name → what it holds, for the derived tables erasure finds by itself.
PERSON_COLUMNS: Mapping[str, str] = {
    "profile_id": "profile",
    "other_profile_id": "profile",
    "id_key": "key",
    "seq": "seq",
}


@dataclass(frozen=True)
class StoredUser:
    username: str
    role: str
    created_at: datetime
    disabled_at: datetime | None


@dataclass(frozen=True)
class ErasurePlan:
    """What one erasure deletes and records.

    `seqs`: the events the person's profile owns; `keys`: every identifier key of the profile;
    `exclusive_keys`: those no other person's event carries (events carrying them are deleted
    too, even if they arrived after `seqs` was read); `profile_ids`: every id the profile had;
    `id_hashes`: the suppression hashes (the exclusive keys and the personal ones), of which
    `shared_hashes` those of keys other people's events carry too; `match_review_ids`: the
    match reviews naming the person.

    Scrubbing what stays (privacy/scrub.py): `scrub_keys`, the person's personal identifiers
    that other people's events carry too, leave those events' identifier lists, their values
    (`scrub_values`) their payloads and userId column; `pseudonyms`, those of the person's
    e-mails and phones, leave every event's payloads. A vault row that may hold one of the
    person's raw values (`vault_texts` in its lower-case text, or `vault_digits` among its
    digits) is rewritten by `vault_scrub` (path → raw value in, what may stay out).
    """

    erasure_id: str
    actor: str
    seqs: Sequence[int]
    keys: Sequence[str]
    exclusive_keys: Sequence[str]
    profile_ids: Sequence[str]
    id_hashes: Sequence[str]
    match_review_ids: Sequence[str]
    extra_counts: Mapping[str, int] = field(default_factory=dict)
    shared_hashes: Sequence[str] = ()
    scrub_keys: Sequence[str] = ()
    scrub_values: Sequence[str] = ()
    pseudonyms: Sequence[str] = ()
    vault_texts: Sequence[str] = ()
    vault_digits: Sequence[str] = ()
    vault_scrub: Callable[[dict[str, Any]], dict[str, Any]] | None = None


@dataclass(frozen=True)
class ConsentRow:
    """A `Consent Updated` event of the log, as the ledger reads it."""

    seq: int
    message_id: str
    source: str
    timestamp: datetime  # what the sender says
    received_at: datetime  # when the server received it
    properties: dict[str, Any]
    identifiers: list[str]
    user_id: str | None = None
    anonymous_id: str | None = None


@dataclass(frozen=True)
class ConsentRule:
    """How the ledger weighs the entries of one purpose (the rule is privacy/consent.py's):
    a revocation always counts; a grant counts from any source, or from a `trusted` one only
    when `needs_trust`, and then only confirmed when `double_opt_in`. Entries are ordered by
    when the server received them, or for a trusted source by the time it gives, never later
    than its arrival; entries that arrived together by the time they give."""

    purpose: str
    trusted: frozenset[str]
    needs_trust: bool
    double_opt_in: bool


class PrivacyStore(Protocol):
    """The privacy tables of a workspace: users, suppression, erasure, consent entries."""

    def user(self, username: str) -> tuple[str, str] | None:
        """(password hash, role) of an active user, or None."""
        ...

    def add_user(self, username: str, password_hash: str, role: str) -> None: ...

    def users(self) -> list[StoredUser]: ...

    def disable_user(self, username: str) -> bool:
        """Disable an active user; False when there is none of that name."""
        ...

    def end_session(self, token_hash: str, expires_at: datetime) -> None:
        """Remember that the session whose token has this digest was ended (kept until it
        would have expired; expired ones are forgotten here)."""
        ...

    def session_ended(self, token_hash: str) -> bool: ...

    def suppressed_hashes(self) -> set[str]: ...

    def shared_hashes(self) -> set[str]:
        """The suppressed hashes of identifiers other people's events carried too."""
        ...

    def suppression_entry(self, id_hash: str) -> tuple[datetime, str] | None:
        """(when, erasure id) of a suppressed hash."""
        ...

    def count_suppressed(self, counts: Mapping[tuple[date, str], int]) -> None:
        """Add to the per-day, per-source counts of events dropped by suppression."""
        ...

    def suppressed_counts(self) -> list[tuple[date, str, int]]: ...

    def derived_tables(self) -> dict[str, list[str]]:
        """Tables not handled by name that hold a person column, with those columns."""
        ...

    def match_reviews(self) -> list[tuple[str, str, str | None, str | None, dict[str, Any]]]:
        """(review_id, record_id, other_record_id, profile_id, detail) of every review."""
        ...

    def erase(self, plan: ErasurePlan) -> dict[str, int]:
        """Delete the plan's events, their vault rows and every derived row naming the
        person, scrub the person's identifiers from the events and vault rows that stay,
        suppress the hashes and write the audit record, in one transaction. Returns what was
        deleted and scrubbed (the audit's counts)."""
        ...

    def events_carrying(self, keys: Collection[str]) -> list[tuple[int, list[str]]]:
        """(seq, identifiers) of every event carrying one of `keys`."""
        ...

    def erasures(self) -> list[dict[str, Any]]:
        """Every erasure's audit record, oldest first."""
        ...

    def erasure_count(self) -> int:
        """How many erasures were made (what caches of reports are keyed by)."""
        ...

    def consent_rows(
        self,
        keys: Collection[str],
        *,
        owner: str,
        ranks: Mapping[str, int],
        cut: Collection[str] = (),
    ) -> list[ConsentRow]:
        """The `Consent Updated` events that carry one of `keys` and that profile `owner`
        owns (their most trusted identifier is its), in log order."""
        ...

    def consent_rows_with_token(self, token_hash: str) -> list[ConsentRow]:
        """The `Consent Updated` events naming a confirmation token (by its hash)."""
        ...

    def consent_decisions(
        self,
        rule: ConsentRule,
        *,
        ranks: Mapping[str, int],
        cut: Collection[str] = (),
    ) -> dict[str, bool]:
        """Profile id → whether its latest decisive entry for `rule.purpose` grants it."""
        ...

    def profile_ids(self) -> set[str]:
        """Every current profile id."""
        ...


def compact_database(path: Path) -> tuple[int, int]:
    """Rewrite a workspace's database file with its live rows only, so that erased data is
    gone from the file too; (bytes before, after). Needs the workspace to itself."""
    from empreinte.store.duckdb.privacy_store import compact_database as compact

    return compact(path)
