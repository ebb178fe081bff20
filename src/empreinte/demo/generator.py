"""Streams of demo Segment messages: one person after another, in bounded memory.

Each person is simulated from a generator seeded by (seed, index) alone, their messages are
sorted, cut to the period, given ids and timestamps, and yielded before the next person is
built. Crawler visits (anonymous web pages with a bot user agent) are slipped in between
people; they belong to nobody, so the ground-truth stream leaves them out.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from empreinte.demo.catalog import CATEGORIES
from empreinte.demo.clock import DEFAULT_START, SECOND_MS, iso
from empreinte.demo.context import BOT_AGENTS, SITES, library
from empreinte.demo.ids import unique_hex
from empreinte.demo.journeys import Emitted, Message, Simulation, World
from empreinte.demo.people import Device, Person, make_profile

_BOT_VISIT_RATE = 0.12  # crawler visits per person slot; about 2 % of web messages


def _finalise(world: World, sim: Simulation, emitted: list[Emitted]) -> list[Message]:
    """Chronological order, the period's bounds, consent prompts, identities, ids and times."""
    emitted.sort()  # (time, writing order) is unique, so messages themselves never compare
    user_id = sim.person.user_id
    prompted: set[int] = set()
    messages: list[Message] = []

    def add(message: Message, ms: int) -> None:
        message["messageId"] = f"demo-{world.seed}-" + unique_hex(
            world.seed, 0, sim.profile.index, len(messages)
        )
        message["timestamp"] = iso(ms)
        messages.append(message)

    for ms, _, message, device in emitted:
        inside = world.start_ms <= ms < world.end_ms
        if device is None:
            if inside:
                add(message, ms)
            continue
        if id(device) not in prompted:
            prompted.add(id(device))
            if inside:  # otherwise it was answered before the period
                for prompt in sim.consent_prompt(device, message["context"]):
                    add(_identified(prompt, device, ms, user_id), ms)
        if inside:
            add(_identified(message, device, ms, user_id), ms)
    return messages


def _identified(message: Message, device: Device, ms: int, user_id: str | None) -> Message:
    """A device's message carries its cookie id, and the userId once logged in there."""
    message["anonymousId"] = device.anonymous_id
    if user_id and device.login_ms is not None and device.login_ms <= ms:
        message["userId"] = user_id
    return message


def _bot_visit(world: World, index: int, rng: random.Random) -> list[Message]:
    """Sometimes a crawler walks a few pages: anonymous, web only, seconds apart."""
    if rng.random() >= _BOT_VISIT_RATE:
        return []
    agent = rng.choice(BOT_AGENTS)
    anonymous_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    country = rng.choice(("FR", "US"))
    locale = "fr-FR" if country == "FR" else "en-US"
    ms = world.start_ms + rng.randrange(world.end_ms - world.start_ms - 3_600 * SECOND_MS)
    products = [p for models in world.models.values() for p, _ in models]
    messages: list[Message] = []
    referrer = ""
    for k in range(rng.randint(2, 7)):
        if rng.random() < 0.6:
            product = rng.choice(products)
            path, title = f"/p/{product.product_id.lower()}", f"{product.name} | Empreinte"
        else:
            category = rng.choice(CATEGORIES)
            path, title = f"/c/{category}", f"{category.title()} | Empreinte"
        page = {
            "path": path,
            "url": f"{SITES[country]}{path}",
            "title": title,
            "referrer": referrer,
        }
        messages.append(
            {
                "type": "page",
                "name": title.split(" | ")[0],
                "properties": dict(page),
                "context": {
                    "channel": "web",
                    "library": library("web"),
                    "locale": locale,
                    "userAgent": agent,
                    "page": page,
                },
                "anonymousId": anonymous_id,
                "messageId": f"demo-{world.seed}-{unique_hex(world.seed, 2, index, k)}",
                "timestamp": iso(ms),
            }
        )
        referrer = page["url"]
        ms += rng.randint(1, 20) * SECOND_MS
    return messages


def _check(people: int, months: int) -> None:
    if people < 0:
        raise ValueError(f"people must be >= 0, not {people}")
    if months < 1:
        raise ValueError(f"months must be >= 1, not {months}")


def _stream(
    people: int, months: int, seed: int, start: datetime | None
) -> Iterator[tuple[Person, list[Message], list[Message]]]:
    _check(people, months)
    world = World.build(seed, start or DEFAULT_START, months)
    for index in range(people):
        profile, rng = make_profile(index, seed)
        simulation = Simulation(world, profile, rng)
        messages = _finalise(world, simulation, simulation.run())
        yield profile.person, messages, _bot_visit(world, index, rng)


def generate_with_truth(
    people: int, months: int = 12, seed: int = 7, start: datetime | None = None
) -> Iterator[tuple[Person, list[dict[str, Any]]]]:
    """Each person with their own messages, in chronological order: the ground truth.

    Same arguments and same messages as `generate`, minus the crawler visits.
    """
    for person, messages, _ in _stream(people, months, seed, start):
        yield person, messages


def planted_personas(
    owners: Mapping[str, str], truth: Iterable[tuple[Person, Any]]
) -> dict[str, str]:
    """Each profile's planted persona, to measure personas found in the data against: the
    persona of the first person of `truth` whose anonymous id, user id or loyalty card the
    profile holds (`owners`: identifier key, as in the `identities` table → profile id)."""
    planted: dict[str, str] = {}
    for person, _ in truth:
        keys = [f"anonymous_id:{a}" for a in person.anonymous_ids]
        keys += [f"user_id:{person.user_id}"] if person.user_id else []
        keys += [f"loyalty_card:{person.loyalty_card}"] if person.loyalty_card else []
        for key in keys:
            if key in owners:
                planted.setdefault(owners[key], person.persona)
    return planted


def generate(
    people: int, months: int = 12, seed: int = 7, start: datetime | None = None
) -> Iterator[dict[str, Any]]:
    """Segment messages of `people` customers over `months` from `start` (2025-01-01 UTC).

    Deterministic: the same arguments give the same messages, byte for byte once serialised.
    Streamed person by person (each person's messages in chronological order), with a few
    crawler visits in between, so a million people need no more memory than one.
    """
    for _, messages, bots in _stream(people, months, seed, start):
        yield from messages
        yield from bots
