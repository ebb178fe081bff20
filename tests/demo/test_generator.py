"""The demo generator: deterministic, streaming, valid Segment messages, realistic behaviour.

Behaviour tests run on one shared population of 2,000 people (the default demo size, see
conftest.py) and assert properties that analytics built later rely on: personas differ, ROPO
journeys exist, friction lowers survey scores, refurbished products save CO2, bots stay on the
web. The CX events (survey programmes, deliveries, Kano, the experiment) are in test_cx.py.
"""

from __future__ import annotations

import itertools
import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from crawlerdetect import CrawlerDetect

from empreinte.demo import Person, catalog, generate, generate_with_truth, generator, people

Message = dict[str, Any]

START = datetime(2025, 1, 1, tzinfo=UTC)
END = datetime(2026, 1, 1, tzinfo=UTC)
TYPES = {"track", "identify", "page", "screen", "group", "alias"}
CHANNELS = {"web", "app", "phone", "store", "email", "sms", "push", "social", "chat", "voice"}
GENERATIONS = {
    "boomers": (1946, 1964),
    "gen_x": (1965, 1980),
    "gen_y": (1981, 1996),
    "gen_z": (1997, 2012),
    "gen_alpha": (2013, 2025),
}


@pytest.fixture(scope="module")
def stream() -> list[Message]:
    """A flat stream, crawler visits included (smaller than the demo, to keep tests fast)."""
    return list(generate(600))


def _events(truth: list[tuple[Person, list[Message]]], name: str) -> list[tuple[Person, Message]]:
    return [(p, m) for p, messages in truth for m in messages if m.get("event") == name]


def _time(message: Message) -> datetime:
    return datetime.fromisoformat(message["timestamp"])


def _violations(message: Message) -> list[str]:
    """What breaks the Segment spec (or this generator's promises) in one message."""
    problems = []
    kind = message.get("type")
    if kind not in TYPES:
        problems.append(f"type {kind!r}")
    if kind == "alias":
        if not message.get("userId") or not message.get("previousId"):
            problems.append("alias without userId and previousId")
    elif not message.get("userId") and not message.get("anonymousId"):
        problems.append("no userId nor anonymousId")
    if kind == "track" and not str(message.get("event", "")).strip():
        problems.append("track without event")
    if kind == "group" and not message.get("groupId"):
        problems.append("group without groupId")
    if kind == "identify" and not isinstance(message.get("traits"), dict):
        problems.append("identify without traits")
    if kind in ("page", "screen") and not message.get("name"):
        problems.append(f"{kind} without name")
    moment = datetime.fromisoformat(message["timestamp"])
    if moment.utcoffset() != timedelta(0):
        problems.append("timestamp not in UTC")
    if not START <= moment < END:
        problems.append("timestamp outside the period")
    context = message.get("context", {})
    channel = context.get("channel")
    if channel not in CHANNELS:
        problems.append(f"channel {channel!r}")
    library = context.get("library", {})
    if not library.get("name") or not library.get("version"):
        problems.append("library without name and version")
    if context.get("locale") not in ("fr-FR", "en-US"):
        problems.append("locale")
    if channel == "web" and not context.get("userAgent"):
        problems.append("web message without userAgent")
    if kind == "page" and set(context.get("page", {})) < {"path", "url", "title", "referrer"}:
        problems.append("page call without context.page")
    if channel == "app" and not (
        context.get("device", {}).get("id") and context["device"].get("type")
    ):
        problems.append("app message without context.device")
    return problems


# ---- determinism and streaming -----------------------------------------------------------


def test_same_arguments_give_byte_identical_output() -> None:
    first = orjson.dumps(list(generate(150, months=4, seed=3)))
    again = orjson.dumps(list(generate(150, months=4, seed=3)))
    other = orjson.dumps(list(generate(150, months=4, seed=4)))
    assert first == again
    assert first != other


def test_people_is_the_truth_and_does_not_depend_on_n() -> None:
    listed = list(people(40, seed=5))
    assert listed == [person for person, _ in generate_with_truth(40, months=1, seed=5)]
    assert list(people(10, seed=5)) == listed[:10]
    assert len({p.person_id for p in listed}) == 40
    assert list(people(5, seed=6)) != listed[:5]


def test_a_million_people_stream_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    # Lazy means: the first messages cost the people they come from, not the million (counted
    # as people built, not read off a clock that a busy machine skews).
    built = Counter[int]()
    make_profile = generator.make_profile

    def counted(index: int, seed: int) -> Any:
        built[index] += 1
        return make_profile(index, seed)

    monkeypatch.setattr(generator, "make_profile", counted)
    head = list(itertools.islice(generate(1_000_000), 2_000))
    assert len(head) == 2_000
    assert 0 < len(built) < 200  # 20 to 65 messages a person (test_default_demo_is_fast)
    assert set(built.values()) == {1}


def test_start_moves_the_period() -> None:
    start = datetime(2023, 6, 15)  # naive: read as UTC
    for _, messages in generate_with_truth(30, months=2, start=start):
        for message in messages:
            moment = _time(message)
            assert datetime(2023, 6, 15, tzinfo=UTC) <= moment < datetime(2023, 8, 15, tzinfo=UTC)


@pytest.mark.parametrize("kwargs", [{"people": -1}, {"people": 3, "months": 0}])
def test_bad_arguments_are_refused(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        next(generate(**kwargs))


def test_default_demo_is_fast(truth: list[tuple[Person, list[Message]]]) -> None:
    # Its cost is its size: a bounded number of messages per person (the seconds are bench/'s).
    messages = sum(len(m) for _, m in truth)
    assert len(truth) == 2_000
    assert 20 <= messages / len(truth) <= 65


# ---- Segment rules -----------------------------------------------------------------------


def test_every_message_follows_the_segment_rules(
    stream: list[Message], truth: list[tuple[Person, list[Message]]]
) -> None:
    for messages in (stream, [m for _, person_messages in truth for m in person_messages]):
        broken = [(m["messageId"], v) for m in messages if (v := _violations(m))]
        assert not broken, broken[:5]
        assert len({m["messageId"] for m in messages}) == len(messages)
        assert max(len(orjson.dumps(m)) for m in messages) < 32 * 1024


def test_each_persons_messages_are_chronological(truth: list[tuple[Person, list[Message]]]) -> None:
    for _, messages in truth:
        times = [_time(m) for m in messages]
        assert times == sorted(times)


def test_all_channels_and_message_types_are_used(
    truth: list[tuple[Person, list[Message]]],
) -> None:
    messages = [m for _, person_messages in truth for m in person_messages]
    assert {m["context"]["channel"] for m in messages} == CHANNELS
    assert {m["type"] for m in messages} == TYPES


# ---- who the people are ------------------------------------------------------------------


def test_population_spans_countries_generations_and_personas(
    truth: list[tuple[Person, list[Message]]],
) -> None:
    persons = [p for p, _ in truth]
    countries = Counter(p.country for p in persons)
    assert 0.5 < countries["FR"] / len(persons) < 0.7
    assert countries["US"] > 0
    for name, (lo, hi) in GENERATIONS.items():
        assert any(lo <= p.birth_year <= hi for p in persons), name
    assert len({p.persona for p in persons}) >= 5
    for person in persons:
        prefix = "+33" if person.country == "FR" else "+1"
        assert person.phone.startswith(prefix) and person.phone[1:].isdigit()
    assert len({p.email for p in persons}) == len(persons)


def test_personas_behave_differently(truth: list[tuple[Person, list[Message]]]) -> None:
    orders: dict[str, Counter[str]] = defaultdict(Counter)
    refurbished: dict[str, list[bool]] = defaultdict(list)
    for person, order in _events(truth, "Order Completed"):
        orders[person.persona][order["context"]["channel"]] += 1
        refurbished[person.persona] += [
            line["condition"] == "refurbished" for line in order["properties"]["products"]
        ]

    def store_share(persona: str) -> float:
        return orders[persona]["store"] / sum(orders[persona].values())

    assert store_share("store-loyalist") > 3 * store_share("digital-native")
    eco = statistics.mean(refurbished["eco-refurbished"])
    assert all(
        eco > 2 * statistics.mean(v) for k, v in refurbished.items() if k != "eco-refurbished"
    )
    calls = Counter(p.persona for p, _ in _events(truth, "Call Started"))
    size = Counter(p.persona for p, _ in truth)
    rate = {persona: calls[persona] / size[persona] for persona in size}
    assert rate["support-heavy"] == max(rate.values())


# ---- journeys ----------------------------------------------------------------------------


def test_ropo_researchers_view_online_then_buy_the_same_product_in_store(
    truth: list[tuple[Person, list[Message]]],
) -> None:
    ropo: Counter[str] = Counter()
    for person, messages in truth:
        viewed: dict[str, datetime] = {}
        for message in messages:
            event, channel = message.get("event"), message["context"]["channel"]
            if event == "Product Viewed" and channel in ("web", "app"):
                viewed[message["properties"]["product_id"]] = _time(message)
            elif event == "Order Completed" and channel == "store":
                bought = {line["product_id"] for line in message["properties"]["products"]}
                if any(
                    _time(message) - viewed[p] <= timedelta(days=14) for p in bought & viewed.keys()
                ):
                    ropo[person.persona] += 1
                    break
    assert sum(ropo.values()) >= 40
    assert ropo.most_common(1)[0][0] == "ropo-researcher"


def test_failed_payments_lead_to_calls_within_hours(
    truth: list[tuple[Person, list[Message]]],
) -> None:
    attempts = len(_events(truth, "Payment Info Entered"))
    failures = _events(truth, "Payment Failed")
    assert 0.01 < len(failures) / attempts < 0.06
    linked = 0
    for person, failure in failures:
        order_id = failure["properties"]["order_id"]
        for message in next(m for p, m in truth if p is person):
            if (
                message.get("event") == "Call Started"
                and message["properties"].get("order_id") == order_id
                and timedelta(0) < _time(message) - _time(failure) <= timedelta(hours=8)
            ):
                linked += 1
                break
    assert linked >= 5


def test_returns_are_common_and_more_so_for_fashion(
    truth: list[tuple[Person, list[Message]]],
) -> None:
    orders = {m["properties"]["order_id"]: m for _, m in _events(truth, "Order Completed")}
    refunds = [m for _, m in _events(truth, "Order Refunded")]
    assert 0.04 < len(refunds) / len(orders) < 0.12
    refunded = {m["properties"]["order_id"] for m in refunds}
    assert refunded <= orders.keys()

    def rate(fashion: bool) -> float:
        chosen = [
            o
            for o, m in orders.items()
            if any(line["category"] == "fashion" for line in m["properties"]["products"]) == fashion
        ]
        return len(refunded.intersection(chosen)) / len(chosen)

    assert rate(True) > 2 * rate(False)
    for order in orders.values():
        props = order["properties"]
        lines = sum(line["price"] * line["quantity"] for line in props["products"])
        assert props["total"] == pytest.approx(lines, abs=0.01)


def test_friction_lowers_survey_scores(truth: list[tuple[Person, list[Message]]]) -> None:
    with_friction, smooth = [], []
    for _, messages in truth:
        failed = {
            m["properties"]["order_id"] for m in messages if m.get("event") == "Payment Failed"
        }
        unresolved = {
            m["properties"].get("call_id")
            for m in messages
            if m.get("event") == "Call Ended" and not m["properties"]["resolved"]
        }
        for message in messages:
            props = message.get("properties", {})
            if message.get("event") != "NPS Answered" or "touchpoint" not in props:
                continue  # the relational NPS is about no order nor call
            hit = props.get("order_id") in failed or props.get("call_id") in unresolved
            (with_friction if hit else smooth).append(props["score"])
            assert 0 <= props["score"] <= 10
    assert len(with_friction) >= 20
    assert statistics.mean(with_friction) < statistics.mean(smooth) - 1.5


def test_surveys_use_their_scales_and_the_persons_language(
    truth: list[tuple[Person, list[Message]]],
) -> None:
    scales = {"NPS Answered": (0, 10), "CSAT Answered": (1, 5), "CES Answered": (1, 7)}
    answers = [answer for event in scales for answer in _events(truth, event)]
    assert {m["event"] for _, m in answers} == set(scales)
    respondents = {p.person_id for p, _ in answers}
    assert 0.1 < len(respondents) / len(truth) < 0.7
    for person, message in answers:
        props = message["properties"]
        lo, hi = scales[message["event"]]
        assert type(props["score"]) is int and lo <= props["score"] <= hi
        if message["event"] != "NPS Answered":
            assert props["scale"] == hi
        assert "survey" not in props
        french = any(
            word in props["question"] for word in ("Empreinte m'a", "probabilité", "satisfait")
        )
        assert french == (person.country == "FR")


# ---- identity ----------------------------------------------------------------------------


def test_identity_signals_are_realistic(truth: list[tuple[Person, list[Message]]]) -> None:
    anonymous_then_known = 0
    for person, messages in truth:
        seen_anonymous: set[str] = set()
        for message in messages:
            anonymous_id = message.get("anonymousId")
            if anonymous_id in person.anonymous_ids:
                if message.get("userId") is None:
                    seen_anonymous.add(anonymous_id)
                elif anonymous_id in seen_anonymous:
                    anonymous_then_known += 1
                    assert message["userId"] == person.user_id
                    break
            if message.get("userId") is not None:
                assert message["userId"] == person.user_id
    assert anonymous_then_known > 100
    calls = _events(truth, "Call Started")
    assert any(m["context"]["traits"]["phone"] != p.phone for p, m in calls)
    outbound = [m for _, m in calls if m["properties"]["direction"] == "outbound"]
    assert outbound and len({m["context"]["traits"]["phone"] for m in outbound}) <= 2
    card_orders = [
        (p, m)
        for p, m in _events(truth, "Order Completed")
        if m["context"]["channel"] == "store" and p.loyalty_card
    ]
    assert card_orders
    for person, order in card_orders:
        assert order["context"]["externalIds"][0]["id"] == person.loyalty_card


def test_some_devices_are_shared_and_some_emails_are_typed_differently(
    truth: list[tuple[Person, list[Message]]],
) -> None:
    users: dict[str, set[str]] = defaultdict(set)
    variants = set()
    for person, messages in truth:
        for message in messages:
            device = message["context"].get("device")
            if device:
                users[device["id"]].add(person.person_id)
            email = message["context"].get("traits", {}).get("email")
            if email and email != person.email:
                assert email.strip().lower() == person.email
                variants.add(person.person_id)
    shared = [ids for ids in users.values() if len(ids) > 1]
    assert shared and all(2 <= len(ids) <= 4 for ids in shared)
    assert 0.005 < len(variants) / len(truth) < 0.05


def test_consent_has_double_opt_in_and_revocations(
    truth: list[tuple[Person, list[Message]]],
) -> None:
    consents = [m["properties"] for _, m in _events(truth, "Consent Updated")]
    analytics = [
        c["granted"]
        for c in consents
        if c["purpose"] == "analytics" and c["source"] == "cookie_banner"
    ]
    marketing = [
        c["granted"]
        for c in consents
        if c["purpose"] == "marketing_email" and c["source"] == "signup_form"
    ]
    assert statistics.mean(analytics) > 0.8
    assert statistics.mean(marketing) < statistics.mean(analytics)
    pending = sum(c.get("confirmation") == "pending" for c in consents)
    confirmed = sum(c.get("source") == "double_opt_in_link" for c in consents)
    assert 0.7 * pending < confirmed <= pending
    assert any(not c["granted"] and c["source"] == "unsubscribe_link" for c in consents)
    assert {c["purpose"] for c in consents} == {
        "analytics",
        "personalisation",
        "marketing_email",
        "marketing_sms",
        "profiling",
    }


def test_devices_ask_consent_first_and_refusals_stop_browsing_events(
    truth: list[tuple[Person, list[Message]]],
) -> None:
    refusals = 0
    for person, messages in truth:
        first: dict[str, Message] = {}
        refused = False
        for message in messages:
            anonymous_id = message.get("anonymousId")
            if anonymous_id in person.anonymous_ids:
                first.setdefault(anonymous_id, message)
            props = message.get("properties", {})
            if message.get("event") == "Consent Updated" and props["purpose"] == "analytics":
                refused = not props["granted"]
                refusals += refused
            if refused and message["context"]["channel"] in ("web", "app"):
                assert message["type"] not in ("page", "screen")
                assert message.get("event") not in ("Product Viewed", "Products Searched")
        for message in first.values():
            assert message.get("event") == "Consent Updated"
            assert message["properties"]["source"] in ("cookie_banner", "app_consent_prompt")
    assert refusals > 0


def test_campaign_emails_only_reach_people_who_confirmed(
    truth: list[tuple[Person, list[Message]]],
) -> None:
    delivered = 0  # e-mails checked
    withheld = 0  # people the rule kept from e-mails at some point
    for _, messages in truth:
        allowed = False
        for message in messages:
            props = message.get("properties", {})
            if message.get("event") == "Consent Updated" and props["purpose"] == "marketing_email":
                allowed = props["granted"] and props.get("confirmation") != "pending"
                withheld += not allowed
            elif message.get("event") == "Email Delivered":
                assert allowed and message["userId"]
                delivered += 1
    # Both sides of the rule occur, or the loop above proved nothing.
    assert delivered > 100 and withheld > 100


def test_bots_are_anonymous_web_traffic_only(stream: list[Message]) -> None:
    detector = CrawlerDetect()
    agents = {m["context"]["userAgent"] for m in stream if "userAgent" in m["context"]}
    crawlers = {agent for agent in agents if detector.isCrawler(agent)}
    assert crawlers and len(crawlers) < len(agents)
    bots = [m for m in stream if m["context"].get("userAgent") in crawlers]
    assert all(m["context"]["channel"] == "web" and "userId" not in m for m in bots)
    web = sum(m["context"]["channel"] == "web" for m in stream)
    assert 0.005 < len(bots) / web < 0.05


# ---- catalogue ---------------------------------------------------------------------------


def test_catalog_has_new_and_refurbished_models_with_less_co2() -> None:
    products = catalog()
    assert 150 <= len(products) <= 250
    assert len({p.category for p in products}) >= 7
    assert catalog() == products
    by_model: dict[str, dict[str, Any]] = defaultdict(dict)
    for product in products:
        by_model[product.sku.rsplit("-", 1)[0]][product.condition] = product
    pairs = [m for m in by_model.values() if len(m) == 2]
    assert len(pairs) > 30
    for model in pairs:
        new, refurbished = model["new"], model["refurbished"]
        assert 0.1 <= refurbished.co2_kg / new.co2_kg <= 0.25 + 1e-9
        assert refurbished.price < new.price


def test_orders_carry_the_catalogue_footprint(truth: list[tuple[Person, list[Message]]]) -> None:
    footprint = {p.product_id: p.co2_kg for p in catalog()}
    for _, order in _events(truth, "Order Completed"):
        for line in order["properties"]["products"]:
            assert line["co2_kg"] == footprint[line["product_id"]]


def test_every_clock_has_24_hours_and_7_weekdays() -> None:
    from empreinte.demo.clock import _HOURS, _WEEKDAYS
    from empreinte.demo.personas import PERSONAS

    assert set(_HOURS) == set(_WEEKDAYS)
    assert all(len(hours) == 24 and sum(hours) > 0 for hours in _HOURS.values())
    assert all(len(days) == 7 and min(days) > 0 for days in _WEEKDAYS.values())
    assert {p.online_clock for p in PERSONAS} <= set(_HOURS)
