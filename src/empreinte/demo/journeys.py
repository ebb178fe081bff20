"""The journey simulator: one person's year of touchpoints, as Segment messages.

Journeys are planned (how many, which kinds, when) from the persona, then played in start
order. Each journey writes messages with a time; web and app messages are tied to a `Device`
and get their identity (anonymousId, and userId once the person logged in on that device)
when the generator finalises the stream, so a login only affects what comes after it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from empreinte.demo import cx, marketing, reviews, service
from empreinte.demo.campaigns import Campaign, calendar
from empreinte.demo.catalog import Product, catalog, local_price
from empreinte.demo.clock import (
    DAY_MS,
    HOUR_MS,
    MINUTE_MS,
    SECOND_MS,
    add_months,
    day_month,
    day_text,
    iso,
    later,
    local_day,
    on_day,
    pick_time,
    to_ms,
)
from empreinte.demo.context import (
    SITES,
    app_context,
    server_context,
    spoken_phone,
    web_context,
)
from empreinte.demo.ids import unique_hex
from empreinte.demo.marketing import WORDING
from empreinte.demo.people import Device, Profile
from empreinte.demo.sampling import Weighted, below, between, poisson
from empreinte.demo.service import Contact
from empreinte.demo.surveys import (
    EVENTS,
    QUESTIONS,
    SCALES,
    Friction,
    comment,
    score,
    survey_id,
)

Message = dict[str, Any]
# (time in ms, order of writing, message, device whose identity it carries or None)
Emitted = tuple[int, int, Message, Device | None]

_YEAR_MS = 365 * DAY_MS
_STORE_JOURNEYS = frozenset({"store_buy", "store_visit", "showroom"})
_PROMISED_DAYS = 6  # an online order is promised for delivery by the sixth day after it
_DELAY_RATE = 0.08  # late deliveries, doubled in the November–December peak
_DELAYS = Weighted((("1", 40), ("2", 25), ("3", 15), ("4", 12), ("5", 8)))
_PAYMENT_FAILURES = (
    "card_declined",
    "3ds_authentication_failed",
    "insufficient_funds",
    "gateway_timeout",
)
_ONLINE_PAYMENTS = Weighted(
    (("card", 60), ("paypal", 15), ("apple_pay", 10), ("google_pay", 5), ("klarna", 10))
)
_STORE_PAYMENTS = Weighted((("card", 45), ("contactless", 35), ("cash", 15), ("gift_card", 5)))
_CONTACT_REASONS = Weighted(
    (
        ("order_status", 30),
        ("product_question", 25),
        ("return_request", 15),
        ("billing", 10),
        ("loyalty_points", 10),
        ("account_access", 10),
    )
)
_SEARCH_TERMS = {
    "phones": ("iphone", "samsung galaxy", "smartphone reconditionné", "pixel"),
    "laptops": ("macbook", "ordinateur portable", "laptop", "thinkpad"),
    "tablets": ("ipad", "tablette", "tablet"),
    "audio": ("casque bluetooth", "airpods", "noise cancelling headphones", "enceinte"),
    "gaming": ("switch", "ps5", "console"),
    "wearables": ("montre connectée", "apple watch", "smartwatch"),
    "home": ("aspirateur", "machine à café", "air fryer", "dyson"),
    "accessories": ("chargeur usb-c", "coque", "power bank"),
    "toys": ("lego", "jouet 6 ans", "puzzle"),
    "books": ("roman", "bd", "best seller"),
    "fashion": ("jean", "baskets", "veste", "sneakers"),
}


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")


@dataclass(frozen=True)
class World:
    """What all people share: the period, the catalogue, the marketing calendar."""

    seed: int
    start_ms: int
    end_ms: int
    models: dict[str, tuple[tuple[Product, Product | None], ...]]  # (new, refurbished) per model
    lines: dict[tuple[str, str], Message]  # (product_id, country) → order line, no quantity
    paths: dict[str, str]  # product_id → path of its page
    campaigns: tuple[Campaign, ...]
    schedule: cx.Schedule  # the relational NPS, the Kano survey, the experiment

    @classmethod
    def build(cls, seed: int, start: datetime, months: int) -> World:
        """The shared world of a simulation of `months` from `start`."""
        products = catalog(seed)
        models: dict[str, list[tuple[Product, Product | None]]] = {}
        for product in products:
            if product.condition == "new":
                models.setdefault(product.category, []).append((product, None))
            else:  # a refurbished product directly follows its new twin
                new, _ = models[product.category][-1]
                models[product.category][-1] = (new, product)
        lines = {}
        for product in products:
            for country in ("FR", "US"):
                price, _ = local_price(product, country)
                lines[product.product_id, country] = {
                    "product_id": product.product_id,
                    "sku": product.sku,
                    "name": product.name,
                    "brand": product.brand,
                    "category": product.category,
                    "price": price,
                    "condition": product.condition,
                    "co2_kg": product.co2_kg,
                }
        return cls(
            seed=seed,
            start_ms=to_ms(start),
            end_ms=to_ms(add_months(start, months)),
            models={k: tuple(v) for k, v in models.items()},
            lines=lines,
            paths={p.product_id: f"/p/{_slug(p.name)}-{p.product_id.lower()}" for p in products},
            campaigns=calendar(seed, start, months),
            schedule=cx.Schedule.build(start, months),
        )


@dataclass
class Order:
    """A completed order and what went wrong around it."""

    order_id: str
    ms: int
    channel: str
    lines: list[Message]
    total: float
    friction: Friction = field(default_factory=Friction)


class Session:
    """One visit on a browser or in the app: a time cursor and the current page."""

    def __init__(
        self,
        sim: Simulation,
        device: Device,
        ms: int,
        campaign: Message | None = None,
        referrer: str = "",
    ) -> None:
        self.sim = sim
        self.device = device
        self.ms = ms
        self.web = device.kind == "web"
        self.tracking = sim.tracking_allowed(ms)
        self.campaign = campaign
        self.page: dict[str, str] = {"path": "/", "url": "", "title": "", "referrer": referrer}
        if not self.web:
            self.track("Application Opened", {"from_background": sim.rng.random() < 0.4})

    def wait(self, lo_s: int = 4, hi_s: int = 60) -> None:
        self.ms += between(self.sim.rng, lo_s * SECOND_MS, hi_s * SECOND_MS)

    def context(self, channel: str | None = None) -> Message:
        if self.web:
            return web_context(self.device, self.sim.locale, dict(self.page), channel or "web")
        return app_context(self.device, self.sim.locale, channel or "app")

    def emit(self, message: Message, essential: bool = False) -> None:
        """Write `message` unless the person refused analytics; `essential` messages (consent,
        login, orders) are needed to serve them and are sent regardless."""
        if self.tracking or essential:
            self.sim.emit(self.ms, message, self.device)

    def view(self, name: str, path: str, title: str, properties: Message | None = None) -> None:
        """A page (web) or screen (app) view."""
        if self.web:
            url = f"{SITES[self.sim.country]}{path}"
            referrer = self.page["url"] or self.page["referrer"]
            self.page = {"path": path, "url": url, "title": title, "referrer": referrer}
            props = {**self.page, **(properties or {})}
            message: Message = {
                "type": "page",
                "name": name,
                "properties": props,
                "context": self.context(),
            }
        else:
            message = {
                "type": "screen",
                "name": name,
                "properties": properties or {},
                "context": self.context(),
            }
        if self.campaign is not None:
            message["context"]["campaign"] = self.campaign
            self.campaign = None  # utm parameters come with the landing hit only
        self.emit(message)

    def track(
        self,
        event: str,
        properties: Message,
        essential: bool = False,
        channel: str | None = None,
        traits: Message | None = None,
    ) -> None:
        ctx = self.context(channel)
        if traits:
            ctx["traits"] = traits
        self.emit(
            {"type": "track", "event": event, "properties": properties, "context": ctx}, essential
        )

    def login(self, created: bool = False) -> None:
        """Log in (identify) if the person has an account and is not logged in here yet."""
        sim = self.sim
        device = self.device
        if not sim.registered(self.ms) or (
            device.login_ms is not None and device.login_ms <= self.ms
        ):
            return
        self.wait(5, 40)
        device.login_ms = self.ms
        self.emit(
            {"type": "identify", "traits": sim.traits(self.ms, created), "context": self.context()},
            essential=True,
        )


class Simulation:
    """Plays one person's journeys and collects their messages."""

    def __init__(self, world: World, profile: Profile, rng: random.Random) -> None:
        self.world = world
        self.profile = profile
        self.person = profile.person
        self.persona = profile.persona
        self.rng = rng
        self.country = self.person.country
        self.currency = "EUR" if self.country == "FR" else "USD"
        self.locale = profile.locale
        self.offset = profile.city.utc_offset
        self.out: list[Emitted] = []
        self._ids = 0
        persona = self.persona
        self.categories = persona.categories
        ranked = sorted(persona.categories.pairs, key=lambda pair: -pair[1])
        self.favourites = frozenset(category for category, _ in ranked[:3])
        # Consent decisions; the analytics one may be withdrawn later.
        self.analytics = rng.random() < 0.9
        self.personalisation = rng.random() < 0.65
        self.profiling = rng.random() < 0.4
        self.analytics_until: int | None = None
        self.email_from: int | None = None
        self.email_until: int | None = None
        self.sms_from: int | None = None
        self.sms_until: int | None = None
        self.push = bool(profile.apps) and rng.random() < 0.6
        self.registered_ms: int | None = None
        self.social_id = f"ig-{rng.getrandbits(40):010x}"
        self.last_online_order: Order | None = None
        self.incidents: list[tuple[int, str, int]] = []  # (time, kind, amount) of friction
        self.variant = cx.variant(world.seed, profile.index)
        self.exposed_ms: int | None = None  # first seen the experiment

    # ---- bookkeeping -------------------------------------------------------------------

    def emit(self, ms: int, message: Message, device: Device | None = None) -> None:
        self.out.append((ms, len(self.out), message, device))

    def new_id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}-{unique_hex(self.world.seed, 1, self.profile.index, self._ids)}"

    def incident(self, ms: int, kind: str, amount: int = 1) -> None:
        """Friction the relational NPS remembers: "payment", "unresolved", "delay", "return"."""
        self.incidents.append((ms, kind, amount))

    def expose(self, session: Session) -> None:
        """The first product page or checkout of the experiment period shows the variant."""
        if (
            self.exposed_ms is not None
            or session.ms < self.world.schedule.experiment_from
            or not session.tracking
        ):
            return
        self.exposed_ms = session.ms
        session.track("Experiment Viewed", {"experiment": cx.EXPERIMENT, "variant": self.variant})

    def conversion(self, ms: int) -> float:
        """How the experiment changes the chance to go through a checkout at `ms`."""
        exposed = self.exposed_ms
        if (
            exposed is not None
            and self.variant == "no_countdown"
            and exposed <= ms < exposed + cx.EXPERIMENT_WINDOW_MS
        ):
            return cx.NO_COUNTDOWN_EFFECT
        return 1.0

    def registered(self, ms: int) -> bool:
        return self.registered_ms is not None and self.registered_ms <= ms

    def tracking_allowed(self, ms: int) -> bool:
        return self.analytics and (self.analytics_until is None or ms < self.analytics_until)

    def email_allowed(self, ms: int) -> bool:
        return (
            self.email_from is not None
            and self.email_from <= ms
            and (self.email_until is None or ms < self.email_until)
        )

    def sms_allowed(self, ms: int) -> bool:
        return (
            self.sms_from is not None
            and self.sms_from <= ms
            and (self.sms_until is None or ms < self.sms_until)
        )

    def traits(self, ms: int, created: bool = False) -> Message:
        """What a login or sign-up tells about the person."""
        person = self.person
        traits: Message = {
            "email": person.email,
            "phone": person.phone,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "address": {"city": person.city, "country": person.country},
        }
        if self.rng.random() < 0.5:
            traits["birthday"] = self.profile.birthday
        else:
            traits["birth_year"] = person.birth_year
        if person.loyalty_card:
            traits["loyalty_card"] = person.loyalty_card
        if created:
            traits["created_at"] = iso(ms)
        return traits

    def device_track(
        self,
        device: Device,
        ms: int,
        event: str,
        properties: Message,
        channel: str,
        essential: bool = False,
    ) -> None:
        """A track message from a device outside a visit (a push received, a geofenced
        check-in, a chat survey): the SDK sends it, nothing is opened."""
        if device.kind == "web":
            page = {
                "path": "/help",
                "url": f"{SITES[self.country]}/help",
                "title": "Help",
                "referrer": "",
            }
            ctx = web_context(device, self.locale, page, channel)
        else:
            ctx = app_context(device, self.locale, channel)
        if essential or self.tracking_allowed(ms):
            self.emit(
                ms,
                {"type": "track", "event": event, "properties": properties, "context": ctx},
                device,
            )

    def send(
        self, ms: int, event: str, properties: Message, context: Message, identity: Message
    ) -> None:
        """A track message whose identity fields are known when it is written."""
        message = {"type": "track", "event": event, "properties": properties, "context": context}
        self.emit(ms, {**message, **identity})

    def user_message(self, ms: int, channel: str, event: str, properties: Message) -> None:
        """A track message sent by one of the brand's systems about a known user."""
        context = server_context(channel, self.locale)
        self.send(ms, event, properties, context, {"userId": self.person.user_id})

    # ---- the year ------------------------------------------------------------------------

    def run(self) -> list[Emitted]:
        """Simulate the whole period; return the messages in writing order."""
        rng, world, persona = self.rng, self.world, self.persona
        span = world.end_ms - world.start_ms
        joined = world.start_ms if rng.random() < 0.7 else world.start_ms + below(rng, span)
        churned = rng.random() < 0.2
        left = joined + below(rng, world.end_ms - joined) if churned else world.end_ms
        left = max(left, joined + DAY_MS)
        plan = self._plan(joined, left)
        if self.person.user_id:
            if joined == world.start_ms and rng.random() < persona.existing:
                self.registered_ms = world.start_ms - DAY_MS
                marketing.legacy_consents(self)
            else:
                signup = joined + below(rng, max(1, (left - joined) // 3))
                plan.append((signup, "signup"))
                plan.sort()
        if self.analytics and rng.random() < 0.03:
            self._withdraw_analytics(joined + below(rng, left - joined))
        for ms, kind in plan:
            _JOURNEYS[kind](self, ms)
        marketing.campaigns(self, joined, left)
        cx.relational_nps(self, joined, left)  # after everything: it reads past friction
        cx.kano(self, joined, left)
        return self.out

    def _plan(self, lo: int, hi: int) -> list[tuple[int, str]]:
        """When and which journeys; frequencies vary between people (gamma), as in BG/NBD."""
        rng, persona = self.rng, self.persona
        activity = rng.gammavariate(2.0, 0.5)
        mean = persona.journeys_per_year * (hi - lo) / _YEAR_MS * activity
        count = max(1, poisson(rng, mean))
        plan = []
        for _ in range(count):
            kind = persona.journeys.draw(rng)
            if kind in ("browse_app", "buy_app") and not self.profile.apps:
                kind = kind.replace("app", "web")
            elif kind == "browse_web" and self.profile.family_size > 1 and rng.random() < 0.4:
                kind = "browse_app"  # the family tablet is handy
            clock = (
                "store"
                if kind in _STORE_JOURNEYS
                else "call"
                if kind == "support"
                else persona.online_clock
            )
            plan.append((pick_time(rng, lo, hi, clock, self.offset), kind))
        plan.sort()
        return plan

    # ---- products ------------------------------------------------------------------------

    def choose_category(self) -> str:
        return self.categories.draw(self.rng)

    def choose_product(self, category: str | None = None) -> Product:
        """A product of `category`, popular models first, refurbished per the persona."""
        models = self.world.models[category or self.choose_category()]
        new, refurbished = models[int(len(models) * self.rng.random() ** 1.7)]
        if refurbished is not None and self.rng.random() < self.persona.refurbished:
            return refurbished
        return new

    def basket(self, first: Product) -> list[Product]:
        products = [first]
        while self.rng.random() < self.persona.basket_extra and len(products) < 5:
            extra = self.choose_product()
            if extra not in products:
                products.append(extra)
        return products

    def line(self, product: Product, quantity: int = 1) -> Message:
        return {**self.world.lines[product.product_id, self.country], "quantity": quantity}

    def product_properties(self, product: Product) -> Message:
        return {**self.world.lines[product.product_id, self.country], "currency": self.currency}

    def quantity(self, product: Product) -> int:
        cheap = product.category in ("books", "toys", "accessories")
        return 2 if cheap and self.rng.random() < 0.2 else 1

    # ---- devices and consent ---------------------------------------------------------------

    def browser(self) -> Device:
        return self.rng.choice(self.profile.browsers)

    def app(self) -> Device:
        return self.rng.choice(self.profile.apps)

    def consent_prompt(self, device: Device, context: Message) -> list[Message]:
        """The cookie banner or the app's consent screen, answered on a device's first use.

        Added when the stream is finalised, before the device's first message in time
        (journeys are not written in time order); `context` is that message's.
        """
        context = {k: v for k, v in context.items() if k not in ("campaign", "traits")}
        context["channel"] = device.kind  # the prompt may precede a chat or a push
        source = "cookie_banner" if device.kind == "web" else "app_consent_prompt"
        return [
            {
                "type": "track",
                "event": "Consent Updated",
                "properties": {
                    "purpose": purpose,
                    "granted": granted,
                    "wording_version": WORDING,
                    "source": source,
                },
                "context": dict(context),
            }
            for purpose, granted in (
                ("analytics", self.analytics),
                ("personalisation", self.personalisation),
            )
        ]

    def _withdraw_analytics(self, ms: int) -> None:
        """Withdrawal in the privacy centre: from then on only essential messages are sent."""
        session = Session(self, self.browser(), ms)
        session.view("Privacy Center", "/privacy", "Privacy settings | Empreinte")
        session.wait(10, 90)
        self.analytics_until = session.ms
        session.track(
            "Consent Updated",
            {
                "purpose": "analytics",
                "granted": False,
                "wording_version": WORDING,
                "source": "privacy_center",
            },
            essential=True,
        )

    # ---- online journeys -------------------------------------------------------------------

    def _device(self, app: bool) -> Device:
        return self.app() if app and self.profile.apps else self.browser()

    def _landing(self, session: Session, category: str, product: Product | None) -> None:
        rng = self.rng
        if session.campaign is None and product is not None and rng.random() < 0.3:
            self.view_product(session, product)  # straight from a search engine
            return
        if rng.random() < 0.4:
            session.view("Home", "/", "Empreinte")
            session.wait()
        if rng.random() < 0.45:
            term = rng.choice(_SEARCH_TERMS[category])
            session.track("Products Searched", {"query": term})
            session.wait(2, 10)
            session.view("Search", f"/search?q={term.replace(' ', '+')}", f"{term} | Empreinte")
        else:
            session.view(
                category.title(),
                f"/c/{category}",
                f"{category.title()} | Empreinte",
                {"category": category},
            )
        session.wait()

    def view_product(self, session: Session, product: Product) -> None:
        session.view(
            "Product",
            self.world.paths[product.product_id],
            f"{product.name} | Empreinte",
            {"category": product.category},
        )
        session.wait(1, 3)
        session.track("Product Viewed", self.product_properties(product))
        self.expose(session)
        session.wait(10, 120)

    def browse(
        self,
        ms: int,
        app: bool = False,
        campaign: Message | None = None,
        category: str | None = None,
    ) -> None:
        """Browsing without buying; sometimes a cart is started and abandoned."""
        rng = self.rng
        device = self._device(app)
        session = Session(
            self,
            device,
            ms,
            campaign,
            "" if campaign else rng.choice(("", "https://www.google.com/")),
        )
        category = category or self.choose_category()
        self._landing(session, category, None)
        if rng.random() < 0.25:
            session.login()
        viewed = [self.choose_product(category) for _ in range(1 + int(rng.expovariate(0.7)))]
        for product in viewed:
            self.view_product(session, product)
        if rng.random() < 0.15:
            session.track(
                "Product Added",
                {
                    **self.product_properties(viewed[-1]),
                    "quantity": 1,
                    "cart_id": self.new_id("cart"),
                },
            )

    def buy(
        self,
        ms: int,
        app: bool = False,
        campaign: Message | None = None,
        category: str | None = None,
    ) -> Order | None:
        """A shopping visit: find products, fill the cart, check out (with drop-off)."""
        rng = self.rng
        device = self._device(app)
        referrer = (
            ""
            if campaign
            else rng.choice(
                (
                    "",
                    "https://www.google.com/",
                    "https://www.bing.com/",
                    "https://www.instagram.com/",
                )
            )
        )
        if campaign is None and referrer == "https://www.instagram.com/":
            campaign = {"name": "always-on-social", "source": "instagram", "medium": "paid_social"}
        session = Session(self, device, ms, campaign, referrer)
        category = category or self.choose_category()
        target = self.choose_product(category)
        self._landing(session, category, target)
        if rng.random() < 0.3:
            session.login()
        if rng.random() < 0.5:  # compares with a neighbour first
            self.view_product(session, self.choose_product(category))
        self.view_product(session, target)
        if rng.random() < 0.3:
            return None  # left at the product page: the top of the funnel leaks the most
        return self.checkout(session, self.basket(target))

    def add_to_cart(self, session: Session, products: list[Product]) -> list[Message]:
        cart_id = self.new_id("cart")
        lines = []
        for product in products:
            line = self.line(product, self.quantity(product))
            session.track(
                "Product Added",
                {
                    **self.product_properties(product),
                    "quantity": line["quantity"],
                    "cart_id": cart_id,
                },
            )
            session.wait(5, 90)
            lines.append(line)
        return lines

    def checkout(
        self, session: Session, products: list[Product], lines: list[Message] | None = None
    ) -> Order | None:
        """From the cart to the order: abandonment, login or guest details, payment."""
        rng = self.rng
        lines = lines or self.add_to_cart(session, products)
        total = round(sum(line["price"] * line["quantity"] for line in lines), 2)
        session.view("Cart", "/cart", "Cart | Empreinte")
        session.track("Cart Viewed", {"products": lines, "value": total, "currency": self.currency})
        self.expose(session)
        if rng.random() >= 0.8 * self.conversion(session.ms):
            return None  # abandoned cart
        session.wait(5, 60)
        session.login()
        order_id = self.new_id("ORD")
        session.view("Checkout", "/checkout", "Checkout | Empreinte")
        session.track(
            "Checkout Started",
            {
                "order_id": order_id,
                "value": total,
                "revenue": total,
                "currency": self.currency,
                "products": lines,
            },
        )
        if rng.random() < 0.08:
            service.call_after_abandoned_checkout(self, session.ms, order_id)
            return None
        session.wait(20, 150)
        method = _ONLINE_PAYMENTS.draw(rng)
        session.track(
            "Payment Info Entered",
            {"checkout_id": order_id, "order_id": order_id, "payment_method": method},
        )
        session.wait(3, 15)
        friction = Friction()
        if rng.random() < 0.03:
            session.track(
                "Payment Failed",
                {"order_id": order_id, "reason": rng.choice(_PAYMENT_FAILURES)},
                essential=True,
            )
            friction.payment_failed = True
            self.incident(session.ms, "payment")
            return self._after_payment_failure(session, order_id, lines, total, friction)
        return self.complete_online(session, order_id, lines, total, method, friction)

    def complete_online(
        self,
        session: Session,
        order_id: str,
        lines: list[Message],
        total: float,
        method: str,
        friction: Friction,
    ) -> Order:
        person = self.person
        traits = (
            None
            if self.registered(session.ms)
            else {  # typed at a guest checkout
                "email": self.profile.email_typed,
                "first_name": person.first_name,
                "last_name": person.last_name,
                "phone": person.phone,
            }
        )
        session.view("Order Confirmation", "/checkout/confirmation", "Thank you | Empreinte")
        session.track(
            "Order Completed",
            {
                "order_id": order_id,
                "total": total,
                "revenue": total,
                "currency": self.currency,
                "products": lines,
                "payment_method": method,
            },
            essential=True,
            traits=traits,
        )
        order = Order(
            order_id, session.ms, "app" if not session.web else "web", lines, total, friction
        )
        self._checkout_survey(session, order)
        self._after_online_order(order)
        return order

    def _after_payment_failure(
        self,
        session: Session,
        order_id: str,
        lines: list[Message],
        total: float,
        friction: Friction,
    ) -> Order | None:
        """Retry at once, call customer service within hours, or give up."""
        rng = self.rng
        if rng.random() < self.persona.contact_after_failure:
            ms = session.ms + between(rng, 10 * MINUTE_MS, 6 * HOUR_MS)
            contact = service.contact(self, ms, "payment_failed", friction, order_id)
            if not contact.resolved:
                return None
            if contact.channel == "phone" and rng.random() < 0.6:
                return self._phone_order(contact, order_id, lines, total, friction)
            retry = Session(self, session.device, contact.end_ms + between(rng, MINUTE_MS, HOUR_MS))
            retry.login()
        elif rng.random() < 0.5:
            retry = session
        else:
            return None
        retry.wait(10, 60)
        method = _ONLINE_PAYMENTS.draw(rng)
        retry.track(
            "Payment Info Entered",
            {"checkout_id": order_id, "order_id": order_id, "payment_method": method},
        )
        retry.wait(3, 15)
        return self.complete_online(retry, order_id, lines, total, method, friction)

    def _phone_order(
        self,
        contact: Contact,
        order_id: str,
        lines: list[Message],
        total: float,
        friction: Friction,
    ) -> Order:
        """The agent takes the order over the phone, in the same call."""
        ms = contact.end_ms - between(self.rng, 30, 90) * SECOND_MS
        props = {
            "order_id": order_id,
            "total": total,
            "revenue": total,
            "currency": self.currency,
            "products": lines,
            "payment_method": "card",
            "agent_assisted": True,
        }
        self.send(ms, "Order Completed", props, dict(contact.context), contact.identity)
        order = Order(order_id, ms, "phone", lines, total, friction)
        self._after_online_order(order)
        return order

    def _checkout_survey(self, session: Session, order: Order) -> None:
        """The effort question right after a web checkout."""
        if session.web and self.rng.random() < self.persona.survey_response * 0.6:
            session.wait(5, 30)
            event, props = self.survey_answer(
                "ces", "web_checkout", order.friction, {"order_id": order.order_id}
            )
            session.track(event, props, essential=True)

    def _after_online_order(self, order: Order) -> None:
        """Shipping news, delivery, maybe a "where is my order?" contact, a return, the NPS."""
        rng = self.rng
        self.last_online_order = order
        shipped = later(rng, order.ms, 1, 2, "send", self.offset)
        if self.registered(order.ms) and rng.random() < 0.5:
            self.user_message(
                shipped,
                "sms",
                "SMS Delivered",
                {"message_type": "shipping_update", "order_id": order.order_id},
            )
        elif order.channel == "app" and self.push:
            self.device_track(
                self.app(),
                shipped,
                "Push Notification Received",
                {"message_type": "shipping_update", "order_id": order.order_id},
                "push",
            )
        delivered, delay = self._delivery(order, shipped)
        if rng.random() < 0.06 * self.persona.friction_sensitivity * (1 + delay):
            service.contact(
                self,
                shipped + below(rng, max(1, delivered - shipped)),
                "order_status",
                order.friction,
                order.order_id,
            )
        survey_at = delivered
        if rng.random() < self._return_rate(order):
            survey_at = self._return(order, delivered)
        reviews.review(self, order, delivered)
        if self.registered(order.ms):
            self.survey(
                later(rng, survey_at, 1, 3, "online", self.offset),
                "nps",
                "delivery",
                order.friction,
                {"order_id": order.order_id},
            )

    def _delivery(self, order: Order, shipped: int) -> tuple[int, int]:
        """The parcel arrives by the promised date, or (sometimes) days later: returns the
        delivery time and the delay in days, and sends `Order Delivered`."""
        rng = self.rng
        promised = local_day(order.ms, self.offset) + _PROMISED_DAYS
        delay = 0
        rate = _DELAY_RATE * (2 if day_month(promised) >= 10 else 1)
        if rng.random() < rate:
            delay = int(_DELAYS.draw(rng))
            delivered = on_day(rng, (promised + delay) * DAY_MS, "store", self.offset)
            order.friction.delay_days = delay
            self.incident(delivered, "delay", delay)
        else:  # shipped at most two days after the order, in transit one to four days
            delivered = later(rng, shipped, 1, 4, "store", self.offset)
        props = {
            "order_id": order.order_id,
            "delay_days": delay,
            "promised_date": day_text(promised),
        }
        if self.registered(delivered):
            self.user_message(delivered, "email", "Order Delivered", props)
        else:  # the carrier's notice goes to the address typed at the guest checkout
            ctx = server_context("email", self.locale)
            ctx["traits"] = {"email": self.profile.email_typed}
            identity = {"anonymousId": order.order_id.lower()}
            self.send(delivered, "Order Delivered", props, ctx, identity)
        return delivered, delay

    def _return_rate(self, order: Order) -> float:
        fashion = any(line["category"] == "fashion" for line in order.lines)
        return 0.2 if fashion else 0.06

    def _return(self, order: Order, delivered: int) -> int:
        """Send one line back and get refunded; returns the refund time."""
        rng = self.rng
        order.friction.returned = True
        line = max(order.lines, key=lambda item: item["category"] == "fashion")
        ms = later(rng, delivered, 1, 10, "online", self.offset)
        self.incident(ms, "return")
        props = {
            "order_id": order.order_id,
            "total": round(line["price"] * line["quantity"], 2),
            "currency": self.currency,
            "products": [line],
            "reason": rng.choice(("wrong_size", "defective", "not_as_described", "changed_mind")),
        }
        if order.channel == "store" or rng.random() < 0.2:
            store = self.rng.choice(self.profile.store_ids)
            props["store_id"] = store
            self.store_message(
                later(rng, ms, 0, 5, "store", self.offset), store, "Order Refunded", props
            )
            return ms
        if rng.random() < 0.25:
            contact = service.contact(self, ms, "return_request", order.friction, order.order_id)
            ms = contact.end_ms
            if contact.channel == "phone":
                self.send(ms, "Order Refunded", props, dict(contact.context), contact.identity)
                return ms
        session = Session(self, self.browser(), ms + between(rng, MINUTE_MS, DAY_MS))
        session.login()
        session.view("Returns", "/account/returns", "Returns | Empreinte")
        session.wait(30, 200)
        session.track("Order Refunded", props, essential=True)
        return session.ms

    def _j_app_to_web(self, ms: int) -> None:
        """Cart filled on the app, bought on a computer hours later (the account syncs it)."""
        rng = self.rng
        if not self.profile.apps or not self.registered(ms):
            self.buy(ms, app=bool(self.profile.apps))
            return
        session = Session(self, self.app(), ms)
        session.login()
        target = self.choose_product()
        self._landing(session, target.category, target)
        self.view_product(session, target)
        lines = self.add_to_cart(session, self.basket(target))
        session.view("Cart", "/cart", "Cart")
        web = Session(self, self.browser(), session.ms + between(rng, 2 * HOUR_MS, 30 * HOUR_MS))
        web.view("Home", "/", "Empreinte")
        web.login()
        self.checkout(web, [], lines)

    # ---- cross-channel journeys --------------------------------------------------------------

    def _j_ropo(self, ms: int) -> None:
        """Research online over a few days, then buy that product in a shop within days."""
        rng = self.rng
        target = self.choose_product()
        app = bool(self.profile.apps) and rng.random() < 0.3
        last = ms
        for visit in range(between(rng, 1, 3)):
            start = ms if visit == 0 else later(rng, last, 0, 1, "online", self.offset)
            session = Session(self, self._device(app), start, None, "https://www.google.com/")
            self._landing(session, target.category, target)
            if rng.random() < 0.6:
                self.view_product(session, self.choose_product(target.category))
            self.view_product(session, target)
            if rng.random() < 0.3:
                session.view("Store Locator", "/stores", "Our stores | Empreinte")
            last = session.ms
        if rng.random() < 0.85:
            store_ms = later(rng, last, 1, 10, "store", self.offset)
            self.store_purchase(store_ms, self.basket(target))

    def _j_showroom(self, ms: int) -> None:
        """See the product in a shop (scanned with the app), buy it online days later."""
        rng = self.rng
        store = rng.choice(self.profile.store_ids)
        target = self.choose_product()
        self.store_visit(ms, store, target.category)
        if self.profile.apps and rng.random() < 0.6:
            scan = Session(self, self.app(), ms + between(rng, 3, 25) * MINUTE_MS)
            scan.track(
                "Product Viewed",
                {**self.product_properties(target), "store_id": store},
                channel="store",
            )
        buy_ms = later(rng, ms, 1, 7, "online", self.offset)
        app = bool(self.profile.apps) and rng.random() < 0.4
        session = Session(self, self._device(app), buy_ms, None, "https://www.google.com/")
        self._landing(session, target.category, target)
        self.view_product(session, target)
        self.checkout(session, self.basket(target))

    # ---- stores -------------------------------------------------------------------------

    def store_message(
        self, ms: int, store: str, event: str, properties: Message, terminal: str = "till"
    ) -> None:
        """A message from a shop terminal (a till, the entrance kiosk): the loyalty card
        identifies the customer, if they show one; the terminal's id stands in otherwise."""
        card = self.person.loyalty_card
        ctx = server_context("store", self.locale)
        if card:
            ctx["externalIds"] = [
                {"id": card, "type": "loyalty_card", "collection": "users", "encoding": "none"}
            ]
            ctx["traits"] = {
                "loyalty_card": card,
                "first_name": self.person.first_name,
                "last_name": self.person.last_name,
                "email": self.profile.email_typed,
            }
        device_id = f"{terminal}-{store.lower()}-{between(self.rng, 1, 4)}"
        self.send(ms, event, properties, ctx, {"anonymousId": device_id})

    def store_visit(self, ms: int, store: str, department: str) -> None:
        """Visits are known when the loyalty card is scanned at the entrance (visits earn
        points) or the app checks in; otherwise the shop never knows."""
        card = self.person.loyalty_card
        props = {"store_id": store, "loyalty_card": card, "department": department}
        if card:
            self.store_message(ms, store, "Store Visited", props, terminal="kiosk")
        elif self.profile.apps:
            self.device_track(self.app(), ms, "Store Visited", props, "store")

    def store_purchase(self, ms: int, products: list[Product]) -> Order:
        rng = self.rng
        store = rng.choice(self.profile.store_ids)
        self.store_visit(ms, store, products[0].category)
        ms += between(rng, 5, 45) * MINUTE_MS
        lines = [self.line(p, self.quantity(p)) for p in products]
        total = round(sum(line["price"] * line["quantity"] for line in lines), 2)
        order = Order(self.new_id("ORD"), ms, "store", lines, total)
        self.store_message(
            ms,
            store,
            "Order Completed",
            {
                "order_id": order.order_id,
                "receipt_id": self.new_id("RCPT"),
                "store_id": store,
                "total": total,
                "revenue": total,
                "currency": self.currency,
                "products": lines,
                "payment_method": _STORE_PAYMENTS.draw(rng),
                "loyalty_card": self.person.loyalty_card,
            },
        )
        survey_at = ms
        if rng.random() < self._return_rate(order) * 0.7:
            survey_at = self._return(order, ms)
        if self.registered(ms) and self.person.loyalty_card:
            self.survey(
                later(rng, survey_at, 0, 2, "online", self.offset),
                "csat",
                "store",
                order.friction,
                {"order_id": order.order_id, "store_id": store},
            )
        return order

    def _j_store_buy(self, ms: int) -> None:
        self.store_purchase(ms, self.basket(self.choose_product()))

    def _j_store_visit(self, ms: int) -> None:
        self.store_visit(ms, self.rng.choice(self.profile.store_ids), self.choose_category())

    # ---- customer service ---------------------------------------------------------------

    def _j_support(self, ms: int) -> None:
        reason = _CONTACT_REASONS.draw(self.rng)
        if reason == "loyalty_points" and not self.person.loyalty_card:
            reason = "product_question"
        # Journeys run in the order they start, and one that spans days (a showroom visit,
        # then the purchase) may have placed an order after this contact: not that one.
        order = self.last_online_order
        if (
            order is not None
            and order.ms < ms
            and reason in ("order_status", "return_request", "billing")
        ):
            service.contact(self, ms, reason, order.friction, order.order_id)
        else:
            service.contact(self, ms, reason, Friction(), None)

    # ---- surveys -----------------------------------------------------------------------

    def survey_answer(
        self, kind: str, touchpoint: str, friction: Friction, reference: Message
    ) -> tuple[str, Message]:
        """The event and properties of an answer to a transactional survey ("nps", "csat",
        "ces") about `touchpoint`; `reference` names the order, call or chat."""
        value = score(kind, self.persona, friction, self.rng)
        phone = spoken_phone(self.person.phone, 1)
        props: Message = {"score": value}
        if kind != "nps":
            props["scale"] = SCALES[kind][1]
        props["question"] = QUESTIONS[kind, self.profile.lang]
        props["comment"] = comment(kind, value, friction, self.profile.lang, phone, self.rng)
        props["survey_id"] = survey_id(kind, touchpoint)
        props["touchpoint"] = touchpoint
        props.update(reference)
        return EVENTS[kind], props

    def survey(
        self, ms: int, kind: str, touchpoint: str, friction: Friction, reference: Message
    ) -> None:
        """An e-mailed survey, answered by some."""
        if self.rng.random() < self.persona.survey_response:
            event, props = self.survey_answer(kind, touchpoint, friction, reference)
            self.user_message(ms, "email", event, props)

    # ---- other channels -----------------------------------------------------------------

    def _j_voice(self, ms: int) -> None:
        """Asking a voice assistant (account linked) about the last order, or for a product."""
        if not self.registered(ms):
            return
        order = self.last_online_order
        assistant = self.rng.choice(("alexa", "google_assistant"))
        if order is not None and 0 < ms - order.ms < 14 * DAY_MS:
            self.user_message(
                ms,
                "voice",
                "Order Status Checked",
                {"order_id": order.order_id, "assistant": assistant},
            )
        else:
            term = self.rng.choice(_SEARCH_TERMS[self.choose_category()])
            self.user_message(
                ms, "voice", "Products Searched", {"query": term, "assistant": assistant}
            )

    def _j_signup(self, ms: int) -> None:
        """Opening an account: sign-up, identify, sometimes alias and group, opt-ins."""
        rng = self.rng
        app = bool(self.profile.apps) and rng.random() < 0.5
        session = Session(self, self._device(app), ms)
        session.view("Create Account", "/account/register", "Create your account | Empreinte")
        session.wait(30, 180)
        self.registered_ms = session.ms
        session.track(
            "Signed Up",
            {"method": rng.choice(("email", "email", "google", "apple"))},
            essential=True,
        )
        session.login(created=True)
        if rng.random() < 0.3:
            self.emit(
                session.ms,
                {
                    "type": "alias",
                    "previousId": session.device.anonymous_id,
                    "userId": self.person.user_id,
                    "context": session.context(),
                },
            )
        if self.profile.company:
            group_id, name, industry, employees = self.profile.company
            session.emit(
                {
                    "type": "group",
                    "groupId": group_id,
                    "traits": {"name": name, "industry": industry, "employees": employees},
                    "context": session.context(),
                },
                essential=True,
            )
        session.wait(5, 30)
        marketing.signup_consents(self, session)


# Journey kinds the personas draw from, and the simulation of each.
_JOURNEYS: dict[str, Callable[[Simulation, int], object]] = {
    "browse_web": Simulation.browse,  # browsing, funnel drop-off before the cart
    "browse_app": lambda sim, ms: sim.browse(ms, app=True),
    "buy_web": Simulation.buy,  # search → view → cart → checkout → payment
    "buy_app": lambda sim, ms: sim.buy(ms, app=True),
    "app_to_web": Simulation._j_app_to_web,  # cart filled on the app, bought on the web
    "ropo": Simulation._j_ropo,  # research online, buy that product in a shop within days
    "showroom": Simulation._j_showroom,  # look in a shop, buy online within days
    "store_buy": Simulation._j_store_buy,
    "store_visit": Simulation._j_store_visit,  # card scanned at the entrance, no purchase
    "support": Simulation._j_support,  # phone, chat or social message to customer service
    "voice": Simulation._j_voice,  # "where is my order?" to a voice assistant
    "signup": Simulation._j_signup,  # opening an account (planned, not drawn)
}
