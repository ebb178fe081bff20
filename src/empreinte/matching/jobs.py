"""The matching workflow: a CRM or store file against the people already known.

`run_match_job` scores the file's records against reference records (the known profiles) —
or against each other when there is no reference — then:

- a pair at or above the high threshold is accepted at once;
- a pair between the low and the high threshold waits in the review queue (`match_reviews`,
  status pending, with the comparison detail) for an admin to `accept_review` or
  `reject_review`;
- a pair decided before (accepted or rejected) is not proposed again.

An accepted match is not merged here. It is written to the event log as an `identify` message
(source "match") that carries the record's id in `context.externalIds`, flagged `"matched":
true`, and the profile's userId (or e-mail, or phone): the deterministic identity graph then
merges it like any other identify — auditable, and reversible by an unmerge. The flag makes the
record id a `matched_record` identifier, with its own limit per profile (50) rather than the
five external ids allowed for live ids: six records of one person in a file is common, six live
customer ids on one profile is not. The messageId is derived from the review, so
writing it twice (a retry, a re-run) stores it once.
"""

from __future__ import annotations

import csv
import hashlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from empreinte.errors import ImportFailed, MatchFailed, MissingColumns, ReviewNotFound
from empreinte.matching import prepare as prep
from empreinte.matching.linkage import MatchPair, MatchResult, MatchSettings, match_records
from empreinte.profiles.values import cell_text
from empreinte.store.match_store import MatchReview, MatchStore, ReviewStatus

if TYPE_CHECKING:
    from empreinte.workspace import Workspace

MATCH_SOURCE = "match"
AUTO_ACTOR = "auto"
DEFAULT_ID_TYPE = "crm_id"
# Reference columns that identify a profile in events, most trusted first.
_LINK_FIELDS = (("user_id", "userId"), ("email", "email"), ("phone", "phone"))
_USER_ID_ALIASES = ("user_id", "userid", "userId")


@dataclass(frozen=True)
class MatchJobReport:
    """What a match job did."""

    source_file: str
    records: int
    reference: int
    pairs: int  # scored at or above the low threshold
    accepted: int  # accepted automatically by this run (identify events written)
    queued: int  # waiting for a review (new, or still pending from an earlier run)
    skipped: int  # decided earlier (accepted or rejected): not proposed again
    events_stored: int
    seconds: float
    notes: tuple[str, ...] = ()


def read_csv(path: Path) -> pa.Table:
    """A CSV file (UTF-8, header line, `,` or `;`) as a table of strings (blank → null)."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            sample = handle.read(64 * 1024)
            handle.seek(0)
            try:
                dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
            except csv.Error:
                dialect = csv.excel
            reader = csv.reader(handle, dialect)
            header = next(reader, None)
            if not header:
                raise ImportFailed(f"{path} is empty: a header line is needed")
            header = [h.strip() for h in header]
            columns: list[list[str | None]] = [[] for _ in header]
            for line, row in enumerate(reader, start=2):
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) != len(header):
                    raise ImportFailed(
                        f"{path}:{line}: {len(row)} fields where the header has {len(header)}"
                    )
                for column, cell in zip(columns, row, strict=True):
                    column.append(cell.strip() or None)
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFailed(f"cannot read {path}: {exc}") from None
    return pa.table({h: pa.array(c, pa.string()) for h, c in zip(header, columns, strict=True)})


def _review_id(id_type: str, record_id: str, kind: str, other: str) -> str:
    digest = hashlib.sha256("\x1f".join((id_type, record_id, kind, other)).encode()).hexdigest()
    return f"mr_{digest[:20]}"


def _link_columns(reference: pa.Table, settings: MatchSettings) -> dict[str, str]:
    """Columns of the reference that identify a profile in events (userId, e-mail, phone)."""
    header = reference.column_names
    found: dict[str, str] = {}
    for field, _ in _LINK_FIELDS:
        if field == "user_id":
            column = next((c for c in _USER_ID_ALIASES if c in header), None)
        else:
            column = prep.find_column(header, field, settings.reference_columns)
        if column is not None:
            found[field] = column
    if not found:
        raise MissingColumns(
            "the reference records need a user_id, email or phone column, to say which "
            f"profile a match belongs to; their columns are: {', '.join(header)}",
            ["user_id", "email", "phone"],
        )
    return found


def _links(reference: pa.Table, settings: MatchSettings) -> dict[str, dict[str, str]]:
    """Reference id → the identifier an identify message should carry for that profile."""
    columns = _link_columns(reference, settings)
    ids = [cell_text(v) for v in reference.column(settings.reference_id_column).to_pylist()]
    values = {f: reference.column(c).to_pylist() for f, c in columns.items()}
    out: dict[str, dict[str, str]] = {}
    for row, ref_id in enumerate(ids):
        if ref_id is None:
            continue
        for field, key in _LINK_FIELDS:
            value = cell_text(values[field][row]) if field in values else None
            if value:
                out[ref_id] = {key: value}
                break
    return out


def identify_message(review: MatchReview, actor: str) -> dict[str, Any]:
    """The identify message that records an accepted match in the event log."""
    id_type = str(review.detail.get("id_type") or DEFAULT_ID_TYPE)
    external: list[dict[str, Any]] = [{"id": review.record_id, "type": id_type, "matched": True}]
    message: dict[str, Any] = {"type": "identify", "messageId": f"match-{review.review_id}"}
    if review.other_record_id is not None:
        external.append({"id": review.other_record_id, "type": id_type, "matched": True})
        message["anonymousId"] = f"{id_type}:{review.record_id}"
    else:
        link = review.detail.get("link")
        if not isinstance(link, Mapping) or not link:
            raise MatchFailed(
                f"review {review.review_id}: profile {review.profile_id} has no userId, "
                "e-mail or phone to link the record to"
            )
        if "userId" in link:
            message["userId"] = link["userId"]
        else:
            # identify needs userId or anonymousId: the record's own id stands for it.
            message["anonymousId"] = f"{id_type}:{review.record_id}"
            message["traits"] = dict(link)
    message["context"] = {
        "externalIds": external,
        "match": {
            "review_id": review.review_id,
            "profile_id": review.profile_id,
            "probability": round(review.probability, 6),
            "source_file": review.source_file,
            "decided_by": actor,
        },
    }
    return message


def _ingest(ws: Workspace, reviews: Sequence[MatchReview], actor: str) -> int:
    messages = [identify_message(r, actor) for r in reviews]
    if not messages:
        return 0
    report = ws.ingest(messages, source=MATCH_SOURCE)
    if report.rejected:
        first = report.rejected[0]
        raise MatchFailed(
            f"{len(report.rejected)} match event(s) refused by the event log, first: "
            f"{first.field or ''} {first.reason}".strip()
        )
    return report.stored


def _reviews(
    result: MatchResult,
    source_file: str,
    id_type: str,
    links: Mapping[str, Mapping[str, str]],
    now: datetime,
) -> list[MatchReview]:
    out: list[MatchReview] = []
    linking = result.link_type == "link_only"
    for pair in result.pairs:
        out.append(_review(pair, linking, source_file, id_type, links, now))
    return out


def _review(
    pair: MatchPair,
    linking: bool,
    source_file: str,
    id_type: str,
    links: Mapping[str, Mapping[str, str]],
    now: datetime,
) -> MatchReview:
    kind = "profile" if linking else "record"
    detail: dict[str, Any] = {
        "id_type": id_type,
        "match_weight": round(pair.match_weight, 3),
        "comparisons": pair.detail(),
    }
    if linking:
        detail["link"] = dict(links.get(pair.right_id, {}))
    return MatchReview(
        review_id=_review_id(id_type, pair.left_id, kind, pair.right_id),
        created_at=now,
        source_file=source_file,
        record_id=pair.left_id,
        profile_id=pair.right_id if linking else None,
        other_record_id=None if linking else pair.right_id,
        probability=pair.probability,
        detail=detail,
        status=ReviewStatus.PENDING,
    )


def run_match_job(
    ws: Workspace,
    records: Any,
    reference: Any | None = None,
    *,
    source_file: str,
    settings: MatchSettings | None = None,
    id_type: str = DEFAULT_ID_TYPE,
    actor: str = AUTO_ACTOR,
) -> MatchJobReport:
    """Match `records` (a CRM or store file's rows) against `reference` (known people:
    profile_id, user_id, first_name, last_name, email, phone, birth_date, city, postcode…), or
    deduplicate them when `reference` is None. Accepts the sure pairs (identify events),
    queues the doubtful ones, skips the ones decided before. `id_type` names the record ids
    in `context.externalIds` (e.g. "crm_id", "store_customer_id").

    A file or reference without the columns the settings need is refused before any work
    (`MissingColumns`).
    """
    cfg = settings or MatchSettings()
    started = time.perf_counter()
    table = prep.to_arrow(records, source_file)
    ref_table = prep.to_arrow(reference, "the reference records") if reference is not None else None
    links: dict[str, dict[str, str]] = {}
    if ref_table is not None:
        # Refuse a reference that cannot name its profiles before the (long) matching.
        prep.resolve_columns(
            ref_table.column_names,
            cfg.fields,
            cfg.reference_columns,
            cfg.reference_id_column,
            "the reference records",
            prep.extra_columns(cfg.identifiers, cfg.compare),
        )
        links = _links(ref_table, cfg)
    result = match_records(table, ref_table, cfg)
    now = datetime.now(UTC)
    store = MatchStore(ws.engine)
    candidates = _reviews(result, source_file, id_type, links, now)
    known = store.statuses([r.review_id for r in candidates])
    fresh = [r for r in candidates if known.get(r.review_id) in (None, ReviewStatus.PENDING)]
    sure = [
        replace(r, status=ReviewStatus.ACCEPTED, decided_at=now, decided_by=actor)
        for r in fresh
        if r.probability >= cfg.high_threshold
    ]
    doubtful = [r for r in fresh if r.probability < cfg.high_threshold]
    notes = list(result.notes)
    unlinkable = [r for r in sure if r.profile_id is not None and not r.detail.get("link")]
    if unlinkable:
        notes.append(
            f"{len(unlinkable)} sure match(es) queued for review instead: their profile has no "
            "userId, e-mail or phone"
        )
        sure = [r for r in sure if r not in unlinkable]
        doubtful += [
            replace(r, status=ReviewStatus.PENDING, decided_at=None, decided_by=None)
            for r in unlinkable
        ]
    # Events first: if saving the decisions fails, a re-run writes the same messageIds again,
    # which the log stores once.
    stored = _ingest(ws, sure, actor)
    store.save(sure + doubtful)
    return MatchJobReport(
        source_file=source_file,
        records=result.left_records,
        reference=result.right_records,
        pairs=len(result.pairs),
        accepted=len(sure),
        queued=len(doubtful),
        skipped=len(candidates) - len(fresh),
        events_stored=stored,
        seconds=time.perf_counter() - started,
        notes=tuple(notes),
    )


def list_reviews(
    ws: Workspace, status: str | None = ReviewStatus.PENDING, limit: int = 100, offset: int = 0
) -> list[MatchReview]:
    """Reviews with `status` (pending by default; None for all), most probable first."""
    return MatchStore(ws.engine).list(status, limit, offset)


def _pending(store: MatchStore, review_id: str) -> MatchReview:
    review = store.get(review_id)
    if review is None:
        raise ReviewNotFound(f"no match review {review_id!r}; list them with `match reviews`")
    if review.status != ReviewStatus.PENDING:
        raise MatchFailed(
            f"review {review_id} is already {review.status} "
            f"(by {review.decided_by} at {review.decided_at:%Y-%m-%d %H:%M:%S %Z})"
            if review.decided_at
            else f"review {review_id} is already {review.status}"
        )
    return review


def accept_review(ws: Workspace, review_id: str, actor: str) -> MatchReview:
    """Accept a pending match: its identify event is written, then the decision recorded."""
    store = MatchStore(ws.engine)
    review = _pending(store, review_id)
    _ingest(ws, [review], actor)
    now = datetime.now(UTC)
    if not store.decide(review_id, ReviewStatus.ACCEPTED, actor, now):
        raise MatchFailed(f"review {review_id} was decided by someone else meanwhile")
    return replace(review, status=ReviewStatus.ACCEPTED, decided_at=now, decided_by=actor)


def reject_review(ws: Workspace, review_id: str, actor: str) -> MatchReview:
    """Reject a pending match: nothing is merged, and the pair is not proposed again."""
    store = MatchStore(ws.engine)
    _pending(store, review_id)
    now = datetime.now(UTC)
    if not store.decide(review_id, ReviewStatus.REJECTED, actor, now):
        raise MatchFailed(f"review {review_id} was decided by someone else meanwhile")
    review = store.get(review_id)
    assert review is not None
    return review
