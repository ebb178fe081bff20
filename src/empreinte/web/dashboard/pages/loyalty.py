"""Loyalty: the programme's points issued, rewarded, redeemed and expired per month, a
member's ledger (by pseudonymous profile id), and each campaign of brand-funded challenges with
its funnel, its budget bars and, for the retailer or one brand, the incremental sales against
the holdout.

Everything goes through `ws.loyalty` (activate/loyalty/service.py), as the API does
(web/activate_loyalty_api.py), with its roles: analysts and admins read; only admins run the
programme from here. Viewers get 403 and no navigation entry (points are about people).
Programme figures and campaign reports are aggregates: through the report cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from empreinte.errors import EmpreinteError
from empreinte.web.dashboard.components import Chart, Column, EmptyState, Table, bars
from empreinte.web.dashboard.page import ADMINS, N_, STAFF, Action, Page, Redirect, View

KINDS = (N_("earn"), N_("reward"), N_("redeem"), N_("expire"))
WORDS = (*KINDS, N_("fund"), N_("merge"), N_("retailer"))


def _flows_chart(view: View, overview: Mapping[str, Any]) -> Chart:
    _ = view.gettext
    months = sorted({f["month"] for f in overview["flows"]})
    by = {(f["month"], f["kind"]): f["points"] for f in overview["flows"]}
    series = {_(k): [by.get((m, k), 0) for m in months] for k in KINDS}
    rows = [{"month": m, **{k: by.get((m, k), 0) for k in KINDS}} for m in months]
    return Chart(
        "points",
        _("Points per month"),
        bars(months, series),
        Table(
            "points-data",
            _("Points per month"),
            [Column("month", _("Month")), *(Column(k, _(k), "number") for k in KINDS)],
            rows,
        ),
        caption=_(
            "Points earned (purchases, visits, answers), paid as challenge rewards, redeemed "
            "and lapsed, by the month they happened."
        ),
        empty=EmptyState(
            _(
                "No points yet. Points come from purchases sent by a trusted source, store "
                "check-ins, app opens and survey answers, at the next run of the programme."
            )
        ),
    )


def _reason(view: View, kind: str, rule: str, reason: str) -> str:
    """A row's reason in the page's language: the ledger stores English words (data), the
    rule says what happened."""
    _ = view.gettext
    if kind == "earn" and rule.startswith("engage:"):
        name = rule.split(":", 2)[2]
        if name in ("NPS Answered", "CSAT Answered", "CES Answered"):
            return _("survey answer: %(name)s") % {"name": name}
        return _("visit: %(name)s") % {"name": name}
    if kind == "earn" and rule == "purchase":
        return _("purchase: %(details)s") % {"details": reason.removeprefix("order ")}
    if kind == "reward":
        return _("challenge completed: %(challenge)s") % {"challenge": rule.split(":")[-1]}
    if kind == "expire":
        return _("points lapsed")
    if kind == "merge":
        return _("profiles merged: the points follow the person")
    return reason


def _describe(view: View, challenge: Mapping[str, Any]) -> str:
    _ = view.gettext
    what = challenge["brand"]
    if challenge.get("category"):
        what = f"{what} {challenge['category']}"
    return _("buy %(count)s %(what)s product(s) within %(within)s → %(reward)s") % {
        "count": challenge["count"],
        "what": what,
        "within": challenge["within"],
        "reward": view.fmt.number(challenge["reward"], 2),
    }


def _ledger(view: View, profile: str) -> tuple[Table | None, dict[str, Any] | None, str | None]:
    _ = view.gettext
    if not profile:
        return None, None, None
    try:
        balance = view.ws.loyalty.balance(profile)
        rows = view.ws.loyalty.ledger(profile, limit=500)
    except EmpreinteError as exc:
        return None, None, view.problem(exc)
    table = Table(
        "ledger",
        _("Ledger of %(profile)s") % {"profile": balance.profile_id},
        [
            Column("at", _("When"), "datetime"),
            Column("kind", _("Movement"), "badge"),
            Column("points", _("Points"), "number"),
            Column("reason", _("Reason")),
            Column("source", _("Source")),
        ],
        [
            {
                "at": r.at,
                "kind": _(r.kind),
                "points": r.points,
                "reason": _reason(view, r.kind, r.rule, r.reason),
                "source": r.source,
            }
            for r in rows
        ],
        empty=EmptyState(_("No movement on this account yet.")),
        caption=_("Newest first; the balance is the sum of these rows."),
    )
    person = {
        "id": balance.profile_id,
        "href": "/customers/" + quote(balance.profile_id, safe=""),
        "points": balance.points,
        "value": balance.value,
        "member": balance.member,
    }
    return table, person, None


def _campaign(view: View, name: str, brand: str | None) -> dict[str, Any]:
    _ = view.gettext
    report = view.report(
        ("loyalty-report", name, brand), lambda: view.ws.loyalty.report(name, brand)
    )
    doc = report.to_json()
    slug = quote(name, safe="")
    funnel = Table(
        f"funnel-{slug}",
        _("Challenges"),
        [
            Column("description", _("Challenge")),
            Column("offered", _("Offered"), "number"),
            Column("held_out", _("Held out"), "number"),
            Column("accepted", _("Accepted"), "number"),
            Column("completed", _("Completed"), "number"),
            Column("unfunded", _("Budget short"), "number"),
        ],
        [{**c, "description": _describe(view, c)} for c in doc["challenges"]],
    )
    funders = [_(p["funder"]) if p["funder"] == "retailer" else p["funder"].removeprefix(
        "brand:") for p in doc["budget"]]  # fmt: skip
    figure = bars(
        funders,
        {
            _("Used"): [p["used"] for p in doc["budget"]],
            _("Remaining"): [p["left"] for p in doc["budget"]],
        },
        horizontal=True,
        stacked=True,
    )
    budget = Chart(
        f"budget-{slug}",
        _("Budget"),
        figure,
        Table(
            f"budget-data-{slug}",
            _("Budget"),
            [
                Column("funder", _("Funder")),
                Column("funded", _("Funded"), "number", 2),
                Column("used", _("Used"), "number", 2),
                Column("left", _("Remaining"), "number", 2),
            ],
            [{**p, "funder": f} for p, f in zip(doc["budget"], funders, strict=True)],
        ),
        caption=_("Each reward is paid from its brand's pot and the retailer's, never beyond."),
        height=80 + 40 * len(funders),
    )
    lift_rows = []
    for b, lift in doc["incremental_sales"].items():
        interval = lift["interval_95"]
        lift_rows.append(
            {
                "brand": b,
                "offered": lift["offered_people"],
                "holdout": lift["holdout_people"],
                "offered_mean": lift["offered_mean_spend"],
                "holdout_mean": lift["holdout_mean_spend"],
                "lift": lift["incremental_spend_per_person"],
                "low": interval[0] if interval else None,
                "high": interval[1] if interval else None,
            }
        )
    lifts = Table(
        f"lift-{slug}",
        _("Incremental sales"),
        [
            Column("brand", _("Brand")),
            Column("offered", _("People offered"), "number"),
            Column("holdout", _("People held out"), "number"),
            Column("offered_mean", _("Spend per person offered"), "number", 2),
            Column("holdout_mean", _("Spend per person held out"), "number", 2),
            Column("lift", _("Difference"), "number", 2),
            Column("low", _("95% interval, low"), "number", 2),
            Column("high", _("95% interval, high"), "number", 2),
        ],
        lift_rows,
        caption=_(
            "Spend on the brand during the campaign, people offered one of its challenges "
            "against held-out people who would have been; an interval across zero shows no "
            "effect yet."
        ),
        empty=EmptyState(_("Nobody has been offered this campaign yet.")),
    )
    return {
        "name": name,
        "starts": report.campaign.starts,
        "ends": report.campaign.ends - timedelta(seconds=1),
        "brands": sorted(report.campaign.brands),
        "people": doc["eligible_people"],
        "offered": doc["offered_people"],
        "holdout": doc["holdout_people"],
        "used": doc["budget_used"],
        "left": doc["budget_left"],
        "funnel": funnel,
        "budget": budget,
        "lifts": lifts,
    }


def build(view: View) -> Mapping[str, Any]:
    loyalty = view.ws.loyalty
    overview = view.report(("loyalty-overview",), loyalty.overview)
    campaigns = loyalty.campaigns()
    names = [c.name for c in campaigns]
    chosen = view.arg("campaign", names[-1] if names else "")
    brand = view.arg("brand") or None
    campaign = None
    problem = None
    if chosen:
        try:
            campaign = _campaign(view, chosen, brand)
        except EmpreinteError as exc:
            problem = view.problem(exc)
    profile = view.arg("profile")
    ledger, person, ledger_problem = _ledger(view, profile)
    return {
        "overview": overview,
        "flows": _flows_chart(view, overview),
        "campaigns": names,
        "chosen": chosen,
        "brand": brand or "",
        "campaign": campaign,
        "campaign_problem": problem,
        "profile": profile,
        "ledger": ledger,
        "person": person,
        "ledger_problem": ledger_problem,
        "can_run": view.viewer.role in ADMINS,
    }


def run(view: View, form: Mapping[str, str]) -> Redirect:
    view.ws.loyalty.run()
    return Redirect("/loyalty", "ran")


LOYALTY = Page(
    "loyalty",
    "/loyalty",
    N_("Loyalty"),
    "loyalty.html",
    build,
    STAFF,
    notices={"ran": N_("The programme ran: new events earned their points.")},
)
PAGES = [LOYALTY]
ACTIONS = [Action("/loyalty/run", run, LOYALTY, ADMINS)]
