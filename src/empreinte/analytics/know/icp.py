"""ICP fit of B2B accounts: how close each account (`group` calls) is to the ideal customer
profile, with the reason per criterion, and what the account does with the brand.

The ideal customer profile is described in `empreinte.toml` (or passed to `icp_report`):

```toml
[icp]
industries = ["technology", "marketing"]   # an account's `industry` trait, any case
employees = [10, 200]                      # inclusive range of the `employees` trait
countries = ["FR", "BE"]                   # the account's `country` trait, else its members'
weights = { industry = 50, employees = 30, country = 20 }   # default: equal weights
```

The fit is 100 × the sum of the weights of the criteria the account meets, over the sum of
the weights of the criteria the profile states; an unknown value meets nothing. An account's
traits are those of its latest `group` call that gives each; its members are the people whose
`group` calls name it; its orders and revenue are those members' `Order Completed` (of people
who allow `analytics`, as every behavioural figure).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from empreinte.analytics.journeys.touchpoints import touchpoints
from empreinte.analytics.json import JsonDoc
from empreinte.analytics.know.icp_profile import IdealCustomer, ideal_customer
from empreinte.analytics.log import AnalyticsLog
from empreinte.errors import AnalyticsError

ACCOUNT_TRAITS = ("name", "industry", "employees", "country")


@dataclass(frozen=True)
class Criterion:
    """How one account fares on one criterion."""

    criterion: str
    value: str | None
    met: bool
    weight: float
    reason: str


@dataclass(frozen=True)
class AccountFit:
    group_id: str
    name: str | None
    industry: str | None
    employees: int | None
    country: str | None
    fit: float  # 0–100
    criteria: tuple[Criterion, ...]
    members: int
    customers: int
    orders: int
    revenue: float

    @property
    def reasons(self) -> str:
        return "; ".join(c.reason for c in self.criteria)


@dataclass(frozen=True)
class IcpReport:
    profile: IdealCustomer
    accounts: tuple[AccountFit, ...]  # best fit first

    def to_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "group_id": a.group_id,
                "name": a.name,
                "industry": a.industry,
                "employees": a.employees,
                "country": a.country,
                "fit": a.fit,
                "members": a.members,
                "customers": a.customers,
                "orders": a.orders,
                "revenue": a.revenue,
                "reasons": a.reasons,
            }
            for a in self.accounts
        ]

    def to_pandas(self) -> pd.DataFrame:
        columns = ["group_id", "name", "industry", "employees", "country", "fit"]
        columns += ["members", "customers", "orders", "revenue", "reasons"]
        return pd.DataFrame(self.to_rows(), columns=columns)


def account_table(log: AnalyticsLog) -> ir.Table:
    """One row per account and member: `group_id`, `profile_id`, and the account's traits
    (`ACCOUNT_TRAITS`, as text) from its latest group call giving each."""
    events = log.events()
    calls = events.filter((events.type == "group") & events.group_id.notnull())
    owned = log.with_owner(calls.select("seq", "identifiers", "group_id", "timestamp", "traits"))
    accounts = owned.select("group_id", "profile_id").distinct()
    for trait in ACCOUNT_TRAITS:
        given = owned.mutate(_value=JsonDoc(log, owned.traits).text(trait))
        given = given.filter(given._value.notnull())
        newest = ibis.window(
            group_by="group_id", order_by=[given.timestamp.desc(), given.seq.desc()]
        )
        ranked = given.mutate(_rank=ibis.row_number().over(newest))
        latest = ranked.filter(ranked._rank == 0).select(_group="group_id", **{trait: "_value"})
        accounts = accounts.left_join(latest, accounts.group_id == latest._group).drop("_group")
    return accounts


def icp_report(log: AnalyticsLog, profile: IdealCustomer | None) -> IcpReport:
    """Every account's fit to `profile`, best first (then by revenue, then id)."""
    if profile is None:
        raise AnalyticsError(
            "no ideal customer profile: describe it in empreinte.toml's [icp] section"
            " (industries, employees, countries, weights) or pass one"
        )
    members = account_table(log)
    tp = touchpoints(log)
    orders = tp.filter(tp.step == "Order Completed")
    orders = orders.mutate(_revenue=JsonDoc(log, orders.properties).number("revenue"))
    per_person = orders.group_by("profile_id").agg(
        _orders=orders.count(), _revenue=orders._revenue.fill_null(0.0).sum()
    )
    joined = members.left_join(per_person, members.profile_id == per_person.profile_id)
    facts = log.derived("profile_facts")
    joined = joined.left_join(facts, joined.profile_id == facts.profile_id)
    rows = log.execute(
        joined.select(
            "group_id",
            *ACCOUNT_TRAITS,
            member=joined.profile_id,
            member_country=joined.country_right,
            orders=joined._orders.fill_null(0),
            revenue=joined._revenue.fill_null(0.0),
        )
    )
    accounts = [
        account_fit(profile, str(group_id), group) for group_id, group in rows.groupby("group_id")
    ]
    accounts.sort(key=lambda a: (-a.fit, -a.revenue, a.group_id))
    return IcpReport(profile, tuple(accounts))


def _text(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


def account_fit(profile: IdealCustomer, group_id: str, rows: pd.DataFrame) -> AccountFit:
    first = rows.iloc[0]
    industry = _text(first["industry"])
    employees_text = _text(first["employees"])
    try:
        employees = None if employees_text is None else int(float(employees_text))
    except ValueError:
        employees = None
    country = _text(first["country"])
    if country is None:
        # The members' most frequent country (ties: alphabetical).
        seen = Counter(c for c in rows["member_country"] if _text(c))
        country = min(seen, key=lambda c: (-seen[c], c)) if seen else None
    country = country.upper() if country else None
    criteria = []
    for name in profile.stated:
        criteria.append(_criterion(profile, name, industry, employees, country))
    total = sum(c.weight for c in criteria)
    met = sum(c.weight for c in criteria if c.met)
    return AccountFit(
        group_id=group_id,
        name=_text(first["name"]),
        industry=industry,
        employees=employees,
        country=country,
        fit=round(100 * met / total, 1),
        criteria=tuple(criteria),
        members=int(rows["member"].nunique()),
        customers=int((rows["orders"] > 0).sum()),
        orders=int(rows["orders"].sum()),
        revenue=round(float(rows["revenue"].sum()), 2),
    )


def _criterion(
    profile: IdealCustomer,
    name: str,
    industry: str | None,
    employees: int | None,
    country: str | None,
) -> Criterion:
    weight = profile.weight(name)
    if name == "industry":
        if industry is None:
            return Criterion(name, None, False, weight, "industry unknown")
        met = industry.casefold() in {i.casefold() for i in profile.industries}
        verdict = "is" if met else "is not"
        return Criterion(name, industry, met, weight, f"industry {industry} {verdict} in the ICP")
    if name == "employees":
        assert profile.employees is not None
        low, high = profile.employees
        if employees is None:
            return Criterion(name, None, False, weight, "employees unknown")
        met = low <= employees <= high
        where = "within" if met else ("below" if employees < low else "above")
        reason = f"{employees} employees {where} {low}–{high}"
        return Criterion(name, str(employees), met, weight, reason)
    if country is None:
        return Criterion(name, None, False, weight, "country unknown")
    met = country in profile.countries
    verdict = "is" if met else "is not"
    return Criterion(name, country, met, weight, f"country {country} {verdict} in the ICP")


__all__ = ["AccountFit", "Criterion", "IcpReport", "IdealCustomer", "icp_report", "ideal_customer"]
