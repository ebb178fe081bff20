"""The consent ledger: what each person agreed to, per purpose, read from the event log.

Every capability that personalises, scores, profiles or contacts a person asks first:

    from empreinte.privacy.consent import allowed, allowed_profiles

    if allowed(workspace, profile_id, "marketing_email"): ...
    audience = segment_ids & allowed_profiles(workspace, "marketing_email")

The ledger is not a table: it is the `Consent Updated` events of the log (from any source, or
written by `record` through the workspace with source "api"), so the log stays the single
source of truth and erasure removes a person's consent history with their events.

Whoever holds a write key can send any event: write keys sit in every web page. So what an
entry may decide depends on who sent it (docs/privacy.md, the threat model). Trusted sources
are the workspace's own ("api": the server's consent endpoints; "python": code holding the
workspace) and those the operator lists in `[consent] trusted_sources` (a CRM, a call
centre); every other source, a browser's above all, is untrusted.

Semantics (docs/privacy.md tells them to users):
- An entry is a `track` event named "Consent Updated" with properties `purpose` (one of
  `PURPOSES`), `granted` (a JSON boolean), `wording_version` (which text the person saw),
  `source` (where it was collected; the event's source when absent), and for a grant of a
  double opt-in purpose, `confirmation` ("pending" or "confirmed"). Entries with an unknown
  purpose or a `granted` that is not a boolean are ignored (shown as such in the history).
- A person's entries are those of every event their profile owns (the events whose most
  trusted identifier belongs to the profile, as `profiles` assigns them): all the identifiers
  of their merged profile count, and a shared device does not lend one person's consent to
  another.
- Per purpose the latest *decisive* entry wins, by its time, then a revocation before a grant
  at the same instant, then log order. An entry's time is when the server received it; a
  trusted source's own date is believed (imports of a history), but never later than its
  arrival: a grant dated 2099 cannot outlive a later withdrawal. Entries that arrived
  together (one batch, so one sender) keep the order of the dates they give.
- A revocation is always decisive, from any source, and takes effect as soon as it is
  written. A grant of a non-marketing purpose is decisive from any source (a cookie banner);
  a grant of a marketing purpose only from a trusted source, and for a double opt-in purpose
  (`marketing_email`) only confirmed: a pending grant changes nothing until its token comes
  back (`confirm`), and never undoes an earlier confirmed grant. Tokens are made by the server
  (`record`) and only its own pending entries can be confirmed; a "confirmed" sent by an
  untrusted source is ignored, and the history says why.
- Silence is a no. Marketing purposes (`marketing_email`, `marketing_sms`) are opt-in only;
  the other purposes default to no as well, unless the workspace's `[consent] defaults`
  say otherwise (e.g. `{ analytics = true }`, for a legal basis other than consent).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from empreinte.credentials import INTERNAL_SOURCES, SERVER_SOURCE
from empreinte.errors import ConfigError, ConsentError, PrivacyError, ProfileNotFound
from empreinte.privacy.people import lookup_key
from empreinte.privacy.pii import rehydrate
from empreinte.store.privacy_store import CONSENT_EVENT, ConsentRow, ConsentRule
from empreinte.store.records import EventFilter

if TYPE_CHECKING:
    from empreinte.profiles.profile import Profiles
    from empreinte.workspace import Workspace


class Purpose(StrEnum):
    ANALYTICS = "analytics"
    PERSONALISATION = "personalisation"
    MARKETING_EMAIL = "marketing_email"
    MARKETING_SMS = "marketing_sms"
    PROFILING = "profiling"


PURPOSES: tuple[str, ...] = tuple(p.value for p in Purpose)
#: Opt-in only: never granted by default.
MARKETING = frozenset({Purpose.MARKETING_EMAIL.value, Purpose.MARKETING_SMS.value})
#: A grant counts only once confirmed (a token sent to the person came back).
DOUBLE_OPT_IN = frozenset({Purpose.MARKETING_EMAIL.value})
assert DOUBLE_OPT_IN <= MARKETING  # confirmation is a further condition on a trusted grant
CONFIRMATION_DAYS = 30
TOKEN_PREFIX = "cnf_"
API_SOURCE = SERVER_SOURCE
PENDING = "pending"
CONFIRMED = "confirmed"
MAX_TEXT = 200


class Status(StrEnum):
    GRANTED = "granted"
    REVOKED = "revoked"
    PENDING = "pending"  # a double opt-in grant waits for its confirmation
    NOT_GIVEN = "not_given"  # silence: no decisive entry, and no
    DEFAULT = "default"  # silence, and the workspace's default for the purpose is yes


def purpose_of(value: Any) -> str:
    """A valid purpose name; `ConsentError` (field "purpose") otherwise."""
    if isinstance(value, str) and value in PURPOSES:
        return value
    raise ConsentError(
        f"unknown purpose {value!r}; the purposes are {', '.join(PURPOSES)}", "purpose"
    )


# -- policy ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentPolicy:
    """The workspace's defaults for non-marketing purposes when a person said nothing, and
    the sources it trusts besides its own."""

    defaults: Mapping[str, bool] = field(default_factory=lambda: MappingProxyType({}))
    trusted_sources: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for source in self.trusted_sources:
            if not isinstance(source, str) or not source:
                raise ConfigError(f"[consent] trusted_sources: {source!r} is not a source name")
        for purpose, value in self.defaults.items():
            if purpose not in PURPOSES:
                raise ConfigError(
                    f"[consent] defaults: unknown purpose {purpose!r}; "
                    f"the purposes are {', '.join(PURPOSES)}"
                )
            if not isinstance(value, bool):
                raise ConfigError(f"[consent] defaults: {purpose} must be true or false")
            if value and purpose in MARKETING:
                raise ConfigError(
                    f"[consent] defaults: {purpose} is marketing, which is opt-in only: "
                    "it cannot default to true"
                )
        object.__setattr__(self, "defaults", MappingProxyType(dict(self.defaults)))

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any] | None) -> ConsentPolicy:
        """From the `[consent]` section of `empreinte.toml`: `defaults = { analytics = true }`."""
        section = section or {}
        unknown = sorted(set(section) - {"defaults", "trusted_sources"})
        if unknown:
            raise ConfigError(f"[consent]: unknown setting(s) {', '.join(unknown)}")
        defaults = section.get("defaults", {})
        if not isinstance(defaults, Mapping):
            raise ConfigError("[consent] defaults must be a table, e.g. { analytics = true }")
        trusted = section.get("trusted_sources", [])
        if not isinstance(trusted, list):
            raise ConfigError('[consent] trusted_sources must be a list, e.g. ["crm"]')
        return cls(defaults, frozenset(trusted))

    def default(self, purpose: str) -> bool:
        return bool(self.defaults.get(purpose, False))

    @cached_property
    def trusted(self) -> frozenset[str]:
        """Every trusted source: the workspace's own and `trusted_sources`."""
        return INTERNAL_SOURCES | self.trusted_sources

    def trusts(self, source: str) -> bool:
        """Whether entries from `source` may grant marketing and date themselves."""
        return source in self.trusted

    def rule(self, purpose: str) -> ConsentRule:
        """The rule of `purpose`, for the engine's bulk decisions."""
        return ConsentRule(
            purpose,
            self.trusted,
            needs_trust=purpose in MARKETING,
            double_opt_in=purpose in DOUBLE_OPT_IN,
        )


def policy_of(workspace: Workspace) -> ConsentPolicy:
    return ConsentPolicy.from_mapping(workspace.config.consent)


# -- entries and decisions -------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentEntry:
    """One entry of the ledger (one `Consent Updated` event)."""

    seq: int
    message_id: str
    at: datetime  # the time the sender gave
    received_at: datetime  # when the server received it
    purpose: str | None
    granted: bool | None
    source: str  # where the consent was collected, as the sender says
    wording_version: str | None
    confirmation: str | None
    log_source: str  # the source that sent the event (its write key's, or the server's own)
    trusted: bool  # whether `log_source` is trusted
    recorded_by: str | None = None  # the user or token that recorded it through the server
    problem: str | None = None  # why the entry is ignored, when it is

    @property
    def decisive(self) -> bool:
        """Whether the entry decides its purpose: a valid revocation, or a valid grant that
        needs no confirmation or is confirmed."""
        if self.problem is not None:
            return False
        if not self.granted:
            return True
        return self.purpose not in DOUBLE_OPT_IN or self.confirmation == CONFIRMED

    @property
    def effective(self) -> datetime:
        """When the entry takes its place in the history: its arrival, or for a trusted source
        the date it gives, never later than its arrival."""
        return min(self.at, self.received_at) if self.trusted else self.received_at

    @property
    def order(self) -> tuple[datetime, datetime, bool, int]:
        """Later entries sort higher. Entries that arrived together (one batch: one sender)
        keep the order of the dates they give; at the same instant a revocation beats a
        grant."""
        return (self.effective, min(self.at, self.received_at), not self.granted, self.seq)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "at": _iso(self.at),
            "receivedAt": _iso(self.received_at),
            "purpose": self.purpose,
            "granted": self.granted,
            "source": self.source,
            "sentBy": self.log_source,
            "trusted": self.trusted,
            "wordingVersion": self.wording_version,
            "messageId": self.message_id,
        }
        if self.recorded_by is not None:
            doc["recordedBy"] = self.recorded_by
        if self.confirmation is not None:
            doc["confirmation"] = self.confirmation
        if self.problem is not None:
            doc["ignored"] = self.problem
        return doc


def entry_of(row: ConsentRow, policy: ConsentPolicy) -> ConsentEntry:
    """The ledger's reading of a `Consent Updated` event."""
    props = row.properties
    purpose = props.get("purpose")
    granted = props.get("granted")
    trusted = policy.trusts(row.source)
    problem = None
    if not isinstance(purpose, str) or purpose not in PURPOSES:
        problem = f"unknown purpose {purpose!r}"
    elif not isinstance(granted, bool):
        problem = f"granted must be true or false, not {granted!r}"
    elif granted and purpose in MARKETING and not trusted:
        problem = (
            f"a grant of {purpose} from source {row.source!r}, which is not trusted, does not "
            "count: record it through the server (/api/consent) or a trusted source"
        )
    source = props.get("source")
    wording = props.get("wording_version")
    confirmation = props.get("confirmation")
    recorded_by = props.get("recorded_by") if row.source == SERVER_SOURCE else None
    return ConsentEntry(
        seq=row.seq,
        message_id=row.message_id,
        at=row.timestamp,
        received_at=row.received_at,
        purpose=purpose if isinstance(purpose, str) else None,
        granted=granted if isinstance(granted, bool) else None,
        source=source if isinstance(source, str) and source else row.source,
        wording_version=None if wording is None else str(wording),
        confirmation=confirmation if isinstance(confirmation, str) else None,
        log_source=row.source,
        trusted=trusted,
        recorded_by=recorded_by if isinstance(recorded_by, str) else None,
        problem=problem,
    )


@dataclass(frozen=True)
class PurposeState:
    """Where one purpose stands for one person."""

    purpose: str
    allowed: bool
    status: Status
    decided_by: ConsentEntry | None  # the latest decisive entry
    pending: ConsentEntry | None = None  # a later grant awaiting confirmation

    def to_json(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "status": self.status.value,
            "since": _iso(self.decided_by.at) if self.decided_by else None,
            "source": self.decided_by.source if self.decided_by else None,
            "wordingVersion": self.decided_by.wording_version if self.decided_by else None,
            "pendingSince": _iso(self.pending.at) if self.pending else None,
        }


def decide(purpose: str, entries: Sequence[ConsentEntry], policy: ConsentPolicy) -> PurposeState:
    """The state of `purpose` given a person's entries (the rule of the module docstring)."""
    mine = [e for e in entries if e.problem is None and e.purpose == purpose]
    latest = max((e for e in mine if e.decisive), key=lambda e: e.order, default=None)
    if latest is not None and latest.granted:
        return PurposeState(purpose, True, Status.GRANTED, latest)
    pending = max(
        (
            e
            for e in mine
            if e.granted and not e.decisive and (latest is None or e.order > latest.order)
        ),
        key=lambda e: e.order,
        default=None,
    )
    if pending is not None:
        return PurposeState(purpose, False, Status.PENDING, latest, pending)
    if latest is not None:
        return PurposeState(purpose, False, Status.REVOKED, latest)
    default = policy.default(purpose)
    return PurposeState(purpose, default, Status.DEFAULT if default else Status.NOT_GIVEN, None)


@dataclass(frozen=True)
class Ledger:
    """A person's consent: every entry (log order) and the state of every purpose."""

    profile_id: str
    entries: tuple[ConsentEntry, ...]
    states: Mapping[str, PurposeState]

    def allowed(self, purpose: str) -> bool:
        return self.states[purpose_of(purpose)].allowed

    def to_json(self) -> dict[str, Any]:
        return {
            "profileId": self.profile_id,
            "purposes": {p: s.to_json() for p, s in self.states.items()},
            "history": [e.to_json() for e in self.entries],
        }


# -- reading ---------------------------------------------------------------------------------


def _owned_rows(workspace: Workspace, profile_id: str) -> tuple[str, list[ConsentRow]]:
    profiles: Profiles = workspace.profiles
    current = profiles.current(profile_id)  # brings the graph up to date; ProfileNotFound
    keys = [r.id_key for r in workspace.identity.identifiers(current)]
    if not keys:
        raise ProfileNotFound(f"no profile {profile_id!r}")
    ownership = profiles.ownership()
    rows = workspace.privacy_store.consent_rows(
        keys, owner=current, ranks=ownership.ranks, cut=ownership.cut
    )
    return current, rows


def ledger(workspace: Workspace, profile_id: str) -> Ledger:
    """The consent ledger of a profile (following merges); `ProfileNotFound` if unknown."""
    current, rows = _owned_rows(workspace, profile_id)
    policy = policy_of(workspace)
    entries = tuple(entry_of(r, policy) for r in rows)
    return Ledger(current, entries, {p: decide(p, entries, policy) for p in PURPOSES})


def allowed(workspace: Workspace, profile_id: str, purpose: str) -> bool:
    """THE question to ask before personalising, scoring, profiling, contacting or exporting
    for a purpose: whether the person of `profile_id` allows `purpose` now. An unknown
    profile allows nothing. `ConsentError` for an unknown purpose."""
    checked = purpose_of(purpose)
    try:
        return ledger(workspace, profile_id).allowed(checked)
    except ProfileNotFound:
        return False


def allowed_profiles(workspace: Workspace, purpose: str) -> frozenset[str]:
    """The ids of every profile that allows `purpose` now (the bulk form of `allowed`, for
    segments and audiences), computed in the engine from the same rule."""
    checked = purpose_of(purpose)
    profiles: Profiles = workspace.profiles
    workspace.identity.sync()
    ownership = profiles.ownership()
    store = workspace.privacy_store
    policy = policy_of(workspace)
    decisions = store.consent_decisions(
        policy.rule(checked), ranks=ownership.ranks, cut=ownership.cut
    )
    if policy.default(checked):
        refused = {p for p, granted in decisions.items() if not granted}
        return frozenset(store.profile_ids() - refused)
    return frozenset(p for p, granted in decisions.items() if granted)


def consent_state(workspace: Workspace, purposes: Sequence[str]) -> pa.Table:
    """The rows of the engine table `consent_state` (profile_id, purpose, allowed) as
    `allowed_profiles` answers them, purpose by purpose (after the identity sync). The table
    itself is built by analytics/consent_state.py (one expression, Spark's too); this is the
    reference its tests and bench/consent_state.py hold it to."""
    workspace.identity.sync()  # before listing the profiles, not only before each purpose
    everyone = sorted(workspace.privacy_store.profile_ids())
    columns: dict[str, list[Any]] = {"profile_id": [], "purpose": [], "allowed": []}
    for purpose in purposes:
        allowed = allowed_profiles(workspace, purpose)
        columns["profile_id"] += everyone
        columns["purpose"] += [purpose_of(purpose)] * len(everyone)
        columns["allowed"] += [profile in allowed for profile in everyone]
    return pa.table(
        {
            "profile_id": pa.array(columns["profile_id"], pa.string()),
            "purpose": pa.array(columns["purpose"], pa.string()),
            "allowed": pa.array(columns["allowed"], pa.bool_()),
        }
    )


# -- writing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    """An entry written to the log. `token` (double opt-in grants only) is shown once: it is
    stored only as a hash, and comes back through `confirm`."""

    message_id: str
    purpose: str
    granted: bool
    status: Status
    token: str | None = None
    token_expires_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "messageId": self.message_id,
            "purpose": self.purpose,
            "granted": self.granted,
            "status": self.status.value,
        }
        if self.token is not None:
            doc["confirmationToken"] = self.token
            doc["confirmationExpiresAt"] = _iso(self.token_expires_at)
        return doc


def _text(value: Any, name: str, required: bool) -> str | None:
    if value is None or value == "":
        if required:
            raise ConsentError("is required (which wording the person was shown)", name)
        return None
    if not isinstance(value, str):
        raise ConsentError("must be a string", name)
    if len(value) > MAX_TEXT:
        raise ConsentError(f"must be at most {MAX_TEXT} characters", name)
    return value


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _person_fields(
    workspace: Workspace,
    *,
    profile_id: str | None,
    user_id: str | None,
    anonymous_id: str | None,
    email: str | None,
    phone: str | None,
) -> dict[str, Any]:
    """The identifying fields of the event: as given, or one identifier of the profile."""
    if profile_id is not None:
        if any(v is not None for v in (user_id, anonymous_id, email, phone)):
            raise PrivacyError("give profileId alone, or identifiers without it", "profileId")
        current = workspace.profiles.current(profile_id)
        records = workspace.identity.identifiers(current)
        for kind, name in (("user_id", "userId"), ("anonymous_id", "anonymousId")):
            for record in records:
                if record.id_type == kind:
                    return {name: record.id_key.partition(":")[2]}
        raise PrivacyError(
            f"profile {current} has no userId or anonymousId to record consent under; "
            "give one of its identifiers instead",
            "profileId",
        )
    if user_id is None and anonymous_id is None:
        raise PrivacyError(
            "name the person by profileId, userId or anonymousId (an e-mail or a phone may "
            "come with them)",
            "userId",
        )
    fields: dict[str, Any] = {}
    for name, value in (("userId", user_id), ("anonymousId", anonymous_id)):
        if value is not None:
            if not isinstance(value, str) or not value.strip():
                raise PrivacyError("must be a non-empty string", name)
            fields[name] = value
    traits: dict[str, str] = {}
    for name, value in (("email", email), ("phone", phone)):
        if value is not None:
            lookup_key(workspace, name, value)  # refuses an e-mail without @, a bad number
            traits[name] = value
    if traits:
        fields["context"] = {"traits": traits}
    return fields


def _write(workspace: Workspace, message: dict[str, Any]) -> str:
    report = workspace.ingest([message], source=API_SOURCE)
    if report.rejected:
        first = report.rejected[0]
        raise ConsentError(first.reason, first.field)
    if report.suppressed:
        raise PrivacyError(
            "this person was erased and their identifiers are suppressed: nothing was recorded"
        )
    return str(message["messageId"])


def record(
    workspace: Workspace,
    *,
    purpose: str,
    granted: bool,
    wording_version: str,
    source: str | None = None,
    recorded_by: str | None = None,
    profile_id: str | None = None,
    user_id: str | None = None,
    anonymous_id: str | None = None,
    email: str | None = None,
    phone: str | None = None,
) -> Recorded:
    """Write a consent entry for a person into the log (source "api"), with who recorded it
    (`recorded_by`: the user or token, for the ledger's history).

    A grant of a double opt-in purpose is written "pending" and returns a confirmation token
    to send to the person; it counts once `confirm(token)` comes back.
    """
    checked = purpose_of(purpose)
    if not isinstance(granted, bool):
        raise ConsentError("must be true or false", "granted")
    wording = _text(wording_version, "wordingVersion", required=True)
    where = _text(source, "source", required=False) or API_SOURCE
    fields = _person_fields(
        workspace,
        profile_id=profile_id,
        user_id=user_id,
        anonymous_id=anonymous_id,
        email=email,
        phone=phone,
    )
    now = datetime.now(UTC)
    props: dict[str, Any] = {
        "purpose": checked,
        "granted": granted,
        "wording_version": wording,
        "source": where,
    }
    if recorded_by is not None:
        props["recorded_by"] = recorded_by
    token = expires = None
    status = Status.GRANTED if granted else Status.REVOKED
    if granted and checked in DOUBLE_OPT_IN:
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        expires = now + timedelta(days=CONFIRMATION_DAYS)
        props |= {"confirmation": PENDING, "token_hash": token_hash(token)}
        status = Status.PENDING
    message_id = _write(
        workspace,
        {
            "type": "track",
            "event": CONSENT_EVENT,
            "messageId": f"consent-{secrets.token_hex(16)}",
            "timestamp": now.isoformat(),
            "properties": props,
            **fields,
        },
    )
    return Recorded(message_id, checked, granted, status, token, expires)


_confirming = threading.Lock()


def confirm(workspace: Workspace, token: str) -> Recorded:
    """Confirm a pending double opt-in grant with the token sent to the person.

    `ConsentError` (field "token") when the token is unknown, already used, expired, or
    its grant was withdrawn since. Writes the confirmed entry to the log.
    """
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX):
        raise ConsentError("unknown confirmation token", "token")
    digest = token_hash(token)
    with _confirming:  # one confirmation at a time: a token is used once
        workspace.identity.sync()
        policy = policy_of(workspace)
        # Only the server makes tokens: a token_hash any other source sends is not one.
        rows = [
            r
            for r in workspace.privacy_store.consent_rows_with_token(digest)
            if r.source == SERVER_SOURCE
        ]
        entries = [(r, entry_of(r, policy)) for r in rows]
        pending = [(r, e) for r, e in entries if e.granted and e.confirmation == PENDING]
        if not pending:
            raise ConsentError("unknown confirmation token", "token")
        if any(e.granted and e.confirmation == CONFIRMED for _, e in entries):
            raise ConsentError("this confirmation token was already used", "token")
        row, entry = pending[0]
        assert entry.purpose is not None
        if datetime.now(UTC) > entry.at + timedelta(days=CONFIRMATION_DAYS):
            raise ConsentError(
                f"this confirmation token expired ({CONFIRMATION_DAYS} days); ask again", "token"
            )
        if _withdrawn_since(workspace, row, entry):
            raise ConsentError("this consent was withdrawn since; ask again", "token")
        message_id = _write(
            workspace,
            {
                "type": "track",
                "event": CONSENT_EVENT,
                "messageId": f"consent-{secrets.token_hex(16)}",
                "timestamp": datetime.now(UTC).isoformat(),
                "properties": {
                    "purpose": entry.purpose,
                    "granted": True,
                    "wording_version": entry.wording_version,
                    "source": entry.source,
                    "confirmation": CONFIRMED,
                    "token_hash": digest,
                },
                **_identifying_fields(workspace, row),
            },
        )
    return Recorded(message_id, entry.purpose, True, Status.GRANTED)


def _withdrawn_since(workspace: Workspace, row: ConsentRow, entry: ConsentEntry) -> bool:
    """Whether the person revoked the purpose after the pending grant."""
    profile = next(
        (p for k in row.identifiers if (p := workspace.identity.profile_of(k)) is not None), None
    )
    if profile is None:
        return False
    try:
        mine = ledger(workspace, profile).entries
    except ProfileNotFound:
        return False
    return any(
        e.purpose == entry.purpose and e.problem is None and not e.granted and e.order > entry.order
        for e in mine
    )


def _identifying_fields(workspace: Workspace, row: ConsentRow) -> dict[str, Any]:
    """userId, anonymousId and the e-mail or phone of the pending event, raw again."""
    found = workspace.engine.find_events(
        EventFilter(message_id=row.message_id, source=row.source), limit=1
    )
    fields: dict[str, Any] = {}
    if row.user_id:
        fields["userId"] = row.user_id
    if row.anonymous_id:
        fields["anonymousId"] = row.anonymous_id
    if found:
        context = rehydrate(found[0]).get("context") or {}
        traits = context.get("traits") if isinstance(context, dict) else None
        if isinstance(traits, dict):
            kept = {k: traits[k] for k in ("email", "phone") if traits.get(k)}
            if kept:
                fields["context"] = {"traits": kept}
    return fields


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
