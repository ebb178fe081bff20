"""The CX events of the demo: survey answers by programme, deliveries, Kano, the A/B test.

The true effects planted in the generator must be found again from the events alone, the way
the CX analytics will look for them: a late delivery or recent friction lowers the NPS, Kano
answers classify into the intended categories, the experiment splits people in two.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from empreinte.demo import Person, generate_with_truth

Message = dict[str, Any]
Truth = list[tuple[Person, list[Message]]]

SURVEYS = {"NPS Answered": "nps", "CSAT Answered": "csat", "CES Answered": "ces"}
# survey_id → touchpoint (None: relational, about the brand)
PROGRAMMES = {
    "nps-relational": None,
    "nps-delivery": "delivery",
    "nps-call": "call",
    "nps-chat": "chat",
    "csat-store": "store",
    "csat-call": "call",
    "csat-chat": "chat",
    "ces-checkout": "web_checkout",
}
KANO_ANSWERS = {"like", "expect", "neutral", "tolerate", "dislike"}
FEATURES = {
    "refurbished_grade_photos",
    "carbon_footprint_label",
    "click_and_collect",
    "countdown_timer",
    "live_chat",
}
EXPERIMENT_START = datetime(2025, 10, 1, tzinfo=UTC)  # the last three months of the default demo


def _events(truth: Truth, name: str) -> list[tuple[Person, Message]]:
    return [(p, m) for p, messages in truth for m in messages if m.get("event") == name]


def _time(message: Message) -> datetime:
    return datetime.fromisoformat(message["timestamp"])


def _kano_category(functional: str, dysfunctional: str) -> str:
    """The standard Kano evaluation table (Berger et al. 1993)."""
    middle = ("expect", "neutral", "tolerate")
    if functional == "like":
        return "Q" if dysfunctional == "like" else "O" if dysfunctional == "dislike" else "A"
    if functional == "dislike":
        return "Q" if dysfunctional == "dislike" else "R"
    assert functional in middle
    return "R" if dysfunctional == "like" else "M" if dysfunctional == "dislike" else "I"


# ---- survey answers ----------------------------------------------------------------------


def test_survey_answers_name_their_programme_and_touchpoint(truth: Truth) -> None:
    seen: Counter[str] = Counter()
    for event, kind in SURVEYS.items():
        for who, message in _events(truth, event):
            props = message["properties"]
            assert props["survey_id"].split("-")[0] == kind
            assert PROGRAMMES[props["survey_id"]] == props.get("touchpoint")
            assert props["question"] and (props["comment"] is None or props["comment"].strip())
            if props.get("touchpoint") == "delivery":
                assert props["order_id"].startswith("ORD-")
            if props.get("touchpoint") == "call":
                assert props["call_id"].startswith("CALL-")
            seen[props["survey_id"]] += 1
            assert who.country in ("FR", "US")
    assert set(seen) == set(PROGRAMMES)


def test_the_relational_nps_is_quarterly_about_the_brand_and_for_registered_customers(
    truth: Truth,
) -> None:
    answers = [
        (p, m)
        for p, m in _events(truth, "NPS Answered")
        if m["properties"]["survey_id"] == "nps-relational"
    ]
    assert len(answers) > 500
    waves: Counter[int] = Counter()
    per_person: Counter[tuple[str, int]] = Counter()
    for person, message in answers:
        props = message["properties"]
        assert "touchpoint" not in props
        assert not {"order_id", "call_id", "chat_id", "store_id"} & props.keys()
        assert type(props["score"]) is int and 0 <= props["score"] <= 10
        assert message["userId"] == person.user_id and message["context"]["channel"] == "email"
        moment = _time(message)
        assert moment.month in (3, 6, 9, 12) and 14 <= moment.day <= 22
        waves[moment.month] += 1
        per_person[person.person_id, moment.month] += 1
    assert len(waves) == 4 and min(waves.values()) > 0.5 * max(waves.values())
    assert max(per_person.values()) == 1


def test_recent_friction_lowers_the_relational_nps(truth: Truth) -> None:
    """Payment failures, unresolved contacts, late deliveries and returns of the previous weeks
    weigh on the brand's NPS: the driver a key-driver analysis should find."""
    after_friction, without = [], []
    for _, messages in truth:
        incidents = []
        for message in messages:
            event, props = message.get("event"), message.get("properties", {})
            if (
                event in ("Payment Failed", "Order Refunded")
                or (event == "Order Delivered" and props["delay_days"] > 0)
                or (event in ("Call Ended", "Chat Ended") and props["resolved"] is False)
            ):
                incidents.append(_time(message))
        for message in messages:
            props = message.get("properties", {})
            if message.get("event") == "NPS Answered" and "touchpoint" not in props:
                answered = _time(message)
                recent = any(answered - timedelta(days=70) <= t < answered for t in incidents)
                (after_friction if recent else without).append(props["score"])
    assert len(after_friction) >= 40
    assert statistics.mean(after_friction) < statistics.mean(without) - 1.0


# ---- deliveries --------------------------------------------------------------------------


def test_online_orders_are_delivered_mostly_on_time(truth: Truth) -> None:
    online = {
        m["properties"]["order_id"]: _time(m)
        for _, m in _events(truth, "Order Completed")
        if m["context"]["channel"] != "store"
    }
    deliveries = _events(truth, "Order Delivered")
    assert len(deliveries) > 0.8 * len(online) > 0
    delays: Counter[int] = Counter()
    for person, message in deliveries:
        props = message["properties"]
        delay = props["delay_days"]
        assert type(delay) is int and 0 <= delay <= 5
        assert props["order_id"] in online
        assert message["context"]["channel"] == "email"
        assert message.get("userId") == person.user_id or message["context"]["traits"]["email"]
        ordered, delivered = online[props["order_id"]], _time(message)
        promised = date.fromisoformat(props["promised_date"])
        assert ordered < delivered
        assert ordered.date() < promised <= ordered.date() + timedelta(days=8)
        late = (delivered.date() - promised).days  # in UTC: a day off either way is the zone
        if delay:
            assert late - 1 <= delay <= late + 1
        else:
            assert late <= 1
        delays[delay] += 1
    late_share = 1 - delays[0] / len(deliveries)
    assert 0.03 < late_share < 0.25
    assert delays[1] > delays[5] > 0


def test_a_late_delivery_lowers_the_delivery_nps(truth: Truth) -> None:
    delay = {
        m["properties"]["order_id"]: m["properties"]["delay_days"]
        for _, m in _events(truth, "Order Delivered")
    }
    late, on_time = [], []
    for _, message in _events(truth, "NPS Answered"):
        props = message["properties"]
        if props["survey_id"] != "nps-delivery" or props["order_id"] not in delay:
            continue
        (late if delay[props["order_id"]] else on_time).append(props["score"])
    assert len(late) >= 15 and len(on_time) >= 100
    assert statistics.mean(late) < statistics.mean(on_time) - 1.0


# ---- Kano --------------------------------------------------------------------------------


def test_kano_answers_use_the_five_options_once_per_feature_and_respondent(truth: Truth) -> None:
    answers = _events(truth, "Kano Answered")
    per_person: dict[str, Counter[str]] = defaultdict(Counter)
    months = set()
    for person, message in answers:
        props = message["properties"]
        assert props["survey_id"] == "kano-2026"
        assert props["functional"] in KANO_ANSWERS and props["dysfunctional"] in KANO_ANSWERS
        assert message["userId"] == person.user_id
        per_person[person.person_id][props["feature"]] += 1
        months.add(_time(message).strftime("%Y-%m"))
    assert len(per_person) > 100
    assert len(months) == 1
    for features in per_person.values():
        assert set(features) == FEATURES and set(features.values()) == {1}


def test_kano_features_fall_into_their_intended_categories(truth: Truth) -> None:
    shares: dict[tuple[str, bool], Counter[str]] = defaultdict(Counter)
    for person, message in _events(truth, "Kano Answered"):
        props = message["properties"]
        eco = person.persona == "eco-refurbished"
        shares[props["feature"], eco][
            _kano_category(props["functional"], props["dysfunctional"])
        ] += 1

    def dominant(feature: str, eco: bool) -> str:
        return shares[feature, eco].most_common(1)[0][0]

    def share(feature: str, eco: bool, category: str) -> float:
        return shares[feature, eco][category] / sum(shares[feature, eco].values())

    assert dominant("click_and_collect", False) == "M"
    assert dominant("live_chat", False) == "O"
    assert dominant("carbon_footprint_label", True) == "A"
    assert dominant("carbon_footprint_label", False) == "I"
    assert share("carbon_footprint_label", True, "A") > 2 * share(
        "carbon_footprint_label", False, "A"
    )
    assert dominant("countdown_timer", False) in ("I", "R")
    assert share("countdown_timer", False, "R") > 0.15
    questionable = sum(c["Q"] for c in shares.values()) / sum(
        sum(c.values()) for c in shares.values()
    )
    assert 0 < questionable < 0.03  # only noise answers are contradictory


# ---- the experiment ----------------------------------------------------------------------


def test_the_experiment_splits_people_once_and_in_half(truth: Truth) -> None:
    views = _events(truth, "Experiment Viewed")
    variants: dict[str, set[str]] = defaultdict(set)
    counts: Counter[str] = Counter()
    for person, message in views:
        props = message["properties"]
        assert props["experiment"] == "checkout-countdown"
        assert message["context"]["channel"] in ("web", "app")
        assert message["anonymousId"] in person.anonymous_ids
        assert message.get("userId") in (None, person.user_id)
        assert _time(message) >= EXPERIMENT_START
        variants[person.person_id].add(props["variant"])
        counts[person.person_id] += 1
    assert len(variants) > 500
    assert set(counts.values()) == {1}
    split = Counter(v for vs in variants.values() for v in vs)
    assert set(split) == {"control", "no_countdown"}
    assert 0.45 < split["control"] / len(variants) < 0.55


def test_the_variant_belongs_to_the_person_not_to_the_run(truth: Truth) -> None:
    full = {p.person_id: m["properties"]["variant"] for p, m in _events(truth, "Experiment Viewed")}
    shorter = {
        p.person_id: m["properties"]["variant"]
        for p, messages in generate_with_truth(400, months=6)
        for m in messages
        if m.get("event") == "Experiment Viewed"
    }
    both = full.keys() & shorter.keys()
    assert len(both) > 50
    assert all(full[k] == shorter[k] for k in both)
