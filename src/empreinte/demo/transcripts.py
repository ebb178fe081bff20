"""Call transcripts of the demo, as a call centre's speech-to-text would deliver them.

A transcript is a list of turns `{speaker: "agent" | "customer", text, start, end}` (seconds
from the start of the call), with the pauses, holds and overtalk of a real call. What is said
follows a `CallPlan`: the reason for calling (one of `phrases.REASONS`, which the simulation
derives from what the person did before — a failed payment, a late parcel, a return), and
whether the agent solved it (the customer's last words are happy or not). Some turns carry
personal data as people say it — their name, a card number read in digits or in words
(sometimes over two turns), an IBAN, an e-mail address spelled out, a phone number, an
address — for the redaction at ingestion to remove; `Transcript.planted` lists it.

Each transcript draws from its own generator, seeded by the call (`call_rng`): adding calls
to the demo changes none of the other messages, and `transcripts(n, seed)` streams any
number of them without simulating people (bench/voc.py).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from empreinte.demo import phrases
from empreinte.demo.phrases import REASONS

#: The service's reason codes (demo/service.py) → the reason for calling that is planted.
REASON_OF_CONTACT = {
    "order_status": "delivery",
    "payment_failed": "payment",
    "return_request": "refund",
    "product_question": "product_question",
    "billing": "payment",
    "loyalty_points": "account",
    "account_access": "account",
}
#: The queue a call lands in, by reason.
QUEUES = {
    "delivery": "orders",
    "refund": "returns",
    "payment": "payments",
    "product_question": "sales",
    "complaint": "escalations",
    "account": "accounts",
}
#: Agents by country: (agent id, first name). The first two of each are new in the job: they
#: take more of the unresolved calls and talk over customers more (coaching has a finding).
AGENTS: dict[str, tuple[tuple[str, str], ...]] = {
    "FR": tuple(
        (f"AG-FR-{i + 1:02d}", name)
        for i, name in enumerate(
            ("Julie", "Karim", "Sophie", "Thomas", "Nadia", "Lucas", "Camille", "Mehdi")
        )
    ),
    "US": tuple(
        (f"AG-US-{i + 1:02d}", name)
        for i, name in enumerate(("Tyler", "Brianna", "Marcus", "Jenna", "Carlos", "Megan"))
    ),
}
_JUNIORS = 2
RECORDED = 0.85  # share of calls recorded and transcribed (the others refused recording)
_WORDS_PER_S = 2.6
_TYPED_WORDS_PER_S = 0.7


@dataclass(frozen=True)
class Caller:
    """Who calls, as they would say it."""

    first_name: str
    last_name: str
    email: str
    phone: str  # E.164
    city: str
    lang: str  # "fr" | "en"
    country: str  # "FR" | "US"


@dataclass(frozen=True)
class CallPlan:
    """What the call is about and how it ends."""

    reason: str  # one of phrases.REASONS
    resolved: bool
    order_id: str | None = None
    product: str | None = None
    days: int = 0  # days late, days since the return…
    wait_s: int = 0  # what the caller waited in the queue (the telephony's figure)
    duration_s: int = 0  # the telephony's length of the call; 0: the transcript's own


@dataclass(frozen=True)
class Planted:
    """Personal data said on the call: `kind` is a key of text_pii.PLACEHOLDERS, `said` the
    words as they appear in the raw transcript (one turn's text, or over two)."""

    kind: str
    said: str


@dataclass
class Transcript:
    turns: list[dict[str, Any]]
    agent_id: str
    queue: str
    duration: float
    language: str
    planted: list[Planted] = field(default_factory=list)

    def properties(self) -> dict[str, Any]:
        """The transcript's part of a `Call Completed` event's properties."""
        return {
            "transcript": self.turns,
            "language": self.language,
            "duration": self.duration,
            "queue": self.queue,
            "agent_id": self.agent_id,
        }


def call_rng(seed: int, call_id: str) -> random.Random:
    """The generator of one call's transcript: a function of the seed and the call alone."""
    return random.Random(f"voc-transcript-{seed}-{call_id}")


def recorded(seed: int, call_id: str) -> bool:
    """Whether this call was recorded (and so transcribed)."""
    return random.Random(f"voc-recorded-{seed}-{call_id}").random() < RECORDED


# ---- personal data as it is said -------------------------------------------------------


def _luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * 2 if i % 2 == 0 else int(ch)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def card_number(rng: random.Random) -> str:
    """A Luhn-valid 16-digit Visa or Mastercard number (test ranges: no real card)."""
    prefix = rng.choice(("4970", "4539", "5131", "5412"))
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(11))
    return body + _luhn_digit(body)


def iban_fr(rng: random.Random) -> str:
    """A French IBAN with valid RIB key and check digits, grouped by four as read out."""
    bank = f"{rng.randrange(10_000, 100_000)}"
    branch = f"{rng.randrange(100_000):05d}"
    account = f"{rng.randrange(10**11):011d}"
    key = 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97
    bban = f"{bank}{branch}{account}{key:02d}"
    check = 98 - int(bban + "152700") % 97  # "FR00" moved to the end, F=15, R=27
    iban = f"FR{check:02d}{bban}"
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def in_words(digits: str, lang: str) -> str:
    """Digits as a speech-to-text engine writes them when they are said one by one."""
    words = phrases.DIGIT_WORDS[lang]
    return " ".join(words[int(d)] for d in digits if d.isdigit())


def spelled_email(email: str, lang: str) -> str:
    """An address spelled out loud: "marie point dupont arobase mail point fr"."""
    at, dot = phrases.AT_DOT[lang]
    local, _, domain = email.partition("@")
    return f" {at} ".join(part.replace(".", f" {dot} ") for part in (local, domain))


def _spoken_phone(e164: str) -> str:
    """A number as said: by pairs in France, 3-3-4 in the US."""
    if e164.startswith("+33"):
        national = "0" + e164[3:]
        return " ".join(national[i : i + 2] for i in range(0, 10, 2))
    return f"{e164[2:5]} {e164[5:8]} {e164[8:]}"


# ---- the conversation --------------------------------------------------------------------


class _Script:
    """Turns said in order, each `(speaker, text, pause before)`; timings come after."""

    def __init__(self, rng: random.Random, lang: str, chat: bool = False) -> None:
        self.rng = rng
        self.lang = lang
        self.chat = chat
        self.lines: list[tuple[str, str, float]] = []
        self.planted: list[Planted] = []

    def say(self, speaker: str, text: str, pause: float | None = None) -> None:
        if pause is None:
            pause = self.rng.uniform(2.0, 15.0) if self.chat else self.rng.uniform(0.2, 1.2)
        self.lines.append((speaker, text, pause))

    def pick(self, lines: phrases.Lines, **slots: Any) -> str:
        return self.rng.choice(lines[self.lang]).format(**slots)


def _say_card(script: _Script) -> None:
    """A card number read out: in digits by groups, in words, or over two turns."""
    rng, lang = script.rng, script.lang
    card = card_number(rng)
    groups = [card[i : i + 4] for i in range(0, 16, 4)]
    lead = script.pick(phrases.CARD_LEAD)
    style = rng.choice((0, 2)) if script.chat else rng.randrange(3)
    if style == 0:
        said = " ".join(groups)
        script.say("customer", f"{lead} {said}.")
    elif style == 1:
        said = ", ".join(in_words(g, lang) for g in groups)
        script.say("customer", f"{lead} {said}.")
    else:  # the agent acknowledges half-way: the number spans two customer turns
        first, second = " ".join(groups[:2]), " ".join(groups[2:])
        script.say("customer", f"{lead} {first}")
        script.say("agent", script.pick(phrases.CARD_MIDDLE))
        script.say("customer", f"{second}.")
        said = f"{first} | {second}"
    script.planted.append(Planted("CARD", said))


def _say_personal(script: _Script, caller: Caller, plan: CallPlan) -> None:
    """The identification and, depending on the reason, the personal data people give."""
    rng, lang = script.rng, script.lang
    if rng.random() < 0.7:
        script.say("agent", script.pick(phrases.ASK_IDENTITY))
        name = script.pick(phrases.GIVE_NAME, first=caller.first_name, last=caller.last_name)
        script.say("customer", name)
        script.planted.append(Planted("PERSON", f"{caller.first_name} {caller.last_name}"))
    if plan.reason == "payment" and rng.random() < 0.7:
        script.say("agent", script.pick(phrases.ASK_CARD))
        _say_card(script)
    elif plan.reason == "refund" and caller.country == "FR" and rng.random() < 0.5:
        script.say("agent", script.pick(phrases.ASK_IBAN))
        iban = iban_fr(rng)
        script.say("customer", f"{script.pick(phrases.IBAN_LEAD)} {iban}.")
        script.planted.append(Planted("IBAN", iban))
    elif plan.reason == "account" and rng.random() < 0.6:
        script.say("agent", script.pick(phrases.ASK_EMAIL))
        spelled = not script.chat and rng.random() < 0.5
        email = spelled_email(caller.email, lang) if spelled else caller.email
        script.say("customer", f"{script.pick(phrases.GIVE)} {email}.")
        script.planted.append(Planted("EMAIL", email))
    elif plan.reason == "delivery" and rng.random() < 0.3:
        street = script.pick(phrases.STREETS)
        address = f"{rng.randrange(1, 120)} {street}, {caller.city}"
        script.say("customer", f"{script.pick(phrases.ADDRESS_LEAD)} {address}.")
        script.planted.append(Planted("ADDRESS", address))
    if rng.random() < 0.15:
        phone = _spoken_phone(caller.phone)
        script.say("customer", f"{script.pick(phrases.PHONE_LEAD)} {phone}.")
        script.planted.append(Planted("PHONE", phone))


def _timed(
    rng: random.Random, lines: list[tuple[str, str, float]], overtalk: float, rate: float
) -> list[dict[str, Any]]:
    """Start and end of each turn: `rate` words a second (spoken or typed), the given
    pauses, and with probability `overtalk` a turn that starts before the other speaker has
    finished."""
    turns: list[dict[str, Any]] = []
    clock = rng.uniform(0.5, 2.0)
    for speaker, text, pause in lines:
        length = max(0.6, len(text.split()) / (rate * rng.uniform(0.8, 1.2)))
        start = clock + pause
        if turns and turns[-1]["speaker"] != speaker and rng.random() < overtalk:
            previous = turns[-1]
            start = max(previous["start"] + 0.5, previous["end"] - rng.uniform(0.3, 1.5))
        start = max(start, turns[-1]["start"] if turns else 0.0)
        end = start + length
        turns.append(
            {"speaker": speaker, "text": text, "start": round(start, 2), "end": round(end, 2)}
        )
        clock = max(clock, end)
    return turns


def transcript(
    rng: random.Random, caller: Caller, plan: CallPlan, chat: bool = False
) -> Transcript:
    """The turns of one call, or of a chat (`chat`: typed, so no overtalk, longer pauses,
    numbers in digits), following `plan`."""
    if plan.reason not in REASONS:
        raise ValueError(f"reason must be one of {', '.join(REASONS)}, not {plan.reason!r}")
    lang = caller.lang
    agents = AGENTS[caller.country]
    junior = not plan.resolved and rng.random() < 0.5
    agent_id, agent = agents[rng.randrange(_JUNIORS) if junior else rng.randrange(len(agents))]
    slots = {
        "agent": agent,
        "order": " ".join(plan.order_id.split("-")[-1][-6:].upper()) if plan.order_id else "",
        "product": plan.product or ("l'article" if lang == "fr" else "item"),
        "days": in_words(str(max(2, plan.days)), lang) if plan.days < 10 else str(plan.days),
    }
    script = _Script(rng, lang, chat)
    greetings = phrases.CHAT_GREETINGS if chat else phrases.GREETINGS
    script.say("agent", script.pick(greetings, **slots), pause=0.0)
    opening = phrases.OPENINGS[plan.reason]
    if not plan.order_id:  # nothing to quote: openings without an order number
        opening = {k: tuple(v for v in vs if "{order}" not in v) or vs for k, vs in opening.items()}
    script.say("customer", script.pick(opening, **slots))
    if rng.random() < 0.5:
        script.say("agent", script.pick(phrases.FILLERS))
    _say_personal(script, caller, plan)
    if chat:
        if rng.random() < 0.5:
            script.say("agent", script.pick(phrases.HOLD))
            script.say("agent", script.pick(phrases.BACK), pause=round(rng.uniform(20, 120), 1))
    elif plan.duration_s > 120 or rng.random() < 0.35:
        script.say("agent", script.pick(phrases.HOLD))
        spoken = sum(len(text.split()) for _, text, _ in script.lines) / _WORDS_PER_S + 15
        room = plan.duration_s - spoken - 2 * len(script.lines)
        hold = min(room, rng.uniform(30, 150)) if room > 5 else rng.uniform(8, 45)
        script.say("agent", script.pick(phrases.BACK), pause=round(hold, 1))
    outcome = "resolved" if plan.resolved else "unresolved"
    script.say("agent", script.pick(phrases.ANSWERS[plan.reason][outcome], **slots))
    script.say("customer", script.pick(phrases.CLOSINGS[outcome], **slots))
    script.say("agent", script.pick(phrases.FAREWELLS, **slots))
    overtalk = 0.0 if chat else (0.35 if junior else 0.1) + (0.15 if not plan.resolved else 0)
    turns = _timed(rng, script.lines, overtalk, _TYPED_WORDS_PER_S if chat else _WORDS_PER_S)
    duration = round(turns[-1]["end"] + rng.uniform(1.0, 3.0), 1)
    return Transcript(turns, agent_id, QUEUES[plan.reason], duration, lang, script.planted)


# ---- a stream of calls without a simulation (benchmarks) ----------------------------------

_FIRST = {
    "FR": ("Marie", "Nathalie", "Julien", "Camille", "Nicolas", "Léa", "Hugo", "Chloé"),
    "US": ("Jennifer", "Michael", "Ashley", "Christopher", "Jessica", "Matthew", "Emily"),
}
_LAST = {
    "FR": ("Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Girard", "Fontaine"),
    "US": ("Smith", "Johnson", "Williams", "Brown", "Garcia", "Miller", "Davis"),
}
_CITIES = {"FR": ("Paris", "Lyon", "Nantes", "Lille"), "US": ("Austin", "Denver", "Chicago")}
_PRODUCTS = ("iPhone 13", "Galaxy S22", "MacBook Air", "AirPods Pro", "Switch OLED", "iPad")


def transcripts(n: int, seed: int = 7) -> Iterator[tuple[CallPlan, Transcript]]:
    """`n` calls of made-up callers (reasons evenly drawn, 55 % French), for benchmarks and
    tests: the same `(n, seed)` give the same calls, and the first k of n are those of k."""
    if n < 0:
        raise ValueError(f"n must be >= 0, not {n}")
    for index in range(n):
        rng = call_rng(seed, f"bench-{index}")
        country = "FR" if rng.random() < 0.55 else "US"
        first, last = rng.choice(_FIRST[country]), rng.choice(_LAST[country])
        local = f"{first}.{last}{rng.randrange(1000)}".lower()
        phone = (
            f"+336{rng.randrange(10**8):08d}"
            if country == "FR"
            else f"+1512{rng.randrange(200, 1000)}{rng.randrange(10**4):04d}"
        )
        caller = Caller(
            first,
            last,
            f"{local}@mail.example",
            phone,
            rng.choice(_CITIES[country]),
            "fr" if country == "FR" else "en",
            country,
        )
        reason = rng.choice(REASONS)
        plan = CallPlan(
            reason,
            resolved=rng.random() < 0.75,
            order_id=f"ORD-{rng.getrandbits(64):016x}" if reason != "account" else None,
            product=rng.choice(_PRODUCTS),
            days=rng.randrange(1, 12),
        )
        yield plan, transcript(rng, caller, plan)
