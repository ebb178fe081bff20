"""The customer base by generation (`ws.know.generations()`, `empreinte generations`).

Per generation (analytics/generations.py: Pew Research's boundaries unless `[generations]` sets
others), among people who allow `analytics`: how many people, their share of those whose
birth year is known, the age range (ages reached in the reference year), how many ordered
(`Order Completed`) and their revenue (`properties.revenue`), and the NPS of their latest
answers (promoters 9–10 minus detractors 0–6, in points). People without a known birth year
are the last row, `(unknown)`, outside the shares.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from empreinte.analytics.attributes import facts_attribute
from empreinte.analytics.cx.consented import only_consenting
from empreinte.analytics.journeys.touchpoints import touchpoints
from empreinte.analytics.json import JsonDoc
from empreinte.analytics.log import AnalyticsLog

UNKNOWN = "(unknown)"
ORDER = "Order Completed"
NPS = "NPS Answered"


@dataclass(frozen=True)
class GenerationRow:
    generation: str
    born_from: int | None  # first birth year of the generation (None: unknown)
    born_until: int | None  # last birth year (None: open, the youngest generation)
    people: int
    share: float | None  # of the people whose generation is known
    youngest: int | None  # age reached in the reference year
    oldest: int | None
    customers: int
    revenue: float
    respondents: int
    nps: float | None  # promoters minus detractors, in points


@dataclass(frozen=True)
class GenerationsReport:
    year: int  # ages are those reached in this year
    rows: tuple[GenerationRow, ...]

    def to_rows(self) -> list[dict[str, Any]]:
        return [vars(row).copy() for row in self.rows]

    def to_pandas(self) -> pd.DataFrame:
        return pd.DataFrame(self.to_rows(), columns=list(GenerationRow.__dataclass_fields__))


def generation_people(log: AnalyticsLog) -> ir.Table:
    """`profile_id`, `generation` (NULL when the birth year is unknown), `birth_year` of
    every profile with facts, who allows analytics."""
    facts = log.derived("profile_facts")
    generation = facts_attribute(log, facts, "generation")
    people = facts.select("profile_id", "birth_year", generation=generation)
    return only_consenting(log, people)


def generation_table(log: AnalyticsLog) -> ir.Table:
    """The report's figures per generation, in the engine (one row per generation present,
    NULL for the unknown): people, birth years, customers, revenue, respondents, NPS
    counts."""
    people = generation_people(log)
    tp = touchpoints(log)
    orders = tp.filter(tp.step == ORDER)
    orders = orders.mutate(_revenue=JsonDoc(log, orders.properties).number("revenue"))
    bought = orders.group_by("profile_id").agg(
        _orders=orders.count(), _revenue=orders._revenue.fill_null(0.0).sum()
    )
    answers = tp.filter(tp.step == NPS)
    answers = answers.mutate(_score=JsonDoc(log, answers.properties).number("score"))
    answers = answers.filter(answers._score.notnull())
    latest = ibis.window(group_by="profile_id", order_by=[answers.at.desc(), answers.seq.desc()])
    ranked = answers.mutate(_rank=ibis.row_number().over(latest))
    last = ranked.filter(ranked._rank == 0).select(_answerer="profile_id", _score="_score")
    joined = people.left_join(bought, people.profile_id == bought.profile_id).drop(
        "profile_id_right"
    )
    joined = joined.left_join(last, joined.profile_id == last._answerer)
    return joined.group_by("generation").agg(
        people=joined.count(),
        first_year=joined.birth_year.min(),
        last_year=joined.birth_year.max(),
        customers=(joined._orders.fill_null(0) > 0).cast("int64").sum(),
        revenue=joined._revenue.fill_null(0.0).sum().round(2),
        respondents=joined._score.count(),
        promoters=(joined._score >= 9).cast("int64").sum(),
        detractors=(joined._score <= 6).cast("int64").sum(),
    )


def generations_report(log: AnalyticsLog, today: date | None = None) -> GenerationsReport:
    """The customer base by generation, oldest first, then the unknown."""
    year = (today or date.today()).year
    table = log.execute(generation_table(log))
    by_name = {
        (UNKNOWN if pd.isna(r["generation"]) else str(r["generation"])): r
        for r in table.to_dict("records")
    }
    starts = log.settings.generations.starts
    known = sum(int(r["people"]) for name, r in by_name.items() if name != UNKNOWN)
    rows = []
    bounds = [
        (name, start, starts[i + 1][0] - 1 if i + 1 < len(starts) else None)
        for i, (start, name) in enumerate(starts)
    ]
    for name, start, end in [*bounds, (UNKNOWN, None, None)]:
        r = by_name.get(name)
        if r is None:
            continue
        people = int(r["people"])
        respondents = int(r["respondents"])
        nps = (
            round(100 * (int(r["promoters"]) - int(r["detractors"])) / respondents, 1)
            if respondents
            else None
        )
        unknown = name == UNKNOWN
        rows.append(
            GenerationRow(
                generation=name,
                born_from=start,
                born_until=end,
                people=people,
                share=None if unknown or not known else people / known,
                youngest=None if unknown else year - int(r["last_year"]),
                oldest=None if unknown else year - int(r["first_year"]),
                customers=int(r["customers"]),
                revenue=float(r["revenue"]),
                respondents=respondents,
                nps=nps,
            )
        )
    return GenerationsReport(year, tuple(rows))
