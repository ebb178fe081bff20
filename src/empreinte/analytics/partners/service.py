"""Partner insights of a workspace, as one object: `workspace.partners`.

    ws = empreinte.open("shop")
    ws.partners.brands()                                 # brands with k buyers or more
    report = ws.partners.report("Apple", by="generation")
    report.to_csv()                                      # what the brand receives
    pq.write_table(report.to_arrow(), "apple.parquet")

Each call opens the log (DuckDB, or Spark when chosen), counts in the engine (counts.py), and
protects the counts in Python (cells.py) before anything leaves.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import ibis.expr.types as ir

from empreinte.analytics.log import AnalyticsLog
from empreinte.analytics.partners.counts import (
    ALL,
    BREAKDOWNS,
    Breakdown,
    brand_buyers,
    brand_key,
    partner_counts,
    report_lines,
)
from empreinte.analytics.partners.report import PartnerReport, PartnerRow, build_rows, groups_of
from empreinte.analytics.partners.settings import K_CEILING, PartnerSettings
from empreinte.errors import InvalidInput

MAX_BRAND = 200


@dataclass(frozen=True)
class Brand:
    """A brand with at least k buyers in the period: `name`, `buyers` (people), `categories`."""

    name: str
    buyers: int
    categories: int


@dataclass(frozen=True)
class BrandList:
    k: int
    brands: tuple[Brand, ...]

    def to_rows(self) -> list[dict[str, Any]]:
        return [vars(brand).copy() for brand in self.brands]


class Partners:
    """Brands and partner reports of one workspace."""

    def __init__(
        self,
        open_log: Callable[[], AnalyticsLog],
        local: Callable[[datetime], datetime],
        settings: PartnerSettings,
        trusted: Collection[str],
    ):
        """`open_log()` opens the log for one report; `local` reads a datetime without an
        offset in the workspace's time zone; `trusted`: the workspace's trusted sources."""
        self._open_log = open_log
        self._local = local
        self.settings = settings
        self._sources = settings.source_names(trusted)

    def check_k(self, k: int | None) -> int:
        """`k`, or the workspace's minimum; never below it."""
        if k is None:
            return self.settings.k
        if isinstance(k, bool) or not isinstance(k, int) or not self.settings.k <= k <= K_CEILING:
            raise InvalidInput(
                "k",
                f"give a whole number from {self.settings.k} (the workspace's [partners] k) "
                f"to {K_CEILING}",
            )
        return k

    def brands(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        k: int | None = None,
    ) -> BrandList:
        """The brands bought by at least k people in the period, most bought first."""
        size = self.check_k(k)
        since, until = self._window(since, until)
        with self._open_log() as log:
            lines = report_lines(log, since=since, until=until, sources=self._sources)
            return brand_list(log, lines, size)

    def _window(
        self, since: datetime | None, until: datetime | None
    ) -> tuple[datetime | None, datetime | None]:
        """[`since`, `until`) in the workspace's zone when without an offset; not empty."""
        since = None if since is None else self._local(since)
        until = None if until is None else self._local(until)
        if since is not None and until is not None and since >= until:
            raise InvalidInput("until", "must be after since (the period is empty)")
        return since, until

    def report(
        self,
        brand: str,
        *,
        by: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        k: int | None = None,
    ) -> PartnerReport:
        """The protected report of `brand` per category, by `by` (generation, country, city;
        None: the whole base) over [`since`, `until`)."""
        size = self.check_k(k)
        if by is not None and by not in BREAKDOWNS:
            raise InvalidInput("by", f"{by!r} is not one of {', '.join(BREAKDOWNS)}")
        name = brand.strip() if isinstance(brand, str) else ""
        if not name or len(name) > MAX_BRAND:
            raise InvalidInput("brand", f"give a brand name of 1 to {MAX_BRAND} characters")
        since, until = self._window(since, until)
        with self._open_log() as log:
            return partner_report(
                log,
                name,
                by=by,  # type: ignore[arg-type]  # checked above
                since=since,
                until=until,
                k=size,
                sources=self._sources,
            )


def brand_list(log: AnalyticsLog, lines: ir.Table, k: int) -> BrandList:
    """The brands of `lines` bought by at least `k` people, most bought first."""
    table = brand_buyers(log, lines)
    table = table.filter(table.buyers >= k).order_by([table.buyers.desc(), table.name])
    frame = log.execute(table)
    brands = tuple(
        Brand(str(row.name), int(row.buyers), int(row.categories)) for row in frame.itertuples()
    )
    return BrandList(k, brands)


def partner_report(
    log: AnalyticsLog,
    brand: str,
    *,
    by: Breakdown | None,
    since: datetime | None,
    until: datetime | None,
    k: int,
    sources: Collection[str] | None,
) -> PartnerReport:
    """The protected report of `brand` (checked: at least `k` buyers) on `log`; times are
    the caller's, zone included."""
    lines = report_lines(log, since=since, until=until, sources=sources)
    known = {brand_key(b.name): b for b in brand_list(log, lines, k).brands}
    found = known.get(brand_key(brand))
    if found is None:
        raise InvalidInput(
            "brand",
            f"no brand {brand!r} with at least {k} buyers in the period (see the brands list)",
        )
    totals = groups_of(log.execute(partner_counts(log, lines, found.name, None)).to_dict("records"))
    by_group = (
        groups_of(log.execute(partner_counts(log, lines, found.name, by)).to_dict("records"))
        if by is not None
        else {}
    )
    rows: list[PartnerRow] = []
    below = primary = complementary = 0
    unbroken: list[str] = []
    for category in sorted(totals, key=lambda c: (c != ALL, c)):
        total = totals[category][ALL]
        if total.count("brand_buyers") < k:
            below += category != ALL
            continue
        built = build_rows(category, total, {}, k, None)
        if by is not None:
            split = build_rows(category, total, by_group.get(category, {}), k, built.total_marks)
            if not split.broken_down:
                unbroken.append(category)
            built = split
        rows += built.rows
        primary += built.primary
        complementary += built.complementary
    return PartnerReport(
        brand=found.name,
        by=by,
        k=k,
        since=since,
        until=until,
        rows=tuple(rows),
        categories_below_k=below,
        primary=primary,
        complementary=complementary,
        unbroken=tuple(unbroken),
    )
