"""A partner report: what a retailer may hand to a brand about its customer base, per category
and group, without describing fewer than k people anywhere.

Per category the brand sells in (and `(all)`, every category at once), per group (generation,
country or city; `(all)` the whole base), two tables of people counts, each protected by
cells.py:

- buyers: `category_buyers` = `brand_buyers` + `other_buyers`, `brand_buyers` =
  `repeat_buyers` + `one_time_buyers`; rates `penetration` = brand / category buyers,
  `repeat_rate` = repeat / brand buyers, `share_of_wallet` = the mean, over the brand
  buyers, of the part of each one's spending on the category that went to the brand;
- switching, among people with two orders or more in the category, their first against their
  last order: `kept` (brand → brand), `lost` (brand → other brands), `won` (other → brand),
  `never` (other → other), `from_brand` = kept + lost, `from_other` = won + never,
  `switch_base` = all four; rates `retention` = kept / from_brand, `conquest` =
  won / from_other.

Competitors are never named: "other brands" is one column. The retailer's sales of brand B
are B's business secret, and handing them to B's competitor A through the retailer would be
the exchange of competitively sensitive information that competition law (hub-and-spoke)
forbids, whatever the cell sizes.

Groups with fewer than k category buyers are folded into one `(other)` row before suppression
(a city of 3 buyers says nothing useful; folded, its people still count in a row of their
own). The total row is protected first, alone, and that pattern is kept in every breakdown,
so that two breakdowns of one report cannot be played against each other through their total.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa

from empreinte.analytics.partners.cells import Mark, Relation, protect
from empreinte.analytics.partners.counts import ALL, SHARE_UNIT, UNKNOWN
from empreinte.analytics.partners.labels import label

OTHER = "(other)"

#: Buyers table: atoms (counted per person) and the sums published beside them.
BUYER_ATOMS = {"R": "repeat_buyers", "O": "one_time_buyers", "X": "other_buyers"}
BUYER_SUMS = {
    "brand_buyers": ("repeat_buyers", "one_time_buyers"),
    "category_buyers": ("repeat_buyers", "one_time_buyers", "other_buyers"),
}
SWITCH_ATOMS = {"PP": "kept", "PO": "lost", "OP": "won", "OO": "never"}
SWITCH_SUMS = {
    "from_brand": ("kept", "lost"),
    "from_other": ("won", "never"),
    "switch_base": ("kept", "lost", "won", "never"),
}
COUNTS = (
    "category_buyers",
    "brand_buyers",
    "repeat_buyers",
    "one_time_buyers",
    "other_buyers",
    "switch_base",
    "from_brand",
    "from_other",
    "kept",
    "lost",
    "won",
    "never",
)
RATES = ("penetration", "repeat_rate", "share_of_wallet", "retention", "conquest")


@dataclass(frozen=True)
class Count:
    """A published count: its value when shown, else None with the reason (`mark`)."""

    value: int | None
    mark: Mark

    def text(self, lang: str = "en") -> str:
        return label("suppressed", lang) if self.value is None else str(self.value)


@dataclass(frozen=True)
class PartnerRow:
    category: str
    group: str
    counts: Mapping[str, Count]
    rates: Mapping[str, float | None]


@dataclass(frozen=True)
class PartnerReport:
    brand: str
    by: str | None
    k: int
    since: datetime | None
    until: datetime | None
    rows: tuple[PartnerRow, ...]
    #: Categories where the brand has fewer than k buyers: not reported.
    categories_below_k: int = 0
    primary: int = 0  # cells suppressed for being below k
    complementary: int = 0  # cells suppressed so that those cannot be worked out
    #: Categories whose breakdown could not be protected with the total row kept as published
    #: alone: reported on their total row only.
    unbroken: tuple[str, ...] = ()

    def to_rows(self) -> list[dict[str, Any]]:
        """One dict per row: category, group, each count (int, or None when withheld), its
        mark (`<count>_mark`: shown / suppressed), each rate (None: not shown)."""
        out = []
        for row in self.rows:
            item: dict[str, Any] = {"category": row.category, "group": row.group}
            for name in COUNTS:
                item[name] = row.counts[name].value
                item[f"{name}_mark"] = row.counts[name].mark.value
            item.update(row.rates)
            out.append(item)
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "brand": self.brand,
            "by": self.by,
            "k": self.k,
            "since": None if self.since is None else self.since.isoformat(),
            "until": None if self.until is None else self.until.isoformat(),
            "categoriesBelowK": self.categories_below_k,
            "rows": self.to_rows(),
        }

    def to_csv(self, lang: str = "en") -> str:
        """The report as a partner reads it, headers in `lang` (en, fr): a suppressed count
        says "suppressed" ("masqué"), never 0; rates as fractions (0.25: 25 %); no cell a
        spreadsheet would run as a formula (names come from events)."""
        from empreinte.analytics.cx.rendering import to_csv

        rows = []
        for row in self.rows:
            item: dict[str, Any] = {
                label("brand", lang): self.brand,
                label("category", lang): label(row.category, lang),
                label("group", lang): label(row.group, lang),
            }
            for name in COUNTS:
                item[label(name, lang)] = row.counts[name].text(lang)
            for name in RATES:
                rate = row.rates[name]
                item[label(name, lang)] = None if rate is None else round(rate, 4)
            rows.append(item)
        return to_csv(rows)

    def to_arrow(self) -> pa.Table:
        """The report as Parquet's columns: counts nullable integers with their mark."""
        rows = self.to_rows()
        columns: dict[str, pa.Array] = {
            "brand": pa.array([self.brand] * len(rows), pa.string()),
            "category": pa.array([r["category"] for r in rows], pa.string()),
            "group": pa.array([r["group"] for r in rows], pa.string()),
        }
        for name in COUNTS:
            columns[name] = pa.array([r[name] for r in rows], pa.int64())
            columns[f"{name}_mark"] = pa.array([r[f"{name}_mark"] for r in rows], pa.string())
        for name in RATES:
            columns[name] = pa.array([r[name] for r in rows], pa.float64())
        table = pa.table(columns)
        return table.replace_schema_metadata({"k": str(self.k), "brand": self.brand})


@dataclass
class _Group:
    """One group's atoms and amounts (folded groups added together)."""

    atoms: dict[str, int] = field(default_factory=dict)
    share_units: int = 0  # the brand buyers' shares in billionths (counts.SHARE_UNIT)
    share_n: int = 0

    def add(self, other: _Group) -> None:
        for name, value in other.atoms.items():
            self.atoms[name] = self.atoms.get(name, 0) + value
        self.share_units += other.share_units
        self.share_n += other.share_n

    def count(self, name: str) -> int:
        sums = BUYER_SUMS.get(name) or SWITCH_SUMS.get(name) or (name,)
        return sum(self.atoms.get(part, 0) for part in sums)


def groups_of(records: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, _Group]]:
    """The engine's counts (counts.py's COLUMNS) as category → group → atoms."""
    out: dict[str, dict[str, _Group]] = {}
    for record in records:
        group = out.setdefault(str(record["category"]), {}).setdefault(str(record["grp"]), _Group())
        people = int(record["people"])
        kind = BUYER_ATOMS[str(record["kind"])]
        group.atoms[kind] = group.atoms.get(kind, 0) + people
        switch = record["switch"]
        if isinstance(switch, str):
            name = SWITCH_ATOMS[switch]
            group.atoms[name] = group.atoms.get(name, 0) + people
        group.share_units += int(record["share_units"] or 0)
        group.share_n += int(record["share_n"] or 0)
    return out


@dataclass(frozen=True)
class Built:
    """One category's rows (total row first), what it took, and the total row's marks."""

    rows: list[PartnerRow]
    primary: int
    complementary: int
    total_marks: dict[str, Mark]
    broken_down: bool


def build_rows(
    category: str,
    total: _Group,
    groups: Mapping[str, _Group],
    k: int,
    base: Mapping[str, Mark] | None,
) -> Built:
    """The protected rows of one category. `groups` empty: the total row alone; `base`: the
    total row's marks when protected alone, kept here (its shown cells are published
    anyway). A breakdown that cannot be protected so falls back to the total row alone."""
    folded: dict[str, _Group] = {}
    other = _Group()
    for name, group in groups.items():
        if group.count("category_buyers") < k:
            other.add(group)
        else:
            folded[name] = group
    if other.atoms:
        folded[OTHER] = other
    labels = sorted(folded, key=lambda name: (name in (OTHER, UNKNOWN), name == OTHER, name))
    rows = [ALL, *labels]
    members = {ALL: total, **folded}
    marks: dict[tuple[str, str], Mark] = {}
    primary = complementary = 0
    for atoms, sums in ((BUYER_ATOMS, BUYER_SUMS), (SWITCH_ATOMS, SWITCH_SUMS)):
        columns = [*atoms.values(), *sums]
        cells = [(row, column) for row in rows for column in columns]
        index = {cell: i for i, cell in enumerate(cells)}
        values = [members[row].count(column) for row, column in cells]
        relations = [
            Relation(index[(row, name)], tuple(index[(row, part)] for part in parts))
            for row in rows
            for name, parts in sums.items()
        ]
        relations += [
            Relation(index[(ALL, column)], tuple(index[(row, column)] for row in labels))
            for column in columns
            if labels
        ]
        # Cheapest complements first: a group's inner cell, a group's sum, the total row.
        priority = [(2 if row == ALL else 0) + (column in sums) for row, column in cells]
        fixed: frozenset[int] = frozenset()
        pre: frozenset[int] = frozenset()
        if base is not None:
            fixed = frozenset(index[(ALL, c)] for c in columns if base[c] is Mark.SHOWN)
            pre = frozenset(index[(ALL, c)] for c in columns if base[c] is not Mark.SHOWN)
        result = protect(values, relations, k, priority=priority, suppressed=pre, fixed=fixed)
        if not result.complete:
            return build_rows(category, total, {}, k, None)
        primary += result.primary
        complementary += result.rounds
        for cell, i in index.items():
            marks[cell] = result.marks[i]
    out = []
    for row in rows:
        group = members[row]
        counts = {
            name: Count(
                group.count(name) if marks[(row, name)] is Mark.SHOWN else None,
                marks[(row, name)],
            )
            for name in COUNTS
        }
        out.append(PartnerRow(category, row, counts, _rates(counts, group)))
    total_marks = {column: marks[(ALL, column)] for column in COUNTS}
    return Built(out, primary, complementary, total_marks, bool(groups))


def _rates(counts: Mapping[str, Count], group: _Group) -> dict[str, float | None]:
    def ratio(top: str, bottom: str) -> float | None:
        a, b = counts[top].value, counts[bottom].value
        return None if a is None or b is None or b == 0 else a / b

    share = None
    if counts["brand_buyers"].value is not None and group.share_n > 0:
        share = round(group.share_units / (group.share_n * SHARE_UNIT), 6)
    return {
        "penetration": ratio("brand_buyers", "category_buyers"),
        "repeat_rate": ratio("repeat_buyers", "brand_buyers"),
        "share_of_wallet": share,
        "retention": ratio("kept", "from_brand"),
        "conquest": ratio("won", "from_other"),
    }
