"""Partners: what the retailer may hand to a brand. Pick a brand (those bought by at least k
people), a breakdown and a period; see its penetration, repeat rate, share of wallet and
switching per category, suppressed cells marked; download the tables as CSV.

Staff only, as the issue asks (the same report is open to viewers over the API, under their
small-group rule). The figures are ws.partners' (analytics/partners/), cached as every
aggregate of the dashboard.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from empreinte.errors import EmpreinteError, InvalidInput
from empreinte.web.dashboard.components import Chart, Column, EmptyState, Table, bars
from empreinte.web.dashboard.page import N_, STAFF, Action, Page, View

if TYPE_CHECKING:
    from empreinte.analytics.partners.report import PartnerReport
    from empreinte.analytics.partners.service import BrandList

BREAKDOWNS = ("", "generation", "country", "city")
# The labels of the report's special rows (analytics/partners/counts.py, report.py).
_SPECIAL = {"(all)": N_("All"), "(other)": N_("Other groups"), "(unknown)": N_("Unknown")}
BUYER_COLUMNS = ("category_buyers", "brand_buyers", "repeat_buyers")
BUYER_RATES = ("penetration", "repeat_rate", "share_of_wallet")
SWITCH_COLUMNS = ("switch_base", "kept", "lost", "won", "never")
SWITCH_RATES = ("retention", "conquest")


def _labels(view: View) -> dict[str, str]:
    _ = view.gettext
    return {
        "category_buyers": _("Category buyers"),
        "brand_buyers": _("Brand buyers"),
        "repeat_buyers": _("Repeat buyers"),
        "penetration": _("Penetration"),
        "repeat_rate": _("Repeat rate"),
        "share_of_wallet": _("Share of wallet"),
        "switch_base": _("Bought twice or more"),
        "kept": _("Kept (brand → brand)"),
        "lost": _("Lost (brand → others)"),
        "won": _("Won (others → brand)"),
        "never": _("Others → others"),
        "retention": _("Retention"),
        "conquest": _("Conquest"),
    }


def _day(view: View, name: str) -> datetime | None:
    text = view.arg(name)
    if not text:
        return None
    try:
        return datetime.combine(date.fromisoformat(text), datetime.min.time())
    except ValueError:
        raise InvalidInput(name, f"`{name}` must be a date (YYYY-MM-DD)") from None


def _name(view: View, value: str) -> str:
    special = _SPECIAL.get(value)
    return view.gettext(special) if special else value


def _brands_table(view: View, found: BrandList) -> Table:
    _ = view.gettext
    rows = [
        {
            "brand": b.name,
            "href": "/partners?" + _query({"brand": b.name}),
            "buyers": b.buyers,
            "categories": b.categories,
        }
        for b in found.brands
    ]
    return Table(
        "brands",
        _("Brands"),
        [
            Column("brand", _("Brand"), "link", href="href"),
            Column("buyers", _("Buyers"), "number"),
            Column("categories", _("Categories"), "number"),
        ],
        rows,
        caption=_("Brands bought by at least %(k)s people in the period, most bought first.")
        % {"k": view.fmt.number(found.k)},
        empty=EmptyState(
            _(
                "No brand has enough buyers yet. Orders count when they come from a trusted "
                "source (your back end, not the web page) with a brand on each product line."
            )
        ),
    )


def _query(values: Mapping[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(values)


def _table(
    view: View,
    report: PartnerReport,
    id: str,
    title: str,
    counts: Sequence[str],
    rates: Sequence[str],
    caption: str,
) -> Table:
    _ = view.gettext
    labels = _labels(view)
    suppressed = _("suppressed")
    rows = []
    for row in report.rows:
        item: dict[str, Any] = {
            "category": _name(view, row.category),
            "group": _name(view, row.group),
        }
        for name in counts:
            value = row.counts[name].value
            item[name] = suppressed if value is None else value
        for name in rates:
            item[name] = row.rates[name]
        rows.append(item)
    columns = [Column("category", _("Category"))]
    if report.by is not None:
        columns.append(Column("group", _("Group")))
    columns += [Column(name, labels[name], "number") for name in counts]
    columns += [Column(name, labels[name], "percent", 1) for name in rates]
    return Table(id, title, columns, rows, page_size=25, caption=caption)


def _chart(view: View, report: PartnerReport) -> Chart:
    _ = view.gettext
    labels = _labels(view)
    totals = [r for r in report.rows if r.group == "(all)"]
    x = [_name(view, r.category) for r in totals]
    series = {labels[name]: [r.rates[name] for r in totals] for name in BUYER_RATES}
    rows = [
        {"category": name, **{key: r.rates[key] for key in BUYER_RATES}}
        for name, r in zip(x, totals, strict=True)
    ]
    columns = [Column("category", _("Category"))]
    columns += [Column(name, labels[name], "percent", 1) for name in BUYER_RATES]
    return Chart(
        "partner-rates",
        _("%(brand)s per category") % {"brand": report.brand},
        bars(x, series, percent_axis=True),
        Table("partner-rates-data", _("Rates per category"), columns, rows),
        caption=_(
            "Penetration: brand buyers among the category's buyers. Repeat rate: brand buyers "
            "who bought it in two orders or more. Share of wallet: the mean part of a brand "
            "buyer's spending on the category that went to the brand."
        ),
    )


def build(view: View) -> Mapping[str, Any]:
    _ = view.gettext
    partners = view.ws.partners
    context: dict[str, Any] = {
        "form": {
            "brand": view.arg("brand"),
            "by": view.arg("by"),
            "k": view.arg("k"),
            "since": view.arg("since"),
            "until": view.arg("until"),
        },
        "breakdowns": [
            ("", _("none")),
            ("generation", _("Generation")),
            ("country", _("Country")),
            ("city", _("City")),
        ],
        "min_k": partners.settings.k,
        "report": None,
        "error": None,
        "brands": None,
        "brand_names": [],
    }
    try:
        by = view.choice("by", BREAKDOWNS, "") or None
        k = view.int_arg("k", partners.settings.k, 1, 10_000)
        since, until = _day(view, "since"), _day(view, "until")
        found = view.report(
            ("partner-brands", since, until, k),
            lambda: partners.brands(since=since, until=until, k=k),
        )
        context["brands"] = _brands_table(view, found)
        context["brand_names"] = [b.name for b in found.brands]
        brand = view.arg("brand")
        if not brand:
            return context
        report = view.report(
            ("partner-report", brand.lower(), by, since, until, k),
            lambda: partners.report(brand, by=by, since=since, until=until, k=k),
        )
    except EmpreinteError as exc:
        context["error"] = view.problem(exc)
        return context
    note = _(
        "“suppressed”: fewer than %(k)s people, or withheld so that such a count cannot be "
        "worked out from the totals. Competitors are never named: “others” are all other "
        "brands together."
    ) % {"k": view.fmt.number(report.k)}
    context.update(
        report=report,
        suppressed=_("suppressed"),
        rates_chart=_chart(view, report),
        buyers=_table(
            view,
            report,
            "partner-buyers",
            _("Buyers, penetration and repeat"),
            BUYER_COLUMNS,
            BUYER_RATES,
            note,
        ),
        switching=_table(
            view,
            report,
            "partner-switching",
            _("Switching between brands"),
            SWITCH_COLUMNS,
            SWITCH_RATES,
            _(
                "People who bought the category in two orders or more: the brand in their "
                "first order of it against their last. Retention: kept among those who "
                "started with the brand; conquest: won among those who started elsewhere."
            ),
        ),
        below=report.categories_below_k,
    )
    return context


PARTNERS = Page("partners", "/partners", N_("Partners"), "partners.html", build, STAFF)
PAGES = [PARTNERS]
ACTIONS: list[Action] = []
