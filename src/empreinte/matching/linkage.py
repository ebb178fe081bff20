"""Probabilistic record matching (Fellegi–Sunter) with Splink on its DuckDB backend.

For records with no shared key — a CRM or store file with names, birth dates, addresses — the
model learns how much each kind of agreement says: u (how often two different people agree by
chance) from random pairs, m (how often the same person's records agree) by expectation
maximisation on pairs blocked by same e-mail, same surname and birth year, same postcode…; then
it scores the candidate pairs and clusters them. All scoring is Splink's: this module chooses
the comparisons, the blocking and the training schedule, and turns the answer into typed values.

`match_records(left)` deduplicates one table; `match_records(left, right)` links a table to
reference records (the people already known).
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa

from empreinte.errors import MatchFailed
from empreinte.matching import prepare as prep
from empreinte.store.duckdb.splink import splink_database

DEFAULT_HIGH = 0.95
DEFAULT_LOW = 0.7

# The input columns each comparison shows, by the comparison's output name (joined by spaces;
# for the birth date, the date or else the year).
_COMPARED: Mapping[str, tuple[str, ...]] = {
    "name": ("first_name", "last_name"),
    "birth_date": ("birth_date", "birth_year"),
    "email": ("email",),
    "phone": ("phone",),
    "postcode": ("postcode",),
    "city": ("city",),
    "address": ("address",),
}


@dataclass(frozen=True)
class MatchSettings:
    """How to match. Thresholds are match probabilities.

    - `high_threshold`: pairs at or above it are the same person (accepted automatically).
    - `low_threshold`: pairs between it and `high_threshold` need a person's review; below it
      they are dropped.
    - `fields`: the fields to compare (see `prepare.FIELDS`), all required in every
      table; None compares every known field that both tables have (names are required).
    - `columns` / `reference_columns`: field → column name in the file / in the reference
      table, when it is neither the field's name nor a common alias.
    - `id_column` / `reference_id_column`: the record ids (unique per table).
    - `default_region`: country to read phone numbers written without +country code.
    - `day_first`: read 03/04/1985 as 3 April (else as 4 March).
    - `u_max_pairs`, `em_max_pairs`: training sample sizes (more is slower and steadier).
    - `prior_recall`: the share of true matches that the deterministic rules (same e-mail;
      same names and birth date) are assumed to find, to estimate the prior match rate.
    - `identifiers`: columns holding an id of the person that is not a known field (social
      security, member or account number): compared exact / one typo apart / else, and
      always blocked on. `compare`: other columns to compare as text (street number, state).
      Both are column names, the same in the file and the reference records, required in
      each (`MissingColumns` names an unknown one).
    """

    high_threshold: float = DEFAULT_HIGH
    low_threshold: float = DEFAULT_LOW
    fields: tuple[str, ...] | None = None
    columns: Mapping[str, str] = field(default_factory=dict)
    reference_columns: Mapping[str, str] = field(default_factory=dict)
    id_column: str = "record_id"
    reference_id_column: str = "profile_id"
    default_region: str = "FR"
    day_first: bool = True
    u_max_pairs: float = 2e6
    em_max_pairs: float = 5e6
    prior_recall: float = 0.7
    seed: int = 7
    identifiers: tuple[str, ...] = ()
    compare: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "identifiers", tuple(self.identifiers))
        object.__setattr__(self, "compare", tuple(self.compare))
        prep.extra_columns(self.identifiers, self.compare)  # refuses bad declarations now
        if not 0.0 < self.low_threshold <= self.high_threshold <= 1.0:
            raise MatchFailed(
                "thresholds must satisfy 0 < low ≤ high ≤ 1; got "
                f"low={self.low_threshold}, high={self.high_threshold}"
            )
        if not 0.0 < self.prior_recall <= 1.0:
            raise MatchFailed(f"prior_recall must be in (0, 1]; got {self.prior_recall}")


@dataclass(frozen=True)
class ComparisonDetail:
    """How one compared field agreed in a pair: the level Splink put it in and its weight
    (log2 Bayes factor, term-frequency adjustment included; > 0 argues for a match)."""

    name: str
    level: str
    left: str | None
    right: str | None
    match_weight: float


@dataclass(frozen=True)
class MatchPair:
    """A scored candidate pair. In a link, `left_id` is the file's record and `right_id` the
    reference record; in a deduplication both are the file's, `left_id` < `right_id`."""

    left_id: str
    right_id: str
    probability: float
    match_weight: float
    comparisons: tuple[ComparisonDetail, ...]

    def detail(self) -> list[dict[str, Any]]:
        """The comparisons as plain dicts (for JSON)."""
        return [
            {
                "name": c.name,
                "level": c.level,
                "left": c.left,
                "right": c.right,
                "match_weight": round(c.match_weight, 3),
            }
            for c in self.comparisons
        ]


@dataclass(frozen=True)
class RecordRef:
    """A record of one of the inputs: `side` is "left" (the file) or "right" (reference)."""

    side: Literal["left", "right"]
    id: str


@dataclass(frozen=True)
class MatchResult:
    """Scored pairs at or above the low threshold (best first), the clusters they form at the
    high threshold (only those of two or more records), and what training did."""

    link_type: Literal["dedupe_only", "link_only"]
    settings: MatchSettings
    fields: tuple[str, ...]
    pairs: tuple[MatchPair, ...]
    clusters: tuple[tuple[RecordRef, ...], ...]
    left_records: int
    right_records: int
    model: Mapping[str, Any]
    notes: tuple[str, ...] = ()
    seconds: float = 0.0

    def accepted(self) -> list[MatchPair]:
        """Pairs at or above the high threshold: the same person."""
        return [p for p in self.pairs if p.probability >= self.settings.high_threshold]

    def for_review(self) -> list[MatchPair]:
        """Pairs between the low and the high threshold: a person should decide."""
        return [p for p in self.pairs if p.probability < self.settings.high_threshold]


# -- the Splink model -------------------------------------------------------------------------


def _comparisons(fields: set[str], extras: tuple[prep.ExtraColumn, ...] = ()) -> list[Any]:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    out: list[Any] = []
    if {"first_name", "last_name"} <= fields:
        # One comparison for the whole name, so that swapped first and last names and
        # nicknames are one level each rather than two disagreements.
        jw = "jaro_winkler_similarity"
        out.append(
            cl.CustomComparison(
                output_column_name="name",
                comparison_description="first and last name",
                comparison_levels=[
                    cll.And(cll.NullLevel("first_name"), cll.NullLevel("last_name")),
                    cll.And(cll.ExactMatchLevel("first_name"), cll.ExactMatchLevel("last_name")),
                    cll.ColumnsReversedLevel("first_name", "last_name", symmetrical=True),
                    cll.CustomLevel(
                        "first_name_key_l = first_name_key_r AND "
                        f"{jw}(last_name_l, last_name_r) >= 0.92",
                        "Same first name (or nickname), last name Jaro-Winkler >= 0.92",
                    ),
                    cll.And(
                        cll.JaroWinklerLevel("first_name", 0.92),
                        cll.JaroWinklerLevel("last_name", 0.92),
                    ),
                    cll.And(
                        cll.JaroWinklerLevel("first_name", 0.8),
                        cll.JaroWinklerLevel("last_name", 0.8),
                    ),
                    cll.ExactMatchLevel("last_name").configure(tf_adjustment_column="last_name"),
                    cll.ExactMatchLevel("first_name_key").configure(
                        label_for_charts="Same first name (or nickname) only"
                    ),
                    cll.ElseLevel(),
                ],
            )
        )
    if "birth_date" in fields:
        out.append(
            cl.CustomComparison(
                output_column_name="birth_date",
                comparison_description="birth date or year",
                comparison_levels=[
                    cll.NullLevel("birth_year"),
                    cll.ExactMatchLevel("birth_date"),
                    cll.LevenshteinLevel("birth_date", 1).configure(
                        label_for_charts="Birth date one typo apart"
                    ),
                    cll.CustomLevel(
                        "birth_year_l = birth_year_r AND "
                        "(birth_date_l IS NULL OR birth_date_r IS NULL)",
                        "Same birth year, no full date on one side or both",
                    ),
                    cll.CustomLevel("birth_year_l = birth_year_r", "Same birth year"),
                    cll.LevenshteinLevel("birth_date", 2).configure(
                        label_for_charts="Birth date two typos apart"
                    ),
                    cll.CustomLevel("abs(birth_year_l - birth_year_r) <= 1", "Birth year ±1"),
                    cll.ElseLevel(),
                ],
            )
        )
    if "email" in fields:
        # No Jaro-Winkler level: addresses are often built from the name
        # (jean.dupont75@…, jean.dupont1984@…), so namesakes' addresses look alike.
        out.append(
            cl.CustomComparison(
                output_column_name="email",
                comparison_description="e-mail address",
                comparison_levels=[
                    cll.NullLevel("email"),
                    cll.ExactMatchLevel("email"),
                    cll.LevenshteinLevel("email", 1).configure(label_for_charts="One typo apart"),
                    cll.CustomLevel(
                        "split_part(email_l, '@', 1) = split_part(email_r, '@', 1)",
                        "Same name before @, another domain",
                    ),
                    cll.ElseLevel(),
                ],
            )
        )
    if "phone" in fields:
        out.append(
            cl.CustomComparison(
                output_column_name="phone",
                comparison_description="phone number",
                comparison_levels=[
                    cll.NullLevel("phone"),
                    cll.ExactMatchLevel("phone"),
                    cll.CustomLevel(
                        "right(phone_l, 8) = right(phone_r, 8)", "Same last eight digits"
                    ),
                    cll.LevenshteinLevel("phone", 1).configure(
                        label_for_charts="One digit typo apart"
                    ),
                    cll.ElseLevel(),
                ],
            )
        )
    if "postcode" in fields:
        out.append(
            cl.CustomComparison(
                output_column_name="postcode",
                comparison_description="postcode",
                comparison_levels=[
                    cll.NullLevel("postcode"),
                    cll.ExactMatchLevel("postcode").configure(tf_adjustment_column="postcode"),
                    cll.LevenshteinLevel("postcode", 1).configure(
                        label_for_charts="Postcode one typo apart"
                    ),
                    cll.CustomLevel(
                        "left(postcode_l, 3) = left(postcode_r, 3)", "Same first three characters"
                    ),
                    cll.ElseLevel(),
                ],
            )
        )
    if "city" in fields:
        out.append(
            cl.CustomComparison(
                output_column_name="city",
                comparison_description="city",
                comparison_levels=[
                    cll.NullLevel("city"),
                    cll.ExactMatchLevel("city").configure(tf_adjustment_column="city"),
                    cll.JaroWinklerLevel("city", 0.9),
                    cll.ElseLevel(),
                ],
            )
        )
    if "address" in fields:
        out.append(cl.JaroWinklerAtThresholds("address", [0.95, 0.85, 0.7]))
    for extra in extras:
        column = extra.name
        levels: list[Any]
        if extra.kind == "identifier":
            # No term-frequency adjustment: an id is meant to be unique, and a repeated one
            # (a placeholder such as 0000) is better left to the other comparisons.
            levels = [
                cll.NullLevel(column),
                cll.ExactMatchLevel(column),
                cll.DamerauLevenshteinLevel(column, 1).configure(label_for_charts="One typo apart"),
                cll.ElseLevel(),
            ]
            description = f"identifier {extra.column}"
        else:
            levels = [
                cll.NullLevel(column),
                cll.ExactMatchLevel(column).configure(tf_adjustment_column=column),
                cll.JaroWinklerLevel(column, 0.9),
                cll.ElseLevel(),
            ]
            description = f"column {extra.column}"
        out.append(
            cl.CustomComparison(
                output_column_name=column,
                comparison_description=description,
                comparison_levels=levels,
            )
        )
    return out


def _rules(
    fields: set[str], identifiers: tuple[str, ...] = ()
) -> tuple[list[Any], list[Any], list[Any]]:
    """(blocking rules for prediction, rules for EM training, deterministic rules for the
    prior), each kept only when its fields are compared; `identifiers` are the model names of
    the declared identifier columns."""
    from splink import block_on

    def have(*names: str) -> bool:
        return set(names) <= fields

    predict: list[Any] = [block_on(column) for column in identifiers]
    if have("email"):
        predict.append(block_on("email"))
    if have("phone"):
        predict.append(block_on("phone"))
    if have("birth_date"):
        predict.append(block_on("last_name", "birth_year"))
        predict.append(block_on("first_name_key", "birth_year"))
        predict.append(block_on("birth_date"))
    for place in ("postcode", "city"):
        if have(place):
            predict.append(block_on("last_name", place))
            predict.append(block_on("first_name_key", place))
    predict.append(block_on("first_name_key", "last_name"))
    predict.append({"blocking_rule": "l.first_name = r.last_name AND l.last_name = r.first_name"})

    # A session blocked on a declared identifier estimates how the other fields agree for the
    # same person (its own m comes from the sessions blocked on names).
    train: list[Any] = [block_on(column) for column in identifiers[:1]]
    if have("email"):
        train.append(block_on("email"))
    elif have("phone"):
        train.append(block_on("phone"))
    if have("birth_date"):
        train.append(block_on("last_name", "birth_year"))
    train.append(block_on("first_name_key", "last_name"))
    if have("postcode"):
        train.append(block_on("postcode"))
    elif have("city") and not have("birth_date"):
        train.append(block_on("last_name", "city"))

    prior: list[Any] = []
    if have("email"):
        prior.append(block_on("email"))
    if have("birth_date"):
        prior.append(block_on("first_name", "last_name", "birth_date"))
    if have("phone"):
        prior.append(block_on("first_name", "last_name", "phone"))
    if not prior:
        where = [p for p in ("postcode", "city") if have(p)][:1]
        prior.append(block_on("first_name", "last_name", *where))
    return predict, train, prior


@contextlib.contextmanager
def _quiet_splink() -> Iterator[None]:
    """Splink logs its progress at INFO and chatty advice at WARNING; keep only errors."""
    logger = logging.getLogger("splink")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _level_labels(model: Mapping[str, Any]) -> dict[str, dict[int, str]]:
    """Comparison name → comparison vector value (gamma) → level label, as Splink numbers
    them: the null level is -1, the others count down to 0 (the else level)."""
    out: dict[str, dict[int, str]] = {}
    for comparison in model["comparisons"]:
        levels = comparison["comparison_levels"]
        counter = sum(1 for lv in levels if not lv.get("is_null_level")) - 1
        labels: dict[int, str] = {}
        for lv in levels:
            label = str(lv.get("label_for_charts") or lv["sql_condition"])
            if lv.get("is_null_level"):
                labels[-1] = "Missing on one side"
            else:
                labels[counter] = label
                counter -= 1
        out[str(comparison["output_column_name"])] = labels
    return out


def _fallback_prior(link_type: str, n_left: int, n_right: int) -> float:
    """A prior match rate when no deterministic rule finds anything: in a link, half the
    records of the smaller table have a match; in a deduplication, a tenth of the records
    have one duplicate."""
    if link_type == "link_only":
        return min(0.5, 0.5 * min(n_left, n_right) / max(1, n_left * n_right))
    pairs = max(1, n_left * (n_left - 1) // 2)
    return min(0.5, max(1.0, 0.1 * n_left) / pairs)


# -- the public entry point -------------------------------------------------------------------


def match_records(
    left: Any, right: Any | None = None, settings: MatchSettings | None = None
) -> MatchResult:
    """Deduplicate `left` (when `right` is None) or link `left` to the reference `right`.

    Tables are pyarrow Tables, pandas DataFrames or lists of dicts. A table without the columns
    the settings need is refused with `MissingColumns` before any work; an unusable one
    (repeated or empty ids) with `ImportFailed`. Trains a Splink model on the data itself,
    then returns the pairs at or above the low threshold and the clusters at the high one.
    """
    cfg = settings or MatchSettings()
    started = time.perf_counter()
    extras = prep.extra_columns(cfg.identifiers, cfg.compare)
    left_table = prep.to_arrow(left, "the file")
    left_cols = prep.resolve_columns(
        left_table.column_names, cfg.fields, cfg.columns, cfg.id_column, "the file", extras
    )
    right_table: pa.Table | None = None
    if right is not None:
        right_table = prep.to_arrow(right, "the reference records")
        right_cols = prep.resolve_columns(
            right_table.column_names,
            cfg.fields,
            cfg.reference_columns,
            cfg.reference_id_column,
            "the reference records",
            extras,
        )
        used = [f for f in prep.FIELDS if f in left_cols and f in right_cols]
        left_cols = {f: left_cols[f] for f in used}
        right_cols = {f: right_cols[f] for f in used}
    fields = tuple(f for f in prep.FIELDS if f in left_cols)

    prepared_left = prep.prepare(
        left_table,
        left_cols,
        cfg.id_column,
        "the file",
        region=cfg.default_region,
        day_first=cfg.day_first,
        extras=extras,
    )
    prepared_right = (
        prep.prepare(
            right_table,
            right_cols,
            cfg.reference_id_column,
            "the reference records",
            region=cfg.default_region,
            day_first=cfg.day_first,
            extras=extras,
        )
        if right_table is not None
        else None
    )
    link_type: Literal["dedupe_only", "link_only"] = (
        "dedupe_only" if prepared_right is None else "link_only"
    )
    n_left = prepared_left.num_rows
    n_right = prepared_right.num_rows if prepared_right is not None else 0
    if (
        n_left == 0
        or (link_type == "dedupe_only" and n_left < 2)
        or (link_type == "link_only" and n_right == 0)
    ):
        return MatchResult(
            link_type, cfg, fields, (), (), n_left, n_right, {}, ("nothing to compare",)
        )
    with _quiet_splink():
        pairs, clusters, model, notes = _run_splink(
            cfg, fields, extras, link_type, prepared_left, prepared_right
        )
    return MatchResult(
        link_type=link_type,
        settings=cfg,
        fields=fields,
        pairs=pairs,
        clusters=clusters,
        left_records=n_left,
        right_records=n_right,
        model=model,
        notes=tuple(notes),
        seconds=time.perf_counter() - started,
    )


def _run_splink(
    cfg: MatchSettings,
    fields: tuple[str, ...],
    extras: tuple[prep.ExtraColumn, ...],
    link_type: Literal["dedupe_only", "link_only"],
    left: pa.Table,
    right: pa.Table | None,
) -> tuple[tuple[MatchPair, ...], tuple[tuple[RecordRef, ...], ...], dict[str, Any], list[str]]:
    from splink import Linker, SettingsCreator
    from splink.internals.exceptions import SplinkException

    field_set = set(fields)
    predict_rules, train_rules, prior_rules = _rules(
        field_set, tuple(e.name for e in extras if e.kind == "identifier")
    )
    with splink_database() as db:
        inputs = [db.register(left, table_name="__empreinte_left")]
        if right is not None:
            inputs.append(db.register(right, table_name="__empreinte_right"))
        creator = SettingsCreator(
            link_type=link_type,
            unique_id_column_name="unique_id",
            comparisons=_comparisons(field_set, extras),
            blocking_rules_to_generate_predictions=predict_rules,
            retain_matching_columns=True,
            retain_intermediate_calculation_columns=True,
            probability_two_random_records_match=_fallback_prior(
                link_type, left.num_rows, right.num_rows if right is not None else 0
            ),
        )
        linker = Linker(inputs if len(inputs) > 1 else inputs[0], creator, log_level=None)
        notes: list[str] = []
        try:
            linker.training.estimate_probability_two_random_records_match(
                prior_rules, recall=cfg.prior_recall
            )
        except (SplinkException, ValueError, ZeroDivisionError) as exc:
            notes.append(f"prior: kept the default ({exc.__class__.__name__})")
        try:
            linker.training.estimate_u_using_random_sampling(
                max_pairs=cfg.u_max_pairs, seed=cfg.seed
            )
        except SplinkException as exc:
            raise MatchFailed(f"could not estimate the model from these records: {exc}") from None
        trained = 0
        for rule in train_rules:
            # A session that fails half-way can leave the model without the comparisons it was
            # not estimating: start again from the model as it was before it.
            before = linker.misc.save_model_to_json()
            try:
                linker.training.estimate_parameters_using_expectation_maximisation(
                    rule, max_pairs=cfg.em_max_pairs
                )
                trained += 1
            except (SplinkException, ValueError, ZeroDivisionError) as exc:
                notes.append(f"EM skipped a blocking rule: {str(exc).splitlines()[0][:200]}")
                linker = Linker(inputs if len(inputs) > 1 else inputs[0], before, log_level=None)
        if trained == 0:
            raise MatchFailed(
                "too few records agree on anything (same e-mail, same names…) to train the "
                "matcher; add records or reference people"
            )
        predictions = linker.inference.predict(
            threshold_match_probability=cfg.low_threshold, warning_mode="never"
        )
        model = linker.misc.save_model_to_json()
        table: pa.Table = predictions.as_pyarrow_table()  # type: ignore[no-untyped-call]
        pairs = _pairs(table, model, link_type)
        clusters = _clusters(linker, predictions, cfg.high_threshold, link_type)
        return pairs, clusters, model, notes


def _joined(row: Mapping[str, Any], columns: tuple[str, ...], side: str) -> str | None:
    parts = [str(row[f"{c}_{side}"]) for c in columns if row.get(f"{c}_{side}") is not None]
    if columns[0] == "birth_date":
        parts = parts[:1]
    return " ".join(parts) or None


def _pairs(table: pa.Table, model: Mapping[str, Any], link_type: str) -> tuple[MatchPair, ...]:
    labels = _level_labels(model)
    out: list[MatchPair] = []
    for row in table.to_pylist():
        left_id, right_id = str(row["unique_id_l"]), str(row["unique_id_r"])
        # In a link Splink may put the reference record on the left: turn the pair around.
        swap = link_type == "link_only" and row.get("source_dataset_l") == "__empreinte_right"
        lv, rv = ("r", "l") if swap else ("l", "r")
        details: list[ComparisonDetail] = []
        for name, gammas in labels.items():
            columns = _COMPARED.get(name, (name,))
            weight = float(row.get(f"mw_{name}") or 0.0) + float(
                row.get(f"mw_tf_adj_{name}") or 0.0
            )
            gamma = int(row[f"gamma_{name}"])
            details.append(
                ComparisonDetail(
                    name,
                    gammas.get(gamma, str(gamma)),
                    _joined(row, columns, lv),
                    _joined(row, columns, rv),
                    weight,
                )
            )
        if swap:
            left_id, right_id = right_id, left_id
        weight = float(row["match_weight"])
        out.append(
            MatchPair(
                left_id,
                right_id,
                float(row["match_probability"]),
                weight if math.isfinite(weight) else 0.0,
                tuple(details),
            )
        )
    out.sort(key=lambda p: (-p.probability, p.left_id, p.right_id))
    return tuple(out)


def _clusters(
    linker: Any, predictions: Any, threshold: float, link_type: str
) -> tuple[tuple[RecordRef, ...], ...]:
    clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold
    )
    groups: dict[str, list[RecordRef]] = {}
    for row in clustered.as_pyarrow_table().to_pylist():
        side: Literal["left", "right"] = (
            "right" if row.get("source_dataset") == "__empreinte_right" else "left"
        )
        groups.setdefault(str(row["cluster_id"]), []).append(RecordRef(side, str(row["unique_id"])))
    return tuple(
        tuple(sorted(members, key=lambda r: (r.side, r.id)))
        for members in sorted(groups.values(), key=lambda m: min((r.side, r.id) for r in m))
        if len(members) > 1
    )
