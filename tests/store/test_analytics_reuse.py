"""What DuckDB analytics keep between queries to answer a page quickly, and that keeping it
changes no figure: compiled SQL (by the expression's structure), the owner of each event
(`event_owners`, kept up to date with the identity graph), a report's shared intermediate
table (`AnalyticsLog.materialize`)."""

from __future__ import annotations

from pathlib import Path

import ibis
import pyarrow as pa

import empreinte
from empreinte.demo import generate
from empreinte.store.duckdb.analytics import COMPILED
from empreinte.store.ownership import owners_of
from empreinte.workspace import Workspace


def ingest(ws: Workspace, messages: list[dict[str, object]]) -> None:
    report = ws.ingest(messages, source="web")
    assert not report.rejected, report.rejected
    ws.flush()


def owners(ws: Workspace, *, kept: bool) -> pa.Table:
    """(seq, profile_id) of every event, through `event_owners` or computed inline."""
    with ws.analytics() as log:
        events = log.events(include_bots=True).select("seq", "identifiers")
        if kept:
            owned = log.with_owner(events)
        else:
            inline = owners_of(events, log.table("identities"), log.settings.ownership)
            owned = events.left_join(inline, "seq")
            owned = owned.mutate(
                profile_id=owned.profile_id.fill_null(
                    ibis.literal("event:").concat(owned.seq.cast(str))
                )
            )
        return log.to_pyarrow(owned.select("seq", "profile_id")).sort_by("seq")


def test_a_report_built_anew_reuses_its_sql_and_a_different_one_does_not(
    tmp_path: Path,
) -> None:
    with empreinte.open(tmp_path / "ws") as ws:
        ingest(ws, list(generate(40)))
        monthly = ws.cx.nps(period="month", min_n=1)
        hits, misses = COMPILED.hits, COMPILED.misses
        again = ws.cx.nps(period="month", min_n=1)
        assert COMPILED.misses == misses, "the same report was compiled again"
        assert COMPILED.hits > hits
        assert again.to_rows() == monthly.to_rows()
        # Another shape has SQL of its own (compiled now, or by an earlier report of the
        # process: the cache is per process).
        quarterly = ws.cx.nps(period="quarter", min_n=1)
        assert {r.period for r in quarterly.rows} != {r.period for r in monthly.rows}


def test_event_owners_follow_merges_and_equal_the_inline_rule(tmp_path: Path) -> None:
    """After more of a demo log and a visitor's sign-in (their anonymous events merged into
    the account's profile), the kept owners are exactly what the ownership rule gives
    inline: rewritten, not appended to."""
    messages = list(generate(60))
    half = len(messages) // 2
    visit = {"type": "track", "event": "Product Viewed", "anonymousId": "anon-merge-1"}
    with empreinte.open(tmp_path / "ws") as ws:
        ingest(ws, [*messages[:half], {**visit, "timestamp": "2026-01-05T10:00:00Z"}])
        ingest(ws, [{"type": "identify", "userId": "u-merge-1", "traits": {"plan": "a"}}])
        first = owners(ws, kept=True)
        assert first.equals(owners(ws, kept=False))
        sign_in = {"type": "identify", "userId": "u-merge-1", "anonymousId": "anon-merge-1"}
        ingest(ws, [*messages[half:], sign_in])
        kept = owners(ws, kept=True)
        assert kept.num_rows > first.num_rows
        assert kept.equals(owners(ws, kept=False))
        before = dict(zip(*first.to_pydict().values(), strict=True))
        after = dict(zip(*kept.to_pydict().values(), strict=True))
        moved = [seq for seq, owner in before.items() if after[seq] != owner]
        assert moved, "the visitor's event should belong to the account now"


def test_events_the_kept_owners_do_not_list_are_resolved_inline(tmp_path: Path) -> None:
    with empreinte.open(tmp_path / "ws") as ws:
        ingest(ws, list(generate(30)))
        with ws.analytics() as log:
            table = log.derived("event_owners")
            listed = log.to_pyarrow(table).num_rows
            # As if the last events had arrived after the table was computed.
            last = log.execute(log.events().seq.max())
            log.backend.connection.raw_sql(f"DELETE FROM event_owners WHERE seq >= {last - 5}")
            owned = log.to_pyarrow(
                log.with_owner(log.events(include_bots=True).select("seq", "identifiers"))
            )
        assert listed > 6
        assert not any(p.startswith("event:") for p in owned["profile_id"].to_pylist())


def test_a_materialized_table_gives_what_its_expression_gives(tmp_path: Path) -> None:
    with empreinte.open(tmp_path / "ws") as ws:
        ingest(ws, list(generate(30)))
        with ws.analytics() as log:
            events = log.events()
            counts = events.group_by("type").agg(n=events.count())
            kept = log.materialize(counts)
            again = log.materialize(counts)
            assert kept.get_name() == again.get_name()
            expected = log.to_pyarrow(counts.order_by("type"))
            assert log.to_pyarrow(kept.order_by("type")).equals(expected)
            assert log.to_pyarrow(again.order_by("type")).equals(expected)
