"""Consent and marketing: opt-ins, double opt-in, unsubscriptions, and the campaigns.

Campaign e-mails and SMS go only to people whose consent is confirmed and not withdrawn at
the moment of sending; whether they open, click and buy depends on their persona.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from empreinte.demo.campaigns import Campaign
from empreinte.demo.clock import HOUR_MS, MINUTE_MS, SECOND_MS, on_day
from empreinte.demo.context import SITES, server_context
from empreinte.demo.sampling import below, between

if TYPE_CHECKING:
    from empreinte.demo.journeys import Message, Session, Simulation

WORDING = "2024-10"  # version of the consent texts shown


def legacy_consents(sim: Simulation) -> None:
    """Consents of customers who registered before the period, imported on day one."""
    rng, start = sim.rng, sim.world.start_ms
    email = rng.random() < sim.persona.marketing_email
    sms = rng.random() < sim.persona.marketing_sms
    at = start + below(rng, 6 * HOUR_MS)
    props = {
        "purpose": "marketing_email",
        "granted": email,
        "wording_version": "2022-03",
        "source": "legacy_import",
    }
    if email:
        props["confirmation"] = "confirmed"
        sim.email_from = at
    sim.user_message(at, "email", "Consent Updated", props)
    if sms:
        sim.sms_from = at
    sim.user_message(
        at + SECOND_MS,
        "sms",
        "Consent Updated",
        {
            "purpose": "marketing_sms",
            "granted": sms,
            "wording_version": "2022-03",
            "source": "legacy_import",
        },
    )
    _maybe_unsubscribe(sim)


def signup_consents(sim: Simulation, session: Session) -> None:
    """The opt-ins of the sign-up form; e-mail needs a double opt-in."""
    rng = sim.rng
    email = rng.random() < sim.persona.marketing_email
    props: Message = {
        "purpose": "marketing_email",
        "granted": email,
        "wording_version": WORDING,
        "source": "signup_form",
    }
    if email:
        props["confirmation"] = "pending"
    session.track("Consent Updated", props, essential=True)
    sms = rng.random() < sim.persona.marketing_sms
    session.track(
        "Consent Updated",
        {
            "purpose": "marketing_sms",
            "granted": sms,
            "wording_version": WORDING,
            "source": "signup_form",
        },
        essential=True,
    )
    if sms:
        sim.sms_from = session.ms
    session.track(
        "Consent Updated",
        {
            "purpose": "profiling",
            "granted": sim.profiling,
            "wording_version": WORDING,
            "source": "signup_form",
        },
        essential=True,
    )
    if email and rng.random() < 0.88:  # the others never click the confirmation link
        confirmed = session.ms + between(rng, 2 * MINUTE_MS, 3 * HOUR_MS)
        sim.email_from = confirmed
        sim.user_message(
            confirmed,
            "email",
            "Consent Updated",
            {
                "purpose": "marketing_email",
                "granted": True,
                "confirmation": "confirmed",
                "wording_version": WORDING,
                "source": "double_opt_in_link",
            },
        )
    _maybe_unsubscribe(sim)


def _maybe_unsubscribe(sim: Simulation) -> None:
    """Some people later leave the newsletter (link) or the SMS list (STOP)."""
    rng, end = sim.rng, sim.world.end_ms
    if sim.email_from is not None and rng.random() < 0.1:
        sim.email_until = sim.email_from + below(rng, max(1, end - sim.email_from))
        sim.user_message(
            sim.email_until,
            "email",
            "Consent Updated",
            {
                "purpose": "marketing_email",
                "granted": False,
                "wording_version": WORDING,
                "source": "unsubscribe_link",
            },
        )
    if sim.sms_from is not None and rng.random() < 0.1:
        sim.sms_until = sim.sms_from + below(rng, max(1, end - sim.sms_from))
        ctx = server_context("sms", sim.locale)
        ctx["traits"] = {"phone": sim.person.phone}
        props = {
            "purpose": "marketing_sms",
            "granted": False,
            "wording_version": WORDING,
            "source": "sms_stop",
        }
        sim.send(sim.sms_until, "Consent Updated", props, ctx, {"userId": sim.person.user_id})


def campaigns(sim: Simulation, lo: int, hi: int) -> None:
    """Campaign e-mails, SMS and pushes to those who accepted them, and the reactions."""
    rng = sim.rng
    for campaign in sim.world.campaigns:
        day = campaign.day_ms
        if not lo <= day < hi:
            continue
        send = on_day(rng, day, "send", sim.offset)
        email = sim.email_allowed(send) and rng.random() < 0.6
        sms = campaign.sms and sim.sms_allowed(send + 2 * HOUR_MS) and rng.random() < 0.8
        push = sim.push and rng.random() < 0.4
        if email:
            _email(sim, send, campaign)
        if sms:
            _sms(sim, send + 2 * HOUR_MS, campaign)
        if push:
            _push(sim, send + 8 * HOUR_MS, campaign)


def _subject(sim: Simulation, campaign: Campaign) -> str:
    return campaign.subject_fr if sim.profile.lang == "fr" else campaign.subject_en


def _email(sim: Simulation, ms: int, campaign: Campaign) -> None:
    rng, persona = sim.rng, sim.persona
    props = {"campaign_id": campaign.campaign_id, "email_subject": _subject(sim, campaign)}
    sim.user_message(ms, "email", "Email Delivered", props)
    interest = 1.4 if campaign.category in sim.favourites else 1.0
    if rng.random() >= persona.email_open * interest:
        return
    ms += int(rng.expovariate(1 / (3 * HOUR_MS)))
    sim.user_message(ms, "email", "Email Opened", props)
    if rng.random() >= persona.email_click:
        return
    ms += between(rng, 5, 120) * SECOND_MS
    category = campaign.category or sim.choose_category()
    sim.user_message(
        ms,
        "email",
        "Email Link Clicked",
        {**props, "link_url": f"{SITES[sim.country]}/c/{category}"},
    )
    utm = {
        "name": campaign.campaign_id,
        "source": "newsletter",
        "medium": "email",
        "content": "hero",
    }
    _campaign_visit(sim, ms + between(rng, 2, 10) * SECOND_MS, utm, category)


def _campaign_visit(
    sim: Simulation, ms: int, utm: Message, category: str, app: bool = False
) -> None:
    if sim.rng.random() < sim.persona.campaign_buy:
        sim.buy(ms, app=app, campaign=utm, category=category)
    else:
        sim.browse(ms, app=app, campaign=utm, category=category)


def _sms(sim: Simulation, ms: int, campaign: Campaign) -> None:
    props = {"message_type": "marketing", "campaign_id": campaign.campaign_id}
    sim.user_message(ms, "sms", "SMS Delivered", props)
    if sim.rng.random() < 0.04:
        ms += between(sim.rng, 1, 30) * MINUTE_MS
        sim.user_message(ms, "sms", "SMS Link Clicked", props)
        utm = {"name": campaign.campaign_id, "source": "sms", "medium": "sms"}
        category = campaign.category or sim.choose_category()
        _campaign_visit(sim, ms + 5 * SECOND_MS, utm, category)


def _push(sim: Simulation, ms: int, campaign: Campaign) -> None:
    device = sim.app()
    props = {
        "message_type": "marketing",
        "campaign_id": campaign.campaign_id,
        "title": _subject(sim, campaign),
    }
    sim.device_track(device, ms, "Push Notification Received", props, "push")
    if sim.rng.random() < 0.08:
        ms += between(sim.rng, 10, 3600) * SECOND_MS
        sim.device_track(device, ms, "Push Notification Tapped", props, "push")
        utm = {"name": campaign.campaign_id, "source": "push", "medium": "push"}
        category = campaign.category or sim.choose_category()
        _campaign_visit(sim, ms + 2 * SECOND_MS, utm, category, app=True)
