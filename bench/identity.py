"""Identity benchmark: full rebuild and incremental resolution, against networkx.

Not a test: it prints figures. One run:

1. makes N synthetic people of the demo's shape (measured on `empreinte.demo.people`: every
   person has an e-mail and a phone, 78 % a user id, 50 % a loyalty card, 2.04 anonymous ids
   and 0.46 app devices on average: 5.8 identifiers each) and their identified events (first
   visits, logins, newsletter sign-ups, store purchases, calls, e-mail clicks), plus the
   pathological identifiers merge protection exists for: family tablets shared by a household
   (one device id and app anonymous id, several logins), shared family e-mails, and
   call-centre / switchboard numbers used by many callers;
2. writes all events but the last `--incremental` into a workspace's log (identifier keys as
   ingestion stores them: "type:value", e-mails and phones as pseudonyms) and times the full
   rebuild (`IdentityService.rebuild`: log → identities and conflicts), then loading the
   resolver's in-memory state;
3. appends the held-back events and times `sync()` on them, in one batch and in small batches
   (as a server syncing after each group commit would);
4. runs networkx's `connected_components` on the same edges (the rebuild's star edges over
   the same integer codes), and prints both and the ratio.

    .venv/bin/python bench/identity.py [--people 1000000] [--incremental 100000]
                                       [--small-batch 1000] [--rebuilds 3] [--no-networkx]

The generator is numpy plus one DuckDB statement: the demo generator's full event stream
would take minutes for a million people and carries mostly events with no new identifier.
"""

from __future__ import annotations

import argparse
import gc
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa

import empreinte
from empreinte.identity.graph import Overrides
from empreinte.identity.rebuild import code_log, event_edges
from empreinte.identity.rules import MergeRules
from empreinte.identity.service import IdentityService
from empreinte.store.duckdb.engine import DuckDBEngine
from empreinte.store.duckdb.identity_store import DuckDBIdentityStore

Ints = npt.NDArray[np.int64]

# Identifier kinds, as slot codes of the generator.
USER, EMAIL, PHONE, CARD, DEVICE, ANON = range(6)
_KEY_SQL = {
    USER: "'user_id:u' || lpad(to_hex({v}), 10, '0')",
    EMAIL: "'email:pii_' || md5('e' || {v}::VARCHAR)",
    PHONE: "'phone:pii_' || md5('p' || {v}::VARCHAR)",
    CARD: "'loyalty_card:' || lpad({v}::VARCHAR, 12, '0')",
    DEVICE: "'device_id:' || md5('d' || {v}::VARCHAR)[:16]",
    ANON: "'anonymous_id:' || md5('a' || {v}::VARCHAR)",
}
SLOTS = 3


class Events:
    """Events as fixed slots (kind, value) per event, -1 for an empty slot."""

    def __init__(self) -> None:
        self.kinds: list[npt.NDArray[np.int8]] = []
        self.values: list[Ints] = []
        self.person: list[Ints] = []

    def add(self, person: Ints, *slots: tuple[int, Ints] | None) -> None:
        n = len(person)
        kinds = np.full((n, SLOTS), -1, dtype=np.int8)
        values = np.full((n, SLOTS), -1, dtype=np.int64)
        for i, slot in enumerate(slots):
            if slot is not None:
                kind, value = slot
                kinds[:, i] = kind
                values[:, i] = value
        self.kinds.append(kinds)
        self.values.append(values)
        self.person.append(person)

    def done(self) -> tuple[npt.NDArray[np.int8], Ints, Ints]:
        return (
            np.concatenate(self.kinds),
            np.concatenate(self.values),
            np.concatenate(self.person),
        )


def synthesise(people: int, seed: int) -> tuple[npt.NDArray[np.int8], Ints, dict[str, int]]:
    """(kinds, values) per event in log order, and counts of the pathological cases."""
    rng = np.random.default_rng(seed)
    n = people
    idx = np.arange(n, dtype=np.int64)
    has_user = rng.random(n) < 0.78
    has_card = rng.random(n) < 0.50
    n_anon = rng.choice([1, 2, 3, 4], n, p=[0.33, 0.4, 0.18, 0.09])  # mean 2.03
    n_dev = rng.choice([0, 1, 2], n, p=[0.62, 0.30, 0.08])  # mean 0.46
    # Shared family e-mails: 1 % of people use a partner's address.
    email = idx.copy()
    sharers = rng.choice(n, n // 100, replace=False)
    email[sharers] = rng.integers(0, n, len(sharers))
    ev = Events()

    # Web and app visits: one first visit per anonymous id (with the app's device id for the
    # first installs), then, for most, a login (user id + e-mail) or a newsletter sign-up.
    anon_person = np.repeat(idx, n_anon)
    anon_rank = np.arange(len(anon_person)) - np.repeat(np.cumsum(n_anon) - n_anon, n_anon)
    anon_id = np.arange(len(anon_person), dtype=np.int64)
    on_app = anon_rank < n_dev[anon_person]
    device_id = np.cumsum(on_app) - 1  # the j-th app install gets the j-th device id
    ev.add(anon_person[~on_app], (ANON, anon_id[~on_app]))
    ev.add(anon_person[on_app], (ANON, anon_id[on_app]), (DEVICE, device_id[on_app]))
    identified = rng.random(len(anon_person)) < 0.8
    login = identified & has_user[anon_person]
    signup = identified & ~has_user[anon_person]
    p = anon_person[login]
    ev.add(p, (ANON, anon_id[login]), (USER, p), (EMAIL, email[p]))
    p = anon_person[signup]
    ev.add(p, (ANON, anon_id[signup]), (EMAIL, email[p]))
    # A second page view of an identified visitor (the anonymous id with the user id).
    p = anon_person[login]
    ev.add(p, (ANON, anon_id[login]), (USER, p))
    # Store purchases with the loyalty card (and the e-mail on the receipt).
    p = idx[has_card]
    ev.add(p, (CARD, p), (EMAIL, email[p]))
    # Calls to the call centre: the caller's number, and the user id once authenticated.
    callers = idx[rng.random(n) < 0.3]
    known = has_user[callers]
    ev.add(callers[known], (PHONE, callers[known]), (USER, callers[known]))
    ev.add(callers[~known], (PHONE, callers[~known]))
    # E-mail clicks: the e-mail alone.
    p = idx[rng.random(n) < 0.5]
    ev.add(p, (EMAIL, email[p]))

    # Family tablets: 3 % of people share one with their household (2 to 4 people): one app
    # install (anonymous id + device id), each member logging in on it.
    members = rng.choice(n, int(n * 0.03), replace=False)
    sizes = rng.choice([2, 3, 4], len(members))
    household = np.repeat(np.arange(len(sizes)), sizes)[: len(members)]
    tablets = int(household.max()) + 1 if len(household) else 0
    tablet_anon = len(anon_id) + household
    tablet_device = int(device_id.max()) + 1 + household
    ev.add(members, (ANON, tablet_anon), (DEVICE, tablet_device))
    logged = has_user[members]
    m = members[logged]
    ev.add(m, (ANON, tablet_anon[logged]), (DEVICE, tablet_device[logged]), (USER, m))
    # Call-centre / switchboard numbers: 200 numbers, each the caller id of 50 customers.
    numbers, per_number = 200, 50
    callers = rng.choice(idx[has_user], numbers * per_number, replace=False)
    line = n + np.repeat(np.arange(numbers, dtype=np.int64), per_number)
    ev.add(callers, (PHONE, line), (USER, callers))

    kinds, values, person = ev.done()
    # Each person's events spread over a year; the log is in time order.
    order = np.argsort(rng.random(len(person)), kind="stable")
    stats = {
        "households": tablets,
        "tablet_users": len(members),
        "shared_email_users": len(sharers),
        "switchboard_numbers": numbers,
        "switchboard_callers": numbers * per_number,
    }
    return kinds[order], values[order], stats


def write_events(
    engine: DuckDBEngine, kinds: npt.NDArray[np.int8], values: Ints, first: int
) -> None:
    """Append events numbered from `first`, building the identifier keys in SQL."""
    n = len(kinds)
    columns: dict[str, pa.Array] = {"seq": pa.array(np.arange(first, first + n, dtype=np.int64))}
    for i in range(SLOTS):
        columns[f"k{i}"] = pa.array(kinds[:, i])
        columns[f"v{i}"] = pa.array(values[:, i])
    cur = engine._con.cursor()
    cur.register("_bench", pa.table(columns))

    def key(i: int) -> str:
        whens = " ".join(
            f"WHEN {kind} THEN {sql.format(v=f'v{i}')}" for kind, sql in _KEY_SQL.items()
        )
        return f"CASE k{i} {whens} END"

    keys = ", ".join(key(i) for i in range(SLOTS))
    cur.execute("SET SESSION preserve_insertion_order = true")
    cur.execute(
        "INSERT INTO events (seq, message_id, source, type, timestamp, received_at, is_bot,"
        " identifiers) SELECT seq, 'bench-' || seq::VARCHAR, 'bench', 'track',"
        " TIMESTAMPTZ '2025-01-01 00:00:00+00' + to_microseconds(seq * 1000),"
        " TIMESTAMPTZ '2025-01-01 00:00:00+00' + to_microseconds(seq * 1000), false,"
        f" list_filter([{keys}], lambda x: x IS NOT NULL) FROM _bench ORDER BY seq"
    )
    cur.unregister("_bench")
    cur.execute("CHECKPOINT")
    cur.close()


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--incremental", type=int, default=100_000, help="events held back")
    parser.add_argument("--small-batch", type=int, default=1000, help="events per small sync")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rebuilds", type=int, default=3, help="full rebuilds to time")
    parser.add_argument("--no-networkx", action="store_true")
    parser.add_argument("--keep", type=Path, help="keep the workspace in this directory")
    args = parser.parse_args()

    started = time.perf_counter()
    kinds, values, stats = synthesise(args.people, args.seed)
    total = len(kinds)
    held = min(args.incremental, total // 2)
    identifiers = int((kinds >= 0).sum())
    print(
        f"people {args.people:,}  events {total:,} ({identifiers:,} identifier occurrences)"
        f"  generated in {time.perf_counter() - started:.1f} s"
    )
    print("pathological: " + ", ".join(f"{k} {v:,}" for k, v in stats.items()))

    root = args.keep or Path(tempfile.mkdtemp(prefix="identity-bench-"))
    ws = empreinte.open(root / "ws")
    try:
        engine = ws.engine
        assert isinstance(engine, DuckDBEngine)
        t = time.perf_counter()
        write_events(engine, kinds[: total - held], values[: total - held], 1)
        print(f"log written: {total - held:,} events in {time.perf_counter() - t:.1f} s")

        # -- full rebuild ---------------------------------------------------------------
        service = IdentityService.open(engine, MergeRules(), salt="bench")
        runs = []
        for _ in range(args.rebuilds):
            gc.collect()
            runs.append(service.rebuild())
        report = min(runs, key=lambda r: r.seconds)
        times = sorted(r.seconds for r in runs)
        print(
            f"\nFULL REBUILD  best {report.seconds:.2f} s, median {times[len(times) // 2]:.2f} s"
            f" of {len(runs)}  ({report.events:,} events, {report.identifiers:,} identifiers"
            f" → {report.profiles:,} profiles; {report.components:,} components,"
            f" {report.replayed_components:,} over a limit replayed: {report.replayed_events:,}"
            f" events, {report.conflicts:,} conflicts)"
        )
        print("  best run: " + "  ".join(f"{name} {secs:.2f}" for name, secs in report.timings))
        t = time.perf_counter()
        service.sync()  # loads the in-memory state (nothing new to resolve)
        service._loaded()
        print(f"state loaded in {time.perf_counter() - t:.2f} s; peak RSS {rss_mb():,.0f} MB")

        # -- incremental ----------------------------------------------------------------
        cut = total - held
        small = min(args.small_batch, held // 10)
        smalls = 10
        big = held - small * smalls
        write_events(engine, kinds[cut : cut + big], values[cut : cut + big], cut + 1)
        t = time.perf_counter()
        sync = service.sync()
        one = time.perf_counter() - t
        per = dict(sync.timings)
        print(
            f"\nINCREMENTAL  {sync.events:,} events in one sync: {one:.2f} s"
            f" = {one / max(sync.events, 1) * 1e6:.1f} µs/event"
            f" ({sync.identifiers_changed:,} identities written, {sync.conflicts:,} conflicts)"
        )
        print(
            "             of which per event: "
            + ", ".join(f"{k} {v / max(sync.events, 1) * 1e6:.1f} µs" for k, v in per.items())
        )
        spent = 0.0
        resolve = 0.0
        for i in range(smalls):
            start = cut + big + i * small
            write_events(
                engine, kinds[start : start + small], values[start : start + small], start + 1
            )
            t = time.perf_counter()
            report_small = service.sync()
            spent += time.perf_counter() - t
            resolve += dict(report_small.timings)["resolve"]
        print(
            f"             {smalls} syncs of {small:,} events: "
            f"{spent / (smalls * small) * 1e6:.1f} µs/event in all, of which resolving"
            f" {resolve / (smalls * small) * 1e6:.1f} µs (the rest: reading and writing)"
        )

        # -- networkx on the same edges -------------------------------------------------
        store = DuckDBIdentityStore(engine)
        with store.rebuild_session(engine.max_seq()) as work:
            log = code_log(work.occurrences(), MergeRules(), Overrides())
        a, b = event_edges(log)
        nodes = log.size
        del log
        gc.collect()
        ours = service.rebuild()
        print(f"\nfull rebuild of all {ours.events:,} events: {ours.seconds:.2f} s")
        if not args.no_networkx:
            import networkx as nx

            del service
            gc.collect()
            t = time.perf_counter()
            graph_nx = nx.Graph()
            graph_nx.add_nodes_from(range(nodes))
            graph_nx.add_edges_from(zip(a.tolist(), b.tolist(), strict=True))
            built = time.perf_counter() - t
            t = time.perf_counter()
            count = sum(1 for _ in nx.connected_components(graph_nx))
            cc = time.perf_counter() - t
            print(
                f"networkx: graph of {nodes:,} nodes / {len(a):,} edges built in {built:.2f} s,"
                f" connected_components {cc:.2f} s ({count:,} components; total"
                f" {built + cc:.2f} s)"
            )
            print(
                f"\nRATIO  networkx (build + connected_components) / full rebuild = "
                f"{(built + cc) / ours.seconds:.1f}×  (connected_components alone: "
                f"{cc / ours.seconds:.1f}×)"
            )
            if count != ours.components:
                print(f"!! networkx found {count:,} components, the rebuild {ours.components:,}")
        print(f"\npeak RSS {rss_mb():,.0f} MB")
    finally:
        ws.close()
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
