"""Customer service: calls, callbacks, chats and social messages, and their surveys.

Contacts are where identity gets messy (a phone number as the agent heard it, a shared
outgoing line, a social handle) and where friction is born (queues, unresolved issues), so
surveys answered after a contact carry it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from empreinte.demo import transcripts
from empreinte.demo.clock import HOUR_MS, MINUTE_MS, SECOND_MS, later
from empreinte.demo.context import CALL_CENTRE_NUMBERS, server_context, spoken_phone
from empreinte.demo.people import Device
from empreinte.demo.sampling import below, between, weighted_index
from empreinte.demo.surveys import Friction

if TYPE_CHECKING:
    from empreinte.demo.journeys import Message, Simulation

_CALL_AFTER_ABANDON = 0.3  # people who phone after leaving at the checkout

_RESOLUTION = {
    "order_status": 0.9,
    "payment_failed": 0.75,
    "return_request": 0.8,
    "product_question": 0.85,
    "billing": 0.6,
    "loyalty_points": 0.85,
    "account_access": 0.7,
}


@dataclass
class Contact:
    """A customer-service contact and how it ended."""

    contact_id: str
    channel: str  # "phone" | "chat" | "social"
    end_ms: int
    resolved: bool
    queue_wait_s: int
    identity: Message  # identity fields of its messages, for the follow-ups (none for chat)
    context: Message  # context of its messages (none for chat)
    device: Device | None = None  # the browser, for the chat widget


def contact(
    sim: Simulation,
    ms: int,
    reason: str,
    friction: Friction,
    order_id: str | None,
    follow_up: bool = False,
) -> Contact:
    """A contact on the persona's preferred service channel, and its survey.

    `friction` is the journey's (an order's), updated with how the contact went; an
    unresolved first contact is followed by a second one or by a callback.
    """
    rng = sim.rng
    channel = ("phone", "chat", "social")[weighted_index(rng, sim.persona.contact_channels)]
    done = (
        _call(sim, ms, reason, order_id, friction, follow_up)
        if channel == "phone"
        else _chat(sim, ms, reason, order_id, channel, friction, follow_up)
    )
    friction.contacts += 1
    friction.queue_wait_s = max(friction.queue_wait_s, done.queue_wait_s)
    if not done.resolved:
        sim.incident(done.end_ms, "unresolved")
    if not done.resolved and not follow_up:
        friction.unresolved_contact = True
    own = Friction(
        payment_failed=reason == "payment_failed",
        unresolved_contact=not done.resolved,
        queue_wait_s=done.queue_wait_s,
        contacts=2 if follow_up else 1,
    )
    _contact_survey(sim, done, own, reason)
    if not done.resolved and not follow_up and rng.random() < 0.7:
        again = later(rng, done.end_ms, 0, 3, "call", sim.offset)
        if rng.random() < 0.5:
            _callback(sim, again, reason, order_id)
        else:
            contact(sim, again, reason, friction, order_id, follow_up=True)
    return done


def _call(
    sim: Simulation,
    ms: int,
    reason: str,
    order_id: str | None,
    friction: Friction,
    follow_up: bool,
) -> Contact:
    """An inbound call. The agent notes the number as heard and sometimes the e-mail; most
    calls are recorded, and their transcript follows (`Call Completed`)."""
    rng, person = sim.rng, sim.person
    call_id = sim.new_id("CALL")
    wait = int(rng.expovariate(1 / 100))
    if rng.random() < 0.12:
        wait += between(rng, 300, 1500)  # the Monday-morning queue
    duration = int(rng.lognormvariate(5.5, 0.6))
    resolved = rng.random() < _RESOLUTION[reason] - (0.2 if wait > 600 else 0)
    traits = {"phone": spoken_phone(person.phone, below(rng, 5))}
    if rng.random() < 0.3:
        traits["email"] = sim.profile.email_typed
    ctx = server_context("phone", sim.locale)
    ctx["traits"] = traits
    identity = {"anonymousId": call_id.lower()}
    props: Message = {
        "call_id": call_id,
        "reason": reason,
        "direction": "inbound",
        "caller_number": person.phone,
        "queue_wait_s": wait,
    }
    if order_id:
        props["order_id"] = order_id
    answered = ms + wait * SECOND_MS
    ended = answered + duration * SECOND_MS
    sim.send(answered, "Call Started", props, ctx, identity)
    sim.send(
        ended,
        "Call Ended",
        {**props, "duration_s": duration, "resolved": resolved},
        dict(ctx),
        identity,
    )
    plan = _plan(sim, call_id, reason, order_id, friction, follow_up, resolved, wait, duration)
    _call_completed(sim, ended, call_id, props, plan, ctx, identity)
    return Contact(call_id, "phone", ended, resolved, wait, identity, ctx)


def _plan(
    sim: Simulation,
    contact_id: str,
    reason: str,
    order_id: str | None,
    friction: Friction,
    follow_up: bool,
    resolved: bool,
    wait: int,
    duration: int,
) -> transcripts.CallPlan:
    """What a contact's transcript says. A second contact about an issue the first one left
    open is a complaint; a parcel or a refund is always about an order (without one, the
    customer asks about a product or their account, drawn from the contact's own generator)."""
    planted = "complaint" if follow_up else transcripts.REASON_OF_CONTACT[reason]
    if planted in ("delivery", "refund") and order_id is None:
        rng = transcripts.call_rng(sim.world.seed, contact_id + "-reason")
        planted = rng.choice(("product_question", "account"))
    days = friction.delay_days if planted == "delivery" else 0
    product = _product(sim, order_id)
    return transcripts.CallPlan(planted, resolved, order_id, product, days, wait, duration)


def _caller(sim: Simulation) -> transcripts.Caller:
    profile, person = sim.profile, sim.person
    return transcripts.Caller(
        person.first_name,
        person.last_name,
        person.email,
        person.phone,
        person.city,
        profile.lang,
        person.country,
    )


def _product(sim: Simulation, order_id: str | None) -> str | None:
    order = sim.last_online_order
    if order is None or order.order_id != order_id or not order.lines:
        return None
    return str(order.lines[0]["name"])


def _call_completed(
    sim: Simulation,
    ms: int,
    call_id: str,
    props: Message,
    plan: transcripts.CallPlan,
    ctx: Message,
    identity: Message,
) -> None:
    """The transcript of a recorded call, from the call centre's speech-to-text, drawn from
    the call's own generator (the rest of the demo does not move when transcripts change)."""
    seed = sim.world.seed
    if not transcripts.recorded(seed, call_id):
        return
    text = transcripts.transcript(transcripts.call_rng(seed, call_id), _caller(sim), plan)
    completed = {
        "call_id": call_id,
        "direction": props["direction"],
        "caller_number": props["caller_number"],
        **text.properties(),
    }
    if plan.order_id:
        completed["order_id"] = plan.order_id
    sim.send(ms, "Call Completed", completed, dict(ctx), identity)


def call_after_abandoned_checkout(sim: Simulation, ms: int, order_id: str) -> None:
    """Some people who leave at the checkout phone within hours: "the payment would not go
    through". Drawn from the checkout's own generator, not the person's."""
    rng = random.Random(f"voc-abandoned-{sim.world.seed}-{order_id}")
    if sim.country not in CALL_CENTRE_NUMBERS or rng.random() >= _CALL_AFTER_ABANDON:
        return
    call_id = f"CALL-{rng.getrandbits(64):016x}"
    wait = int(rng.expovariate(1 / 100))
    duration = int(rng.lognormvariate(5.3, 0.5))
    resolved = rng.random() < 0.7
    start = ms + between(rng, 15 * MINUTE_MS, 4 * HOUR_MS) + wait * SECOND_MS
    ended = start + duration * SECOND_MS
    ctx = server_context("phone", sim.locale)
    ctx["traits"] = {"phone": spoken_phone(sim.person.phone, below(rng, 5))}
    identity = {"anonymousId": call_id.lower()}
    props: Message = {
        "call_id": call_id,
        "reason": "payment_failed",
        "direction": "inbound",
        "caller_number": sim.person.phone,
        "queue_wait_s": wait,
        "order_id": order_id,
    }
    sim.send(start, "Call Started", props, ctx, identity)
    ended_props = {**props, "duration_s": duration, "resolved": resolved}
    sim.send(ended, "Call Ended", ended_props, dict(ctx), identity)
    plan = transcripts.CallPlan("payment", resolved, order_id, None, 0, wait, duration)
    _call_completed(sim, ended, call_id, props, plan, ctx, identity)


def _callback(sim: Simulation, ms: int, reason: str, order_id: str | None) -> None:
    """The agent calls back. The telephony logs the centre's own line as the caller."""
    rng, person = sim.rng, sim.person
    call_id = sim.new_id("CALL")
    centre = CALL_CENTRE_NUMBERS[sim.country]
    duration = int(rng.lognormvariate(5.2, 0.5))
    ctx = server_context("phone", sim.locale)
    ctx["traits"] = {"phone": centre}
    identity = {"anonymousId": call_id.lower()}
    props: Message = {
        "call_id": call_id,
        "reason": reason,
        "direction": "outbound",
        "caller_number": centre,
        "callee_number": person.phone,
        "queue_wait_s": 0,
    }
    if order_id:
        props["order_id"] = order_id
    sim.send(ms, "Call Started", props, ctx, identity)
    sim.send(
        ms + duration * SECOND_MS,
        "Call Ended",
        {**props, "duration_s": duration, "resolved": rng.random() < 0.85},
        dict(ctx),
        identity,
    )


def _chat(
    sim: Simulation,
    ms: int,
    reason: str,
    order_id: str | None,
    channel: str,
    friction: Friction,
    follow_up: bool,
) -> Contact:
    """The site's chat widget, or a direct message on a social network; the conversation
    follows (`Chat Completed`)."""
    rng = sim.rng
    chat_id = sim.new_id("CHAT")
    wait = int(rng.expovariate(1 / 40))
    duration = int(rng.lognormvariate(5.8, 0.5))
    resolved = rng.random() < _RESOLUTION[reason] - 0.05
    props: Message = {"chat_id": chat_id, "reason": reason, "queue_wait_s": wait}
    if order_id:
        props["order_id"] = order_id
    end = ms + (wait + duration) * SECOND_MS
    if channel == "chat":  # the widget runs in one of the person's browsers
        browser = sim.browser()
        ended = {**props, "duration_s": duration, "resolved": resolved}
        sim.device_track(browser, ms, "Chat Started", props, "chat", essential=True)
        sim.device_track(browser, end, "Chat Ended", ended, "chat", essential=True)
        plan = _plan(sim, chat_id, reason, order_id, friction, follow_up, resolved, wait, 0)
        completed = _chat_completed(sim, chat_id, plan)
        sim.device_track(browser, end, "Chat Completed", completed, "chat", essential=True)
        return Contact(chat_id, "chat", end, resolved, wait, {}, {}, browser)
    props["platform"] = rng.choice(("instagram", "facebook", "x"))
    ctx = server_context("social", sim.locale)
    if rng.random() < 0.4:
        ctx["traits"] = {"email": sim.profile.email_typed}
    identity = {"anonymousId": sim.social_id}  # the brand only knows the social handle
    sim.send(ms, "Chat Started", props, ctx, identity)
    sim.send(
        end,
        "Chat Ended",
        {**props, "duration_s": duration, "resolved": resolved},
        dict(ctx),
        identity,
    )
    plan = _plan(sim, chat_id, reason, order_id, friction, follow_up, resolved, wait, 0)
    sim.send(end, "Chat Completed", _chat_completed(sim, chat_id, plan), dict(ctx), identity)
    return Contact(chat_id, "social", end, resolved, wait, identity, ctx)


def _chat_completed(sim: Simulation, chat_id: str, plan: transcripts.CallPlan) -> Message:
    """A chat's conversation, drawn from the chat's own generator."""
    rng = transcripts.call_rng(sim.world.seed, chat_id)
    text = transcripts.transcript(rng, _caller(sim), plan, chat=True)
    completed: Message = {"chat_id": chat_id, **text.properties()}
    if plan.order_id:
        completed["order_id"] = plan.order_id
    return completed


def _contact_survey(sim: Simulation, contact: Contact, friction: Friction, reason: str) -> None:
    """CSAT (or NPS) right after a contact: by SMS after a call, in the conversation after
    a chat or a social message."""
    rng = sim.rng
    if rng.random() >= sim.persona.survey_response:
        return
    kind = "csat" if rng.random() < 0.6 else "nps"
    ms = contact.end_ms + between(rng, MINUTE_MS, HOUR_MS)
    if contact.channel == "phone":
        reference = {"reason": reason, "call_id": contact.contact_id}
        event, props = sim.survey_answer(kind, "call", friction, reference)
        ctx = server_context("sms", sim.locale)
        ctx["traits"] = {"phone": sim.person.phone}
        identity = {"userId": sim.person.user_id} if sim.registered(ms) else contact.identity
        sim.send(ms, event, props, ctx, identity)
        return
    reference = {"reason": reason, "chat_id": contact.contact_id}
    event, props = sim.survey_answer(kind, "chat", friction, reference)
    if contact.device is not None:
        sim.device_track(contact.device, ms, event, props, "chat", essential=True)
    else:
        sim.send(ms, event, props, dict(contact.context), contact.identity)
