"""Brand-level CX programmes: the quarterly relational NPS, a Kano survey, a checkout A/B test.

Each has a true effect planted for the analytics to find:

- the relational NPS ("nps-relational", e-mailed each quarter to registered customers, no
  touchpoint) is lowered by the friction of the previous `RELATIONAL_WINDOW_MS` — payment
  failures, unresolved contacts, late deliveries, returns — with the penalties of
  `surveys.Friction`, so a key-driver analysis can recover them;
- the Kano survey ("kano-2026", one month, a share of registered customers) asks about
  `KANO_FEATURES`; every feature has a true category per persona (`_KANO`), answered with the
  functional/dysfunctional pair of the standard evaluation table, plus `KANO_NOISE` of random
  answers;
- the experiment `EXPERIMENT` runs in the last `EXPERIMENT_MONTHS` months: a person is in
  "control" or "no_countdown" by a hash of (seed, person), is exposed the first time a product
  page or the checkout is reached with analytics allowed (`Experiment Viewed`), and in the
  "no_countdown" variant goes through the checkout with `NO_COUNTDOWN_EFFECT` times the usual
  probability in the `EXPERIMENT_WINDOW_MS` after exposure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from empreinte.demo.clock import (
    DAY_MS,
    SECOND_MS,
    add_months,
    later,
    on_day,
    to_ms,
)
from empreinte.demo.context import spoken_phone
from empreinte.demo.ids import unique_hex
from empreinte.demo.sampling import Weighted, between
from empreinte.demo.surveys import EVENTS, QUESTIONS, RELATIONAL, Friction, comment, score

if TYPE_CHECKING:
    from empreinte.demo.journeys import Message, Simulation

RELATIONAL_WINDOW_MS = 12 * 7 * DAY_MS  # the friction a relational answer remembers

KANO_SURVEY = "kano-2026"
KANO_ANSWERS = ("like", "expect", "neutral", "tolerate", "dislike")
KANO_FEATURES = (
    "refurbished_grade_photos",
    "carbon_footprint_label",
    "click_and_collect",
    "countdown_timer",
    "live_chat",
)
KANO_NOISE = 0.05  # answers given at random (the "Questionable" ones come from here)
_KANO_SENT = 0.6  # share of registered customers who receive the Kano survey

EXPERIMENT = "checkout-countdown"
VARIANTS = ("control", "no_countdown")
EXPERIMENT_MONTHS = 3
EXPERIMENT_WINDOW_MS = 7 * DAY_MS
NO_COUNTDOWN_EFFECT = 0.75


def _categories(a: float, o: float, m: float, i: float, r: float) -> Weighted:
    """Weights of Attractive, One-dimensional, Must-be, Indifferent, Reverse."""
    return Weighted((("A", a), ("O", o), ("M", m), ("I", i), ("R", r)))


# The true Kano category of each feature: feature → (persona → weights, default weights).
_KANO: dict[str, tuple[dict[str, Weighted], Weighted]] = {
    "refurbished_grade_photos": (
        {"eco-refurbished": _categories(10, 20, 60, 10, 0)},
        _categories(55, 10, 5, 30, 0),
    ),
    "carbon_footprint_label": (
        {"eco-refurbished": _categories(65, 20, 5, 10, 0)},
        _categories(15, 5, 0, 70, 10),
    ),
    "click_and_collect": (
        {
            "store-loyalist": _categories(5, 15, 70, 10, 0),
            "ropo-researcher": _categories(5, 15, 70, 10, 0),
        },
        _categories(10, 15, 55, 20, 0),
    ),
    "countdown_timer": (
        {"eco-refurbished": _categories(5, 0, 0, 35, 60)},
        _categories(15, 0, 0, 55, 30),
    ),
    "live_chat": (
        {"support-heavy": _categories(10, 70, 10, 10, 0)},
        _categories(20, 50, 5, 25, 0),
    ),
}

# (functional, dysfunctional) answers that the evaluation table reads as each category.
_PAIRS: dict[str, Weighted] = {
    "A": Weighted((("like|neutral", 60), ("like|tolerate", 25), ("like|expect", 15))),
    "O": Weighted((("like|dislike", 1),)),
    "M": Weighted((("expect|dislike", 55), ("neutral|dislike", 30), ("tolerate|dislike", 15))),
    "I": Weighted(
        (
            ("neutral|neutral", 50),
            ("neutral|tolerate", 15),
            ("tolerate|neutral", 10),
            ("expect|neutral", 10),
            ("tolerate|tolerate", 10),
            ("expect|expect", 5),
        )
    ),
    "R": Weighted((("dislike|neutral", 45), ("dislike|like", 25), ("neutral|like", 30))),
}


@dataclass(frozen=True)
class Schedule:
    """When the programmes run: the same for everyone."""

    relational_days: tuple[int, ...]  # UTC midnights of the quarterly relational NPS sends
    kano_day: int  # UTC midnight of the Kano survey send
    experiment_from: int  # start of the experiment

    @classmethod
    def build(cls, start: datetime, months: int) -> Schedule:
        # Relational NPS two weeks into each quarter's last month; the Kano survey three
        # quarters into the period; the experiment in its last months.
        def mid_month(m: int) -> int:
            first = add_months(start, m).replace(hour=0, minute=0, second=0, microsecond=0)
            return to_ms(first) + 14 * DAY_MS

        return cls(
            relational_days=tuple(mid_month(m) for m in range(2, months, 3)),
            kano_day=mid_month(months * 3 // 4) - 10 * DAY_MS,
            experiment_from=to_ms(add_months(start, max(0, months - EXPERIMENT_MONTHS))),
        )


def variant(seed: int, index: int) -> str:
    """The experiment variant of person `index`: 50/50, by a hash, never by the person's draws."""
    return VARIANTS[int(unique_hex(seed, 3, index, 0), 16) & 1]


def recent_friction(incidents: list[tuple[int, str, int]], lo: int, hi: int) -> Friction:
    """What went wrong in [lo, hi), from the (time, kind, amount) incidents of a person."""
    friction = Friction()
    for ms, kind, amount in incidents:
        if not lo <= ms < hi:
            continue
        if kind == "payment":
            friction.payment_failed = True
        elif kind == "unresolved":
            friction.unresolved_contact = True
        elif kind == "delay":
            friction.delay_days += amount
        elif kind == "return":
            friction.returned = True
    return friction


def relational_nps(sim: Simulation, lo: int, hi: int) -> None:
    """The quarterly "How likely are you to recommend…" e-mail, answered by some."""
    rng, persona = sim.rng, sim.persona
    for day in sim.world.schedule.relational_days:
        if not lo <= day < hi:
            continue
        send = on_day(rng, day, "send", sim.offset)
        if not sim.registered(send) or rng.random() >= persona.survey_response:
            continue
        friction = recent_friction(sim.incidents, send - RELATIONAL_WINDOW_MS, send)
        value = score("nps", persona, friction, rng, smooth_bonus=0.0)
        lang = sim.profile.lang
        phone = spoken_phone(sim.person.phone, 1)
        props: Message = {
            "score": value,
            "question": QUESTIONS["nps", lang],
            "comment": comment("nps", value, friction, lang, phone, rng),
            "survey_id": RELATIONAL,
        }
        answered = later(rng, send, 0, 4, "online", sim.offset)
        sim.user_message(answered, "email", EVENTS["nps"], props)


def kano(sim: Simulation, lo: int, hi: int) -> None:
    """The one-off Kano survey: a functional and a dysfunctional question per feature."""
    rng = sim.rng
    day = sim.world.schedule.kano_day
    if not lo <= day < hi:
        return
    send = on_day(rng, day, "send", sim.offset)
    if not sim.registered(send) or rng.random() >= _KANO_SENT:
        return
    if rng.random() >= min(0.9, 1.5 * sim.persona.survey_response):
        return
    ms = later(rng, send, 0, 5, "online", sim.offset)
    persona = sim.persona.name
    for feature in KANO_FEATURES:
        if rng.random() < KANO_NOISE:
            functional, dysfunctional = rng.choice(KANO_ANSWERS), rng.choice(KANO_ANSWERS)
        else:
            overrides, default = _KANO[feature]
            category = overrides.get(persona, default).draw(rng)
            functional, dysfunctional = _PAIRS[category].draw(rng).split("|")
        props: Message = {
            "feature": feature,
            "functional": functional,
            "dysfunctional": dysfunctional,
            "survey_id": KANO_SURVEY,
        }
        sim.user_message(ms, "email", "Kano Answered", props)
        ms += between(rng, 5, 40) * SECOND_MS
