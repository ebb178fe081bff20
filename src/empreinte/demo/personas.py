"""The behavioural archetypes that drive the demo customers.

A persona is not a label stuck on random data: every habit below is a parameter the journey
simulator reads, so analytics that cluster customers or compare channels find these groups
again in the events.
"""

from __future__ import annotations

from dataclasses import dataclass

from empreinte.demo.sampling import Weighted

# Pew Research generation bounds, the default of the analytics layer. Gen Alpha is capped at
# 2015 so that the youngest demo customers are about ten.
GENERATIONS: tuple[tuple[str, int, int], ...] = (
    ("boomers", 1946, 1964),
    ("gen_x", 1965, 1980),
    ("gen_y", 1981, 1996),
    ("gen_z", 1997, 2012),
    ("gen_alpha", 2013, 2015),
)


@dataclass(frozen=True)
class Persona:
    """Habits of one archetype; probabilities are in [0, 1], rates per year."""

    name: str
    weight: float  # share of the population
    generations: tuple[float, float, float, float, float]  # weights, in GENERATIONS order
    fr_share: float
    registered: float  # has (or opens) an online account
    existing: float  # of the registered: account opened before the simulated period
    loyalty_card: float
    app_user: float
    browsers: tuple[float, float, float]  # weights of having 1, 2 or 3 browsers
    mobile_web: float  # chance that a browser is a phone's
    journeys_per_year: float
    online_clock: str  # the hours of their online visits (clock._HOURS)
    journeys: Weighted  # journey kinds, see journeys._JOURNEYS
    basket_extra: float  # chance to add one more product, repeatedly (geometric basket)
    refurbished: float  # chance to pick the refurbished variant when one exists
    categories: Weighted
    friction_sensitivity: float  # multiplies how much friction lowers survey scores
    contact_after_failure: float  # chance to contact support after a failed payment
    contact_channels: tuple[float, float, float]  # phone, chat, social
    email_open: float
    email_click: float  # of opened
    campaign_buy: float  # chance that a campaign click ends in a purchase
    marketing_email: float
    marketing_sms: float
    survey_response: float
    nps_base: float  # mean recommendation score (0–10) after a smooth journey


_MOBILE_TECH = (
    ("phones", 3),
    ("gaming", 3),
    ("audio", 2.5),
    ("wearables", 2),
    ("accessories", 2),
    ("fashion", 1.5),
    ("laptops", 0.7),
    ("tablets", 0.7),
    ("books", 0.3),
    ("toys", 0.3),
    ("home", 0.3),
)
_CONSIDERED = (  # big-ticket items researched before buying
    ("laptops", 3.5),
    ("tablets", 3),
    ("audio", 2),
    ("home", 2),
    ("phones", 1.5),
    ("wearables", 1),
    ("gaming", 0.7),
    ("accessories", 0.5),
    ("books", 0.5),
    ("toys", 0.5),
    ("fashion", 0.5),
)
_GADGETS = (  # seen, touched and tried in a shop
    ("audio", 3),
    ("wearables", 3),
    ("gaming", 2),
    ("tablets", 2),
    ("laptops", 1.5),
    ("phones", 1.5),
    ("fashion", 1),
    ("accessories", 1),
    ("home", 0.5),
    ("books", 0.3),
    ("toys", 0.3),
)
_DEALS = (  # what newsletters sell
    ("fashion", 4),
    ("accessories", 3),
    ("books", 2.5),
    ("toys", 1.5),
    ("home", 1.5),
    ("phones", 1),
    ("audio", 1),
    ("wearables", 0.7),
    ("tablets", 0.5),
    ("laptops", 0.5),
    ("gaming", 0.5),
)
_HOME = (
    ("home", 4),
    ("books", 3),
    ("toys", 2.5),
    ("fashion", 1.5),
    ("audio", 1),
    ("phones", 1),
    ("tablets", 1),
    ("laptops", 0.5),
    ("accessories", 1),
    ("gaming", 0.3),
    ("wearables", 0.5),
)
_BALANCED = (
    ("phones", 2),
    ("laptops", 1.5),
    ("tablets", 1),
    ("audio", 1.5),
    ("gaming", 1),
    ("wearables", 1),
    ("home", 1.5),
    ("accessories", 1),
    ("toys", 1),
    ("books", 1.5),
    ("fashion", 1.5),
)
_ECO = (
    ("phones", 4),
    ("laptops", 3),
    ("tablets", 2),
    ("audio", 1),
    ("gaming", 1),
    ("wearables", 0.5),
    ("home", 1.5),
    ("books", 1.5),
    ("fashion", 0.7),
    ("toys", 0.5),
    ("accessories", 0.5),
)

PERSONAS: tuple[Persona, ...] = (
    Persona(
        name="digital-native",
        weight=0.20,
        generations=(0, 0.05, 0.35, 0.52, 0.08),
        fr_share=0.58,
        registered=0.9,
        existing=0.5,
        loyalty_card=0.15,
        app_user=0.95,
        browsers=(0.5, 0.35, 0.15),
        mobile_web=0.9,
        journeys_per_year=12,
        online_clock="online_late",
        journeys=Weighted(
            (
                ("browse_app", 30),
                ("browse_web", 10),
                ("buy_app", 25),
                ("buy_web", 8),
                ("app_to_web", 10),
                ("showroom", 4),
                ("store_buy", 4),
                ("support", 5),
                ("voice", 4),
            )
        ),
        basket_extra=0.1,
        refurbished=0.25,
        categories=Weighted(_MOBILE_TECH),
        friction_sensitivity=1.3,
        contact_after_failure=0.25,
        contact_channels=(0.2, 0.5, 0.3),
        email_open=0.1,
        email_click=0.15,
        campaign_buy=0.1,
        marketing_email=0.35,
        marketing_sms=0.15,
        survey_response=0.15,
        nps_base=7.8,
    ),
    Persona(
        name="store-loyalist",
        weight=0.17,
        generations=(0.55, 0.35, 0.08, 0.02, 0),
        fr_share=0.58,
        registered=0.45,
        existing=0.8,
        loyalty_card=0.92,
        app_user=0.1,
        browsers=(0.85, 0.15, 0),
        mobile_web=0.1,
        journeys_per_year=10,
        online_clock="online_day",
        journeys=Weighted(
            (
                ("store_buy", 60),
                ("store_visit", 15),
                ("browse_web", 10),
                ("buy_web", 4),
                ("ropo", 3),
                ("support", 8),
            )
        ),
        basket_extra=0.5,
        refurbished=0.05,
        categories=Weighted(_HOME),
        friction_sensitivity=0.8,
        contact_after_failure=0.6,
        contact_channels=(0.95, 0.05, 0),
        email_open=0.3,
        email_click=0.1,
        campaign_buy=0.15,
        marketing_email=0.5,
        marketing_sms=0.35,
        survey_response=0.3,
        nps_base=9.0,
    ),
    Persona(
        name="ropo-researcher",
        weight=0.15,
        generations=(0.15, 0.35, 0.35, 0.15, 0),
        fr_share=0.58,
        registered=0.7,
        existing=0.6,
        loyalty_card=0.85,
        app_user=0.35,
        browsers=(0.4, 0.4, 0.2),
        mobile_web=0.3,
        journeys_per_year=6,
        online_clock="online",
        journeys=Weighted(
            (
                ("ropo", 65),
                ("browse_web", 15),
                ("store_buy", 8),
                ("buy_web", 4),
                ("browse_app", 3),
                ("support", 5),
            )
        ),
        basket_extra=0.1,
        refurbished=0.15,
        categories=Weighted(_CONSIDERED),
        friction_sensitivity=1.0,
        contact_after_failure=0.35,
        contact_channels=(0.7, 0.25, 0.05),
        email_open=0.25,
        email_click=0.12,
        campaign_buy=0.1,
        marketing_email=0.4,
        marketing_sms=0.2,
        survey_response=0.22,
        nps_base=8.4,
    ),
    Persona(
        name="showroomer",
        weight=0.10,
        generations=(0.05, 0.2, 0.45, 0.3, 0),
        fr_share=0.58,
        registered=0.85,
        existing=0.5,
        loyalty_card=0.8,
        app_user=0.6,
        browsers=(0.4, 0.4, 0.2),
        mobile_web=0.8,
        journeys_per_year=7,
        online_clock="online_late",
        journeys=Weighted(
            (
                ("showroom", 55),
                ("store_visit", 20),
                ("buy_app", 10),
                ("buy_web", 6),
                ("browse_web", 5),
                ("support", 2),
                ("voice", 2),
            )
        ),
        basket_extra=0.15,
        refurbished=0.2,
        categories=Weighted(_GADGETS),
        friction_sensitivity=1.1,
        contact_after_failure=0.3,
        contact_channels=(0.4, 0.45, 0.15),
        email_open=0.2,
        email_click=0.12,
        campaign_buy=0.1,
        marketing_email=0.35,
        marketing_sms=0.15,
        survey_response=0.2,
        nps_base=7.8,
    ),
    Persona(
        name="eco-refurbished",
        weight=0.13,
        generations=(0.05, 0.2, 0.45, 0.3, 0),
        fr_share=0.75,
        registered=0.85,
        existing=0.6,
        loyalty_card=0.3,
        app_user=0.4,
        browsers=(0.45, 0.4, 0.15),
        mobile_web=0.5,
        journeys_per_year=5,
        online_clock="online",
        journeys=Weighted(
            (
                ("buy_web", 40),
                ("browse_web", 30),
                ("buy_app", 8),
                ("browse_app", 6),
                ("store_buy", 8),
                ("support", 8),
            )
        ),
        basket_extra=0.1,
        refurbished=0.85,
        categories=Weighted(_ECO),
        friction_sensitivity=1.0,
        contact_after_failure=0.35,
        contact_channels=(0.5, 0.4, 0.1),
        email_open=0.3,
        email_click=0.15,
        campaign_buy=0.12,
        marketing_email=0.5,
        marketing_sms=0.15,
        survey_response=0.28,
        nps_base=8.6,
    ),
    Persona(
        name="support-heavy",
        weight=0.10,
        generations=(0.35, 0.35, 0.2, 0.1, 0),
        fr_share=0.58,
        registered=0.8,
        existing=0.7,
        loyalty_card=0.4,
        app_user=0.25,
        browsers=(0.6, 0.3, 0.1),
        mobile_web=0.2,
        journeys_per_year=7,
        online_clock="online_day",
        journeys=Weighted(
            (("buy_web", 30), ("browse_web", 15), ("support", 40), ("store_buy", 10), ("voice", 5))
        ),
        basket_extra=0.2,
        refurbished=0.15,
        categories=Weighted(_BALANCED),
        friction_sensitivity=1.4,
        contact_after_failure=0.85,
        contact_channels=(0.85, 0.1, 0.05),
        email_open=0.25,
        email_click=0.1,
        campaign_buy=0.1,
        marketing_email=0.4,
        marketing_sms=0.3,
        survey_response=0.3,
        nps_base=6.6,
    ),
    Persona(
        name="email-driven",
        weight=0.15,
        generations=(0.35, 0.4, 0.2, 0.05, 0),
        fr_share=0.58,
        registered=0.95,
        existing=0.75,
        loyalty_card=0.5,
        app_user=0.2,
        browsers=(0.55, 0.35, 0.1),
        mobile_web=0.4,
        journeys_per_year=4,
        online_clock="online_breaks",
        journeys=Weighted(
            (
                ("browse_web", 30),
                ("buy_web", 30),
                ("store_buy", 25),
                ("support", 10),
                ("browse_app", 5),
            )
        ),
        basket_extra=0.35,
        refurbished=0.1,
        categories=Weighted(_DEALS),
        friction_sensitivity=1.0,
        contact_after_failure=0.45,
        contact_channels=(0.8, 0.15, 0.05),
        email_open=0.55,
        email_click=0.3,
        campaign_buy=0.3,
        marketing_email=0.97,
        marketing_sms=0.3,
        survey_response=0.25,
        nps_base=8.4,
    ),
)
