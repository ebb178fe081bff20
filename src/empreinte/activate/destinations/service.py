"""Destinations of a workspace (`workspace.destinations`): where segment memberships, chosen
traits and events are sent, behind the consent ledger; the outbox that sends them; and the
deletion requests an erasure sends to every destination that received the person.

A round (`sync`, the server's background loop every `interval_seconds`) does, per
destination: *queue* — the changes since it was last told, of people who allow its purpose
now; *send* — the deliveries due, after asking the consent ledger again (a withdrawal since
queueing withholds them). Files (csv, parquet) are rewritten whole by each round that has
something to write. docs/destinations.md has the rules and worked examples.
"""

from __future__ import annotations

import builtins
import hashlib
import logging
import random
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from empreinte.activate.destinations import exports, messages, network, signing
from empreinte.activate.destinations.keys import SecretFile
from empreinte.activate.destinations.model import (
    EVENT_NAME,
    FACTS,
    FILE_KINDS,
    HTTP_KINDS,
    Created,
    Destination,
    RoundReport,
    check_kind,
    check_list,
    check_name,
    check_status,
    check_traits,
)
from empreinte.activate.destinations.settings import DestinationSettings
from empreinte.errors import (
    DestinationExists,
    DestinationNotFound,
    EmpreinteError,
    InvalidInput,
)
from empreinte.store.destination_store import (
    PENDING,
    Delivery,
    DestinationRecord,
    DestinationStore,
    NewDelivery,
    Recipient,
)

if TYPE_CHECKING:
    from empreinte.workspace import Workspace

log = logging.getLogger(__name__)
#: Events forwarded per destination and round (the cursor moves on; the rest wait a round).
MAX_EVENTS = 10_000
#: Deliveries one round sends per destination.
MAX_DUE = 5_000
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock_of(path: Path) -> threading.Lock:
    """One round at a time per workspace (the server's loop and an API call to sync)."""
    with _locks_guard:
        return _locks.setdefault(str(path.resolve()), threading.Lock())


def new_id() -> str:
    return "dl_" + secrets.token_hex(12)


@dataclass(frozen=True)
class ErasureNotice:
    """The deletion requests one erasure queued: to which destinations."""

    erasure_id: str
    destinations: tuple[str, ...]


class Destinations:
    """The destinations of one workspace."""

    def __init__(
        self,
        workspace: Workspace,
        store: DestinationStore,
        *,
        clock: Callable[[], datetime] | None = None,
        rng: random.Random | None = None,
    ):
        self._ws = workspace
        self._store = store
        self.settings = DestinationSettings.from_mapping(workspace.config.destinations)
        self._secrets = SecretFile(workspace.path)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._rng = rng or random.Random()

    # -- configuring -----------------------------------------------------------------------

    def add(
        self,
        name: str,
        kind: str,
        *,
        purpose: str,
        url: str | None = None,
        directory: str | None = None,
        segments: Sequence[str] = (),
        traits: Sequence[str] = (),
        events: Sequence[str] = (),
        write_key: str | None = None,
        by: str | None = None,
    ) -> Created:
        """Make a destination. A webhook gets a new signing secret (in the answer, once);
        a `segment` forwarder needs the receiving source's `write_key`."""
        from empreinte.privacy.consent import purpose_of

        check_name(name)
        check_kind(kind)
        purpose = purpose_of(purpose)
        chosen_segments = check_list(segments, "segments")
        chosen_traits = check_traits(traits)
        chosen_events = check_list(events, "events", EVENT_NAME)
        for segment in chosen_segments:
            self._ws.segments.get(segment)  # SegmentNotFound (404) names it
        if kind in HTTP_KINDS:
            if directory is not None:
                raise InvalidInput("directory", f"a {kind} destination sends to a url")
            target = network.check_url(url or "", "url")
            network.check_host(target, self.settings.allow_private_networks)
        else:
            if url is not None:
                raise InvalidInput("url", f"a {kind} destination writes to a directory")
            if chosen_events:
                raise InvalidInput("events", "exports hold segment members and traits only")
            target = str(self._directory(directory))
        if not chosen_segments and not chosen_events:
            raise InvalidInput("segments", "choose at least one segment (or events to forward)")
        if kind == "segment":
            if not write_key or not isinstance(write_key, str) or len(write_key) > 200:
                raise InvalidInput("write_key", "the receiving source's write key is required")
            secret: str | None = write_key
        elif write_key is not None:
            raise InvalidInput("write_key", "only a segment destination has a write key")
        else:
            secret = "whsec_" + secrets.token_urlsafe(32) if kind == "webhook" else None
        record = DestinationRecord(
            name=name,
            kind=kind,
            target=target,
            purpose=purpose,
            segments=chosen_segments,
            traits=chosen_traits,
            events=chosen_events,
            created_at=self._clock(),
            created_by=by,
            # Events are forwarded from now on, not the whole history.
            event_cursor=self._store.max_seq() if chosen_events else 0,
        )
        if self._store.get(name) is not None:
            raise DestinationExists("name", f"a destination named {name!r} exists already")
        if secret is not None:
            self._secrets.put(name, secret)
        if not self._store.create(record):
            raise DestinationExists("name", f"a destination named {name!r} exists already")
        return Created(Destination(record, {}), secret if kind == "webhook" else None)

    def _directory(self, directory: str | None) -> Path:
        """An export directory within `[destinations] export_root`."""
        root = self.settings.export_directory(self._ws.path)
        if not directory or not isinstance(directory, str) or "\x00" in directory:
            raise InvalidInput("directory", "give a directory (relative to the export root)")
        candidate = Path(directory).expanduser()
        path = (candidate if candidate.is_absolute() else root / candidate).resolve()
        if path != root and root not in path.parents:
            raise InvalidInput(
                "directory",
                f"{directory!r} is outside the export root {root} ([destinations] export_root)",
            )
        return path

    def get(self, name: str) -> Destination:
        record = self._store.get(name)
        if record is None:
            raise DestinationNotFound(f"no destination named {name!r}")
        return Destination(record, self._store.counts().get(name, {}))

    def list(self) -> builtins.list[Destination]:
        counts = self._store.counts()
        return [Destination(r, counts.get(r.name, {})) for r in self._store.list()]

    def remove(self, name: str) -> None:
        self.get(name)
        self._store.delete(name)
        self._secrets.remove(name)

    def deliveries(
        self,
        name: str | None = None,
        status: str | None = None,
        limit: int = 100,
        type: str | None = None,
    ) -> builtins.list[Delivery]:
        """Deliveries, newest first (of `name`, in `status`)."""
        if name is not None:
            self.get(name)
        if status is not None:
            check_status(status)
        return self._store.deliveries(name, status, limit, type)

    def retry(self, name: str | None = None, ids: Sequence[str] | None = None) -> int:
        """Dead deliveries (of `name`, or those of `ids`) back in the queue, tried at the
        next round with a fresh count of attempts; how many."""
        if name is not None:
            self.get(name)
        return self._store.retry(name, ids, self._clock())

    # -- rounds ----------------------------------------------------------------------------

    def sync(self, name: str | None = None) -> builtins.list[RoundReport]:
        """Queue what changed and send what is due, for `name` or every destination."""
        chosen = [self.get(name).record] if name else self._store.list()
        reports = []
        with _lock_of(self._ws.path):
            # The outbox keeps what left for `keep_days` (its counts with it), then forgets
            # it: linear growth bounded in time. Deletion requests stay (the erasures' trail).
            self._store.prune(self._clock() - timedelta(days=self.settings.keep_days))
            for record in chosen:
                try:
                    queued = self._queue(record)
                    sent = self._send(record)
                    reports.append(RoundReport(record.name, queued, *sent))
                    self._store.set_round(record.name, self._clock(), None)
                except Exception as exc:  # one destination's failure does not stop the others
                    # An unexpected error's text may hold internals: the log has it, the
                    # page and the API only its kind.
                    error = str(exc) if isinstance(exc, EmpreinteError) else type(exc).__name__
                    if not isinstance(exc, EmpreinteError):
                        log.exception("destination %s: the round failed", record.name)
                    self._store.set_round(record.name, self._clock(), error)
                    if name:
                        raise
                    reports.append(RoundReport(record.name, error=error))
        return reports

    def _allowed(self, purpose: str) -> frozenset[str]:
        from empreinte.privacy.consent import allowed_profiles

        return allowed_profiles(self._ws, purpose)

    def _queue(self, record: DestinationRecord) -> int:
        now = self._clock()
        allowed = self._allowed(record.purpose)
        if record.kind in FILE_KINDS:
            return self._queue_export(record, allowed, now)
        new: list[NewDelivery] = []
        entered: dict[str, list[str]] = {}
        left: dict[str, list[str]] = {}
        for segment in record.segments:
            members = set(self._ws.segments.members(segment))
            told = self._store.told(record.name, segment)
            entered[segment] = sorted((members - told) & allowed)
            left[segment] = sorted((told - members) & allowed)
        # Traits go with each person of the audience whose chosen traits differ from what the
        # destination was last sent (a newcomer: all of them; a change later: again).
        audience = sorted(
            ({p for ids in entered.values() for p in ids} | self._audience(record)) & allowed
        )
        digests = self._changed_traits(record, audience)
        people = sorted(
            {p for ids in (*entered.values(), *left.values()) for p in ids} | set(digests)
        )
        user_ids = self._store.user_ids(people)
        for profile_id, (traits, _) in sorted(digests.items()):
            ids = messages.who(user_ids.get(profile_id), profile_id)
            delivery_id = new_id()
            payload = messages.identify(delivery_id, ids, traits, now)
            new.append(NewDelivery(delivery_id, profile_id, "identify", payload))
        for segment in record.segments:
            for profile_id, was_entered in [
                *((p, True) for p in entered[segment]),
                *((p, False) for p in left[segment]),
            ]:
                ids = messages.who(user_ids.get(profile_id), profile_id)
                delivery_id = new_id()
                payload = messages.membership(delivery_id, ids, segment, was_entered, now)
                new.append(NewDelivery(delivery_id, profile_id, "track", payload))
        new.extend(self._events(record, allowed))
        if not new and not any(entered.values()) and not any(left.values()):
            return 0
        sent_traits = {p: digest for p, (_, digest) in digests.items()}
        return self._store.queue(
            record.name, new, entered=entered, left=left, traits=sent_traits, at=now
        )

    def _audience(self, record: DestinationRecord) -> set[str]:
        """Whom the destination was told is in one of its segments."""
        return {p for segment in record.segments for p in self._store.told(record.name, segment)}

    def _changed_traits(
        self, record: DestinationRecord, people: Sequence[str]
    ) -> dict[str, tuple[dict[str, Any], str]]:
        """Person → (their chosen traits, its digest), for those whose digest differs from
        the one last sent to the destination."""
        if not record.traits or not people:
            return {}
        known = self._store.trait_digests(record.name)
        out = {}
        for profile_id, traits in self._traits(people, record.traits).items():
            digest = hashlib.sha256(orjson.dumps(traits, option=orjson.OPT_SORT_KEYS)).hexdigest()
            if known.get(profile_id) != digest[:32]:
                out[profile_id] = (traits, digest[:32])
        return out

    def _queue_export(
        self, record: DestinationRecord, allowed: frozenset[str], now: datetime
    ) -> int:
        """A file is the audience now, rewritten whole: an export is queued when the people
        it would hold (members who allow the purpose) differ from the last one's — someone
        entered, left, withdrew consent or was erased — or one of their chosen traits
        changed."""
        entered: dict[str, builtins.list[str]] = {}
        left: dict[str, builtins.list[str]] = {}
        audience: set[str] = set()
        for segment in record.segments:
            current = set(self._ws.segments.members(segment)) & allowed
            audience |= current
            told = self._store.told(record.name, segment)
            entered[segment], left[segment] = sorted(current - told), sorted(told - current)
        digests = self._changed_traits(record, sorted(audience))
        traits = {p: digest for p, (_, digest) in digests.items()}
        changed = any(entered.values()) or any(left.values()) or bool(traits)
        if not changed:
            return 0
        pending = self._store.deliveries(record.name, PENDING, 1, "export")
        exports = [] if pending else [NewDelivery(new_id(), None, "export", {})]
        self._store.queue(record.name, exports, entered=entered, left=left, traits=traits, at=now)
        return len(exports)

    def _events(
        self, record: DestinationRecord, allowed: frozenset[str]
    ) -> builtins.list[NewDelivery]:
        """The forwarded events logged since the destination's cursor, of people who allow
        its purpose (the others' are skipped for good); the cursor moves past them."""
        if not record.events:
            return []
        with self._ws.analytics() as log:
            t = log.table("events")
            t = t.filter(
                (t.seq > record.event_cursor)
                & (t.type == "track")
                & t.event.isin(list(record.events))
                & ~t.is_bot
            )
            t = t.order_by("seq").limit(MAX_EVENTS)
            owned = log.with_owner(t)
            rows = log.to_pyarrow(
                owned.select(
                    "seq", "message_id", "source", "event", "properties", "timestamp", "profile_id"
                )
            ).to_pylist()
        if not rows:
            return []
        rows.sort(key=lambda r: int(r["seq"]))
        user_ids = self._store.user_ids(sorted({str(r["profile_id"]) for r in rows}))
        out = []
        for row in rows:
            profile_id = str(row["profile_id"])
            if profile_id not in allowed:
                continue
            delivery_id = new_id()
            properties = row["properties"]
            if isinstance(properties, str):
                properties = orjson.loads(properties)
            ids = messages.who(user_ids.get(profile_id), profile_id)
            at = row["timestamp"]
            payload = messages.forwarded(
                delivery_id,
                ids,
                str(row["event"]),
                properties or {},
                at,
                str(row["message_id"]),
                str(row["source"]),
            )
            out.append(NewDelivery(delivery_id, profile_id, "track", payload))
        self._store.set_cursor(record.name, max(int(r["seq"]) for r in rows))
        return out

    def _traits(
        self, profile_ids: Sequence[str], names: Sequence[str]
    ) -> dict[str, dict[str, Any]]:
        """The chosen traits of `profile_ids`: profile facts and model traits."""
        out: dict[str, dict[str, Any]] = {p: {} for p in profile_ids}
        if not profile_ids:
            return out
        facts = [n for n in names if n in FACTS]
        if facts:
            # One scan of the facts (linear; a list of ids inlined in the query would not be).
            with self._ws.analytics() as log:
                t = log.derived("profile_facts").select("profile_id", *facts)
                for row in log.to_pyarrow(t).to_pylist():
                    pid = str(row.pop("profile_id"))
                    if pid in out:
                        out[pid].update({k: v for k, v in row.items() if v is not None})
        wanted = set(names) - set(FACTS)
        if wanted:
            for trait in self._ws.engine.computed_traits().of_profiles(profile_ids):
                if trait.trait in wanted and trait.profile_id in out:
                    value = trait.number if trait.number is not None else trait.text
                    out[trait.profile_id][trait.trait] = value
        return out

    # -- sending ---------------------------------------------------------------------------

    def _send(self, record: DestinationRecord) -> tuple[int, int, int, int]:
        """(sent, failed, dead, withheld) of the deliveries due now."""
        now = self._clock()
        due = self._store.due(record.name, now, MAX_DUE)
        if not due:
            return (0, 0, 0, 0)
        if record.kind in FILE_KINDS:
            return self._export(record, due, now)
        people = [d for d in due if d.profile_id is not None]
        allowed = self._allowed(record.purpose) if people else frozenset()
        withheld = [d.delivery_id for d in people if d.profile_id not in allowed]
        self._store.mark_withheld(withheld)
        ready = [d for d in due if d.profile_id is None or d.profile_id in allowed]
        sent = failed = dead = 0
        oversized = [d for d in ready if len(_body(d)) > messages.MAX_MESSAGE]
        failures: list[tuple[str, str, datetime | None]] = [
            (d.delivery_id, "message over 32 KB", None) for d in oversized
        ]
        dead += len(oversized)
        ready = [d for d in ready if d not in oversized]
        with network.client(self.settings.timeout_seconds) as http:
            for batch in _batches(ready, self.settings.batch_size):
                outcome = self._post(http, record, batch)
                if outcome.ok:
                    self._store.mark_sent(
                        [d.delivery_id for d in batch],
                        self._clock(),
                        [_recipient(record.name, d) for d in batch if d.profile_id is not None],
                    )
                    sent += len(batch)
                    continue
                # One draw of jitter per request: what failed together is tried again together.
                jitter = self._rng.random()
                for d in batch:
                    later = (
                        self._next_try(d.attempts + 1, now, jitter) if outcome.retryable else None
                    )
                    failures.append((d.delivery_id, outcome.error or "failed", later))
                    failed += later is not None
                    dead += later is None
                if outcome.retryable:
                    # The receiver is down or slow: the rest waits for the next round, so
                    # that one bad receiver costs a round at most one timeout.
                    break
        self._store.mark_failed(failures)
        return (sent, failed, dead, len(withheld))

    def _next_try(
        self, attempts: int, now: datetime, jitter: float | None = None
    ) -> datetime | None:
        """When to try again after `attempts` failures (None: give up, dead letter):
        exponential back-off with "equal jitter" — half the capped wait, plus a random part
        of the other half — so that receivers coming back are not hit by every sender at
        once."""
        s = self.settings
        if attempts >= s.max_attempts:
            return None
        wait = min(s.retry_max_seconds, s.retry_base_seconds * 2 ** (attempts - 1))
        part = self._rng.random() if jitter is None else jitter
        return now + timedelta(seconds=wait / 2 + part * wait / 2)

    def _post(
        self, http: Any, record: DestinationRecord, batch: builtins.list[Delivery]
    ) -> network.Outcome:
        secret = self._secrets.get(record.name)
        if secret is None:
            return network.Outcome(
                False, "no secret for this destination (destination-secrets.json)"
            )
        body = orjson.dumps(
            {"batch": [d.payload for d in batch], "sentAt": self._clock().isoformat()}
        )
        headers = {"Content-Type": "application/json"}
        url = record.target
        if record.kind == "webhook":
            stamp = int(self._clock().timestamp())
            headers[signing.HEADER] = signing.signature(secret, stamp, body)
        else:
            import base64

            if not url.rstrip("/").endswith("/v1/batch"):
                url = url.rstrip("/") + "/v1/batch"
            token = base64.b64encode(f"{secret}:".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        return network.post(http, url, body, headers, self.settings.allow_private_networks)

    def _export(
        self, record: DestinationRecord, due: builtins.list[Delivery], now: datetime
    ) -> tuple[int, int, int, int]:
        """Write the audience file now: consenting members of each segment, with traits."""
        allowed = self._allowed(record.purpose)
        rows: list[dict[str, Any]] = []
        people: set[str] = set()
        for segment in record.segments:
            members = sorted(set(self._ws.segments.members(segment)) & allowed)
            people.update(members)
            rows.extend({"profile_id": p, "segment": segment} for p in members)
        user_ids = self._store.user_ids(sorted(people))
        traits = self._traits(sorted(people), record.traits) if record.traits else {}
        for row in rows:
            row["user_id"] = user_ids.get(row["profile_id"])
            row.update(traits.get(row["profile_id"], {}))
        columns = [*exports.COLUMNS, *record.traits]
        ids = [d.delivery_id for d in due]
        try:
            exports.write(Path(record.target), record.name, record.kind, columns, rows)
        except OSError as exc:
            later = self._next_try(due[0].attempts + 1, now)
            self._store.mark_failed([(i, f"cannot write: {exc}", later) for i in ids])
            return (0, len(ids) if later else 0, 0 if later else len(ids), 0)
        recipients = [Recipient(record.name, p, user_ids.get(p), None) for p in sorted(people)]
        self._store.mark_sent(ids, self._clock(), recipients)
        return (len(ids), 0, 0, 0)

    # -- erasure ---------------------------------------------------------------------------

    def request_deletion(self, erasure_id: str, profile_ids: Sequence[str]) -> ErasureNotice:
        """Queue a deletion request to every destination that received one of `profile_ids`
        (called by privacy/erasure.py before the person's rows are deleted; the request has
        no profile id, so the erasure keeps it). A file destination's request rewrites its
        export without the person."""
        at = self._clock()
        by_destination: dict[str, list[Recipient]] = {}
        for r in self._store.recipients(profile_ids):
            by_destination.setdefault(r.destination, []).append(r)
        names = []
        for name, recipients in sorted(by_destination.items()):
            record = self._store.get(name)
            if record is None:
                continue
            new = []
            for r in recipients:
                delivery_id = new_id()
                ids = messages.who(r.user_id, r.profile_id)
                payload = (
                    {"erasureId": erasure_id}
                    if record.kind in FILE_KINDS
                    else messages.delete(delivery_id, ids, erasure_id, at)
                )
                new.append(NewDelivery(delivery_id, None, "delete", payload, erasure_id))
            self._store.queue(name, new, at=at)
            names.append(name)
        return ErasureNotice(erasure_id, tuple(names))

    def paused(self) -> threading.Lock:
        """The lock of this workspace's rounds: held, no round runs (an erasure holds it from
        its deletion requests to its commit)."""
        return _lock_of(self._ws.path)

    def cancel_deletion(self, erasure_id: str) -> None:
        """Drop the requests of an erasure that failed (nothing was erased)."""
        self._store.cancel(erasure_id)

    def deletion_requests(self, limit: int = 20) -> builtins.list[Delivery]:
        """The latest deletion requests, newest first."""
        return self._store.deliveries(None, None, limit, "delete")


def _body(delivery: Delivery) -> bytes:
    return orjson.dumps(delivery.payload)


def _batches(
    deliveries: builtins.list[Delivery], size: int
) -> builtins.list[builtins.list[Delivery]]:
    """Requests of at most `size` messages and `MAX_REQUEST` bytes; a deletion request goes
    alone (a receiver that refuses it must not take other messages down with it)."""
    out: builtins.list[builtins.list[Delivery]] = []
    current: builtins.list[Delivery] = []
    weight = 0
    for d in deliveries:
        if d.type == "delete":
            out.append([d])
            continue
        n = len(_body(d))
        if current and (len(current) >= size or weight + n > messages.MAX_REQUEST):
            out.append(current)
            current, weight = [], 0
        current.append(d)
        weight += n
    if current:
        out.append(current)
    return out


def _recipient(destination: str, delivery: Delivery) -> Recipient:
    payload = delivery.payload or {}
    return Recipient(
        destination,
        str(delivery.profile_id),
        payload.get("userId"),
        payload.get("anonymousId"),
    )
