"""Offers: the catalogue, each offer's performance (shown, clicked, declined, redeemed, rates,
budget used) and a preview of a person's next offers with their reasons.

Everything goes through `ws.offers` (activate/offers/service.py) as the API does
(web/activate_offers_api.py), with its roles: analysts and admins; viewers get 403 and no
navigation entry. The preview records no impression (it is not an offer shown to the person)
and names people by their pseudonymous profile id. Performance reads the server's memory
(impressions and feedback), never cached: it is a few counters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from babel.numbers import format_currency

from empreinte.errors import EmpreinteError
from empreinte.web.dashboard.components import Chart, Column, EmptyState, Table, bars
from empreinte.web.dashboard.page import N_, STAFF, Page, View

if TYPE_CHECKING:
    from empreinte.activate.offers.catalogue import Offer
    from empreinte.activate.offers.service import NextOffers, OfferPerformance

CHANNELS = ("", "web", "app", "store", "email")


def _catalogue(view: View, offers: list[Offer]) -> Table:
    _ = view.gettext
    rows = []
    for o in offers:
        targets = [*o.categories, *o.products] + ([o.brand] if o.brand else [])
        budget = []
        if o.budget_redemptions:
            budget.append(_("%(n)s redemptions") % {"n": view.fmt.number(o.budget_redemptions)})
        if o.budget_eur:
            budget.append(format_currency(o.budget_eur, "EUR", locale=view.language))
        rows.append(
            {
                "offer": o.offer_id,
                "title": o.title(view.language),
                "targets": ", ".join(targets),
                "channels": ", ".join(o.channels) or _("all"),
                "from": o.valid_from,
                "until": o.valid_until,
                "eligibility": o.eligibility or _("everyone"),
                "cap": o.cap_per_week,
                "budget": " + ".join(budget) or _("none"),
                "status": _(o.status),
            }
        )
    return Table(
        "offers-catalogue",
        _("Catalogue"),
        [
            Column("offer", _("Offer")),
            Column("title", _("Title")),
            Column("targets", _("Products, categories, brand")),
            Column("channels", _("Channels")),
            Column("from", _("From"), "date"),
            Column("until", _("Until"), "date"),
            Column("eligibility", _("Who (segment)")),
            Column("cap", _("Cap a week"), "number"),
            Column("budget", _("Budget")),
            Column("status", _("Status"), "badge"),
        ],
        rows,
        empty=EmptyState(
            _(
                "No offer yet. Import a catalogue with `empreinte offers import offers.csv` "
                "(or .jsonl), or send one to POST /api/offers."
            )
        ),
    )


def _performance(view: View, rows: list[OfferPerformance]) -> tuple[Table, Chart]:
    _ = view.gettext
    table_rows = [
        {
            "offer": r.offer.offer_id,
            "shown": r.shown,
            "people": r.people,
            "clicked": r.clicked,
            "declined": r.declined,
            "redeemed": r.redeemed,
            "click_rate": r.click_rate,
            "redemption_rate": r.redemption_rate,
            "budget_used": r.budget_used,
        }
        for r in rows
    ]
    table = Table(
        "offers-performance",
        _("Performance"),
        [
            Column("offer", _("Offer")),
            Column("shown", _("Shown"), "number"),
            Column("people", _("People"), "number"),
            Column("clicked", _("Clicked"), "number"),
            Column("declined", _("Declined"), "number"),
            Column("redeemed", _("Redeemed"), "number"),
            Column("click_rate", _("Click rate"), "percent", 1),
            Column("redemption_rate", _("Redemption rate"), "percent", 1),
            Column("budget_used", _("Budget used"), "percent", 1),
        ],
        table_rows,
        caption=_(
            "Shown: the offers this server answered (not what apps say they showed). Redeemed: "
            "redemptions from trusted sources only, the ones a budget pays for."
        ),
    )
    shown = [r for r in rows if r.shown]
    figure = bars(
        [r.offer.offer_id for r in shown],
        {
            _("Shown"): [r.shown for r in shown],
            _("Clicked"): [r.clicked for r in shown],
            _("Declined"): [r.declined for r in shown],
            _("Redeemed"): [r.redeemed for r in shown],
        },
    )
    chart = Chart(
        "offers-funnel",
        _("Shown, clicked, declined and redeemed per offer"),
        figure,
        table,
        empty=EmptyState(
            _(
                "No offer shown yet. Apps ask GET /api/offers/next for a person's offers, then "
                "send Offer Clicked, Offer Declined and Offer Redeemed with the offer_id."
            )
        ),
    )
    return table, chart


def _preview(view: View, found: NextOffers) -> Table:
    _ = view.gettext
    rows = [
        {
            "rank": i + 1,
            "offer": r.offer.offer_id,
            "title": r.offer.title(view.language),
            "reason": r.reason.text,
            "category": r.arm,
            "weight": r.arm_mean,
        }
        for i, r in enumerate(found.offers)
    ]
    return Table(
        "offers-next",
        _("Next offers"),
        [
            Column("rank", _("Rank"), "number"),
            Column("offer", _("Offer")),
            Column("title", _("Title")),
            Column("reason", _("Why")),
            Column("category", _("Category")),
            Column("weight", _("Category weight for this person"), "percent"),
        ],
        rows,
        empty=EmptyState(
            _("No offer left for this person: none is eligible, valid, within its cap and budget.")
        ),
    )


def build(view: View) -> Mapping[str, Any]:
    _ = view.gettext
    service = view.ws.offers
    offers = service.list()
    _table, performance_chart = _performance(view, service.performance())
    profile = view.arg("profile")
    channel = view.choice("channel", CHANNELS, "")
    preview = None
    note = None
    error = None
    if profile:
        try:
            found = service.next(
                profile,
                channel=channel or None,
                n=5,
                lang=view.language,
                seed=view.int_arg("seed", 1, 0, 2**31 - 1),
                record=False,
            )
        except EmpreinteError as exc:
            error = view.problem(exc)
        else:
            preview = _preview(view, found)
            if not found.personalised:
                note = _(
                    "This person does not allow personalisation: they get the best sellers, "
                    "the same for everyone eligible."
                )
    model = service.model()
    return {
        "catalogue": _catalogue(view, offers),
        "performance": performance_chart,
        "profile": profile,
        "channel": channel,
        "channels": [(c, c or _("any channel")) for c in CHANNELS],
        "preview": preview,
        "note": note,
        "error": error,
        "trained_at": model.trained_at if model is not None else None,
    }


OFFERS = Page("offers", "/offers", N_("Offers"), "offers.html", build, STAFF)
PAGES = [OFFERS]
ACTIONS: list[Any] = []
# Statuses of an offer, shown from data.
WORDS = (N_("active"), N_("paused"), N_("ended"))
