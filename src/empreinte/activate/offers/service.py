"""`workspace.offers`: the offer catalogue, training, and the next best offers for a person.

The serving path (`next`) reads only memory and indexed lookups: the catalogue, the model file
(loaded once, reloaded when a newer one appears), each offer's eligible people (its segment,
evaluated at most every `[offers] refresh_seconds`), the feedback index (the log's `Offer …`
events since the last request), the impressions the server recorded, and the consent gate.
No Ibis runs there once the eligibility is warm. docs/offers.md states every rule.
"""

from __future__ import annotations

import builtins
import logging
import secrets
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from empreinte.activate.offers.catalogue import ImportReport, Offer, parse_offer, read_offers
from empreinte.activate.offers.feedback import FeedbackIndex, PersonFeedback
from empreinte.activate.offers.model import Model
from empreinte.activate.offers.ranking import Arm, Candidate, rank
from empreinte.activate.offers.reasons import Reason, best_seller, from_history
from empreinte.activate.offers.settings import OfferSettings
from empreinte.errors import (
    AnalyticsError,
    InvalidInput,
    NotFound,
    ProfileNotFound,
    SegmentExpressionError,
)
from empreinte.store.offer_store import Impression

if TYPE_CHECKING:
    from empreinte.workspace import Workspace

MODEL_FILE = Path("models") / "offers.npz"
PURPOSE = "personalisation"
MAX_N = 20
WEEK = timedelta(days=7)
_STRIPES = 64
#: How long a person's consent answer and identifier keys are reused. A new consent entry of
#: theirs (read by every request's feedback sync) drops them at once; the limit bounds what a
#: merge of profiles could leave stale.
PERSON_SECONDS = 60.0
_FLUSH_SECONDS = 0.5
#: The similarity from which a history item is named as the reason for an offer.
REASON_SIMILARITY = 0.2

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Person:
    checked: float
    personalised: bool
    keys: tuple[str, ...]


@dataclass(frozen=True)
class Recommended:
    """One offer for a person, its score and why."""

    offer: Offer
    score: float
    arm: str
    reason: Reason
    lang: str
    #: The arm's posterior mean for the person (None when not personalised).
    arm_mean: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "offer_id": self.offer.offer_id,
            "title": self.offer.title(self.lang),
            "brand": self.offer.brand,
            "categories": list(self.offer.categories),
            "score": round(self.score, 6),
            "reason": self.reason.text,
            "why": {
                **self.reason.to_json(),
                "category": self.arm,
                "category_weight": None if self.arm_mean is None else round(self.arm_mean, 6),
            },
        }


@dataclass(frozen=True)
class NextOffers:
    """The answer of `next`: the offers, whether they are personalised (and if not, why), and
    the seed of the draw (the same seed gives the same answer on the same state)."""

    profile_id: str
    channel: str | None
    personalised: bool
    why_not_personalised: str | None
    offers: tuple[Recommended, ...]
    seed: int
    model_trained_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "profile_id": self.profile_id,
            "channel": self.channel,
            "personalised": self.personalised,
            "why_not_personalised": self.why_not_personalised,
            "offers": [o.to_json() for o in self.offers],
            "seed": self.seed,
            "model_trained_at": (
                self.model_trained_at.isoformat() if self.model_trained_at else None
            ),
        }


@dataclass(frozen=True)
class OfferPerformance:
    """What one offer did: impressions served (and people reached), clicks, declines,
    redemptions (trusted ones: what the budget pays), rates, budget used and left."""

    offer: Offer
    shown: int
    people: int
    clicked: int
    declined: int
    redeemed: int
    untrusted_redemptions: int

    @property
    def click_rate(self) -> float | None:
        return self.clicked / self.shown if self.shown else None

    @property
    def redemption_rate(self) -> float | None:
        return self.redeemed / self.shown if self.shown else None

    @property
    def spent_eur(self) -> float | None:
        value = self.offer.value_eur
        return None if value is None else self.redeemed * value

    @property
    def budget_used(self) -> float | None:
        """The share of the budget spent (the tighter of redemptions and euros)."""
        shares = []
        if self.offer.budget_redemptions:
            shares.append(self.redeemed / self.offer.budget_redemptions)
        if self.offer.budget_eur and self.spent_eur is not None:
            shares.append(self.spent_eur / self.offer.budget_eur)
        return max(shares) if shares else None

    @property
    def exhausted(self) -> bool:
        used = self.budget_used
        return used is not None and used >= 1.0

    def to_json(self) -> dict[str, Any]:
        return {
            "offer_id": self.offer.offer_id,
            "title_en": self.offer.title_en,
            "title_fr": self.offer.title_fr,
            "status": self.offer.status,
            "shown": self.shown,
            "people": self.people,
            "clicked": self.clicked,
            "declined": self.declined,
            "redeemed": self.redeemed,
            "untrusted_redemptions": self.untrusted_redemptions,
            "click_rate": self.click_rate,
            "redemption_rate": self.redemption_rate,
            "spent_eur": self.spent_eur,
            "budget_used": self.budget_used,
            "exhausted": self.exhausted,
        }


@dataclass(frozen=True)
class TrainReport:
    """What `train` learnt from and where it saved the model."""

    path: Path
    products: int
    people: int
    interactions: int
    trained_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "products": self.products,
            "people": self.people,
            "interactions": self.interactions,
            "trained_at": self.trained_at.isoformat(),
        }


def _items_of(offer: Offer, model: Model) -> list[int]:
    """The model's products an offer promotes: those it names (by id or SKU), those of its
    categories (of its brand, when it names one), or every product of its brand."""
    named = set(offer.products)
    cats = set(offer.categories)
    found = []
    for i, product in enumerate(model.products):
        brand_ok = offer.brand is None or model.brands[i] == offer.brand
        if (
            product in named
            or model.skus[i] in named
            or (cats and model.categories[i] in cats and brand_ok)
            or (not cats and not named and brand_ok)
        ):
            found.append(i)
    return found


def _arm_of(offer: Offer, items: list[int], model: Model | None) -> str:
    """The bandit's arm of an offer: its first category, else its products' most common
    category, else the offer itself."""
    if offer.categories:
        return offer.categories[0]
    if model is not None and items:
        counts = Counter(str(model.categories[i]) for i in items if model.categories[i])
        if counts:
            return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    return f"offer:{offer.offer_id}"


class OfferService:
    """The offers of one workspace. One instance per open workspace (`workspace.offers`): it
    holds the serving state in memory."""

    def __init__(self, workspace: Workspace):
        self._ws = workspace
        self.settings = OfferSettings.from_mapping(workspace.config.offers)
        self.store = workspace.engine.offer_store()
        self.model_path = workspace.path / MODEL_FILE
        self.feedback = FeedbackIndex(self.store, workspace.policy.trusted_sources)
        self._lock = threading.Lock()
        self._stripes = [threading.Lock() for _ in range(_STRIPES)]
        self._offers: dict[str, Offer] | None = None
        self._model: Model | None = None
        self._model_mtime: float | None = None
        self._model_checked = 0.0
        self._items: dict[str, tuple[list[int], str]] = {}
        self._eligible: dict[str, tuple[float, frozenset[str]]] = {}
        self._impressions: dict[str, list[tuple[str, datetime]]] | None = None
        self._shown: Counter[str] = Counter()
        self._reached: dict[str, set[str]] = defaultdict(set)
        self._people: dict[str, _Person] = {}
        # Everyone who allowed personalisation at the last refresh (`allowed_profiles`, the
        # bulk form of the gate), computed after every consent entry up to `_consenting_seq`
        # was read; and the keys (and profile ids) with a later consent entry, with its seq:
        # their holders are asked one by one (`allowed`).
        self._consenting: frozenset[str] | None = None
        self._consenting_seq = 0
        self._keys: dict[str, tuple[str, ...]] = {}  # every profile's keys, at the refresh
        self._erasures = -1  # the suppression register's size when `_keys` was read
        #: When the last background refresh finished (None: never, requests do it lazily).
        self.refreshed_at: datetime | None = None
        self._consent_changed: dict[str, int] = {}
        self._pending: builtins.list[Impression] = []
        self._flusher: threading.Thread | None = None
        self._wake = threading.Event()

    # -- catalogue ------------------------------------------------------------------------

    def _check(self, offer: Offer) -> None:
        if offer.eligibility is None:
            return
        try:
            self._ws.segments.check(offer.eligibility)
        except SegmentExpressionError as exc:
            raise InvalidInput("eligibility", str(exc)) from None
        except AnalyticsError as exc:
            raise InvalidInput("eligibility", str(exc)) from None

    def _catalogue(self) -> dict[str, Offer]:
        with self._lock:
            if self._offers is None:
                self._offers = {i: parse_offer(doc) for i, doc in self.store.definitions()}
                self._items.clear()
            return self._offers

    def _saved(self, offers: list[Offer]) -> None:
        self.store.save([(o.offer_id, o.to_json()) for o in offers], datetime.now(UTC))
        with self._lock:
            self._offers = None
            for offer in offers:
                if offer.eligibility is not None:
                    self._eligible.pop(offer.eligibility, None)

    def import_file(self, path: Path) -> ImportReport:
        """Add or replace the offers of a CSV or JSONL file; bad rows reported, good kept."""
        report = read_offers(path, self._check)
        if report.offers:
            self._saved(list(report.offers))
        return report

    def save(self, doc: dict[str, Any]) -> Offer:
        """Add or replace one offer (a JSON object of the catalogue's fields)."""
        return self.save_all([doc])[0]

    def save_all(self, docs: list[dict[str, Any]]) -> list[Offer]:
        """Add or replace offers, all or none: `InvalidInput` names the first bad field."""
        offers = []
        for doc in docs:
            if not isinstance(doc, dict):
                raise InvalidInput("body", "must be a JSON object")
            offer = parse_offer(doc)
            self._check(offer)
            offers.append(offer)
        self._saved(offers)
        return offers

    def list(self) -> list[Offer]:
        return sorted(self._catalogue().values(), key=lambda o: o.offer_id)

    def get(self, offer_id: str) -> Offer:
        offer = self._catalogue().get(offer_id)
        if offer is None:
            raise NotFound(f"no offer {offer_id!r}")
        return offer

    # -- model ----------------------------------------------------------------------------

    def train(self, until: datetime | None = None) -> TrainReport:
        """Train the recommender from the log (before `until`, when given) and save it beside
        the workspace; the server loads it at its next refresh."""
        from empreinte.activate.offers.interactions import interactions
        from empreinte.activate.offers.model import train

        with self._ws.analytics() as log:
            rows = interactions(log, until=until)
        model = train(rows, now=until)
        model.save(self.model_path)
        with self._lock:
            self._model, self._model_mtime = model, self.model_path.stat().st_mtime
            self._items.clear()
        return TrainReport(
            self.model_path, len(model.products), len(model.people), len(rows), model.trained_at
        )

    def model(self) -> Model | None:
        """The current model: loaded on first use, again when the file is newer (looked at
        most every `refresh_seconds`)."""
        now = time.monotonic()
        with self._lock:
            due = self._model is None or now - self._model_checked >= self.settings.refresh_seconds
            if not due:
                return self._model
            self._model_checked = now
            try:
                mtime = self.model_path.stat().st_mtime
            except FileNotFoundError:
                return self._model
            if mtime != self._model_mtime:
                self._model, self._model_mtime = Model.load(self.model_path), mtime
                self._items.clear()
            return self._model

    # -- state the serving path reads --------------------------------------------------------

    def _eligible_people(self, expression: str) -> frozenset[str]:
        now = time.monotonic()
        with self._lock:
            cached = self._eligible.get(expression)
        if cached is not None and now - cached[0] < self.settings.refresh_seconds:
            return cached[1]
        people = frozenset(self._ws.segments.evaluate(expression))
        with self._lock:
            self._eligible[expression] = (now, people)
        return people

    def _load_impressions(self) -> dict[str, builtins.list[tuple[str, datetime]]]:
        with self._lock:
            if self._impressions is None:
                loaded: dict[str, builtins.list[tuple[str, datetime]]] = defaultdict(list)
                for imp in self.store.impressions():
                    loaded[imp.profile_id].append((imp.offer_id, imp.shown_at))
                    self._shown[imp.offer_id] += 1
                    self._reached[imp.offer_id].add(imp.profile_id)
                self._impressions = loaded
            return self._impressions

    def _record(self, impressions: builtins.list[Impression]) -> None:
        """In memory at once (the next request's capping sees them); in the database by the
        flusher thread within `_FLUSH_SECONDS` (a request does not wait for a commit)."""
        store = self._load_impressions()
        with self._lock:
            for imp in impressions:
                store[imp.profile_id].append((imp.offer_id, imp.shown_at))
                self._shown[imp.offer_id] += 1
                self._reached[imp.offer_id].add(imp.profile_id)
            self._pending.extend(impressions)
            if self._flusher is None and not self._wake.is_set():
                self._flusher = threading.Thread(
                    target=self._flush_loop, name="empreinte-offer-impressions", daemon=True
                )
                self._flusher.start()

    def _flush_loop(self) -> None:
        while not self._wake.wait(_FLUSH_SECONDS):
            try:
                self.flush()
            except Exception:
                log.exception("recording offer impressions failed; retried")

    def close(self) -> None:
        """Stop the impressions' writer and write what it holds (the workspace calls this
        before it releases the database)."""
        self._wake.set()
        with self._lock:
            flusher, self._flusher = self._flusher, None
        if flusher is not None:
            flusher.join()
        self.flush()

    def flush(self) -> None:
        """Write the impressions not yet in the database."""
        with self._lock:
            pending, self._pending = self._pending, []
        if not pending:
            return
        try:
            self.store.record(pending)
        except Exception:
            with self._lock:
                self._pending[:0] = pending
            raise

    def _sync(self) -> int:
        """Read new feedback; forget the cached consent of people with a new consent entry
        (found by the entry's keys and by the profile holding them now: a key new to the
        graph is not in any cached list). The log's seq read up to."""
        dirty, read = self.feedback.sync()
        if not dirty:
            return read
        self._ws.identity.sync()
        owners = {key: self._ws.identity.profile_of(key) for key in dirty}
        with self._lock:
            # An entry the last refresh's snapshot already holds changes nothing (a sync
            # running beside the refresh can read such entries and get here after it).
            fresh = {key: seq for key, seq in dirty.items() if seq > self._consenting_seq}
            for key, seq in fresh.items():
                for marked in (key, owners[key]):
                    if marked is not None:
                        self._consent_changed[marked] = max(
                            seq, self._consent_changed.get(marked, 0)
                        )
            for pid in [
                p
                for p, v in self._people.items()
                if p in self._consent_changed or not fresh.keys().isdisjoint(v.keys)
            ]:
                del self._people[pid]
        return read

    def _person(self, profile_id: str) -> _Person:
        """Whether the person allows personalisation (the consent gate, `allowed`) and their
        identifier keys, reused for `PERSON_SECONDS` unless a consent entry of theirs came."""
        from empreinte.privacy.consent import allowed

        self._sync()
        now = time.monotonic()
        with self._lock:
            cached = self._people.get(profile_id)
        if cached is not None and now - cached.checked < PERSON_SECONDS:
            return cached
        with self._lock:
            keys = self._keys.get(profile_id)
        if keys is None:
            keys = tuple(r.id_key for r in self._ws.identity.identifiers(profile_id))
        with self._lock:
            bulk = self._consenting
            changed = profile_id in self._consent_changed or not (
                self._consent_changed.keys().isdisjoint(keys)
            )
        if bulk is not None and not changed:
            personalised = profile_id in bulk
        else:
            personalised = allowed(self._ws, profile_id, PURPOSE)
        person = _Person(now, personalised, keys)
        with self._lock:
            if len(self._people) > 100_000:
                self._people.clear()
            self._people[profile_id] = person
        return person

    def _prepared(self, model: Model | None) -> dict[str, tuple[builtins.list[int], str]]:
        offers = self._catalogue()
        with self._lock:
            if set(self._items) != set(offers):
                self._items = {}
                for offer in offers.values():
                    items = _items_of(offer, model) if model is not None else []
                    self._items[offer.offer_id] = (items, _arm_of(offer, items, model))
            return self._items

    def refresh(self) -> None:
        """What the server's background loop does: reload the catalogue and a newer model,
        read new feedback, evaluate the segments of live offers again."""
        with self._lock:
            self._offers = None
            self._model_checked = 0.0
        from empreinte.privacy.consent import allowed_profiles

        self.model()
        if not self._catalogue():  # no offer: nothing to prepare (every server runs this)
            self.refreshed_at = datetime.now(UTC)
            return
        self._ws.identity.sync()  # the graph in memory: requests resolve ids without a query
        read = self._sync()  # every consent entry up to `read` has been read, and marked
        erasures = len(self._ws.suppression)
        consenting = allowed_profiles(self._ws, PURPOSE)
        keys = self.store.keys_by_profile()
        with self._lock:
            self._erasures = erasures
            # `consenting` holds every entry up to `read`; the marks of later entries stay
            # (a request's sync may have read them while the snapshot was computed).
            self._consenting, self._consenting_seq = consenting, read
            self._consent_changed = {
                marked: seq for marked, seq in self._consent_changed.items() if seq > read
            }
            self._keys = keys
            self._people.clear()
        now = datetime.now(UTC)
        for offer in self.list():
            if offer.eligibility and offer.live(now):
                with self._lock:
                    self._eligible.pop(offer.eligibility, None)
                self._eligible_people(offer.eligibility)
        self.refreshed_at = datetime.now(UTC)

    # -- serving ----------------------------------------------------------------------------

    def _known(self, profile_id: str) -> bool:
        """Whether `profile_id` was a current profile at the last refresh and no erasure has
        happened since (the suppression register's size: an erasure drops the snapshot, and
        ids are looked up in the graph again until the next refresh)."""
        erased = len(self._ws.suppression)
        with self._lock:
            changed = erased != self._erasures and self._erasures >= 0
            if erased != self._erasures:
                self._keys, self._people = {}, {}
                self._erasures = erased
        if changed:
            self._after_erasure()
        with self._lock:
            return profile_id in self._keys

    def _after_erasure(self) -> None:
        """An erasure deleted the person's impressions (a table naming them). Those still in
        memory, or written since by the flusher, are deleted too; memory is read again. Rare,
        and linear in the people ever shown an offer."""
        self.flush()
        with self._lock:
            shown = list(self._impressions or {})
        gone = [pid for pid in shown if self._ws.identity.resolve(pid) is None]
        self.store.forget(gone)
        with self._lock:
            self._impressions = None
            self._shown.clear()
            self._reached.clear()

    def resolve(self, profile: str | None = None, user_id: str | None = None) -> str:
        """The current profile id of `profile` (an id) or `user_id`; `ProfileNotFound`
        (also for an erased person)."""
        from empreinte.identity.identifiers import IdType
        from empreinte.profiles.lookup import KeyMaker

        if (profile is None) == (user_id is None):
            raise InvalidInput("profile", "give profile (a profile id) or user_id, not both")
        if profile is not None:
            if self._known(profile):
                return profile
            current = self._ws.identity.resolve(profile)
            if current is None:
                raise ProfileNotFound(f"no profile {profile!r}")
            return current
        assert user_id is not None
        key = KeyMaker(self._ws.policy).key(IdType.USER_ID, user_id, "user_id")
        self._ws.identity.sync()
        found = self._ws.identity.profile_of(key)
        if found is None:
            raise ProfileNotFound("no profile has this user_id")
        return found

    def next(
        self,
        profile: str | None = None,
        *,
        user_id: str | None = None,
        channel: str | None = None,
        n: int = 3,
        lang: str = "en",
        seed: int | None = None,
        record: bool = True,
        at: datetime | None = None,
    ) -> NextOffers:
        """The `n` best offers for a person now (see docs/offers.md for every rule). The
        answer's offers are recorded as impressions unless `record` is off (a preview)."""
        if not 1 <= n <= MAX_N:
            raise InvalidInput("n", f"must be a whole number from 1 to {MAX_N}")
        if lang not in ("en", "fr"):
            raise InvalidInput("lang", "en or fr")
        now = at or datetime.now(UTC)
        seed = secrets.randbits(31) if seed is None else seed
        current = self.resolve(profile, user_id)
        person = self._person(current)
        personalised = person.personalised
        model = self.model()
        items = self._prepared(model)
        said = self.feedback.of(person.keys)
        stripe = self._stripes[hash(current) % _STRIPES]
        with stripe:
            seen = self._load_impressions().get(current, [])
            candidates = self._candidates(current, channel, now, said, seen, items)
            chosen = self._choose(
                candidates, model, current, personalised, said, seen, n, lang, seed, now
            )
            if record and chosen:
                self._record(
                    [
                        Impression(current, r.offer.offer_id, channel, now, personalised)
                        for r in chosen
                    ]
                )
        return NextOffers(
            current,
            channel,
            personalised,
            None if personalised else "no personalisation consent: best sellers",
            tuple(chosen),
            seed,
            model.trained_at if model is not None else None,
        )

    def _candidates(
        self,
        person: str,
        channel: str | None,
        now: datetime,
        said: PersonFeedback,
        seen: builtins.list[tuple[str, datetime]],
        items: dict[str, tuple[builtins.list[int], str]],
    ) -> builtins.list[Offer]:
        shown_total = Counter(offer_id for offer_id, _ in seen)
        shown_week = Counter(offer_id for offer_id, at in seen if at > now - WEEK)
        out = []
        for offer in self._catalogue().values():
            if offer.offer_id not in items or not offer.live(now):
                continue
            if channel is not None and offer.channels and channel not in offer.channels:
                continue
            if said.declined[offer.offer_id]:
                continue
            ignored = shown_total[offer.offer_id] >= self.settings.ignore_after
            if ignored and not said.clicked[offer.offer_id]:
                continue
            if shown_week[offer.offer_id] >= offer.cap_per_week:
                continue
            if self._exhausted(offer):
                continue
            if offer.eligibility and person not in self._eligible_people(offer.eligibility):
                continue
            out.append(offer)
        return out

    def _exhausted(self, offer: Offer) -> bool:
        if offer.budget_redemptions is None and offer.budget_eur is None:
            return False
        redeemed = self.feedback.totals[offer.offer_id]["Offer Redeemed"]
        if offer.budget_redemptions is not None and redeemed >= offer.budget_redemptions:
            return True
        return (
            offer.budget_eur is not None
            and offer.value_eur is not None
            and redeemed * offer.value_eur >= offer.budget_eur
        )

    def _choose(
        self,
        candidates: builtins.list[Offer],
        model: Model | None,
        person: str,
        personalised: bool,
        said: PersonFeedback,
        seen: builtins.list[tuple[str, datetime]],
        n: int,
        lang: str,
        seed: int,
        now: datetime,
    ) -> builtins.list[Recommended]:
        if not candidates:
            return []
        items = self._prepared(model)
        history = model.history(person) if (model is not None and personalised) else []
        contributions = model.contributions(history) if model is not None and history else None
        relevance = contributions.sum(axis=0) if contributions is not None else None
        popularity = model.popularity if model is not None else np.zeros(0)
        rows = []
        for offer in candidates:
            offer_items, arm = items[offer.offer_id]
            pop = float(popularity[offer_items].max()) if offer_items else 0.0
            best, rel = -1, 0.0
            if relevance is not None and offer_items:
                values = relevance[offer_items]
                k = int(np.argmax(values))
                best, rel = offer_items[k], float(values[k])
            rows.append(Candidate(offer.offer_id, arm, rel, pop, best))
        arms = self._arms(items, said, seen) if personalised else None
        ranked = rank(rows, arms, seed, n)
        by_id = {o.offer_id: o for o in candidates}
        out = []
        for cand, score in ranked:
            reason: Reason
            reason = best_seller(lang)
            if model is not None and contributions is not None and cand.best >= 0:
                row = int(np.argmax(contributions[:, cand.best]))
                source = history[row]
                # Said only when that product is close to the offer's (a weak link reads as
                # nonsense: "bought a sweater" for headphones).
                if contributions[row, cand.best] >= REASON_SIMILARITY * source.weight:
                    reason = from_history(model, source, now, lang)
            mean = None if arms is None else arms.get(cand.arm, Arm()).mean()
            out.append(Recommended(by_id[cand.offer_id], score, cand.arm, reason, lang, mean))
        return out

    @staticmethod
    def _arms(
        items: dict[str, tuple[builtins.list[int], str]],
        said: PersonFeedback,
        seen: builtins.list[tuple[str, datetime]],
    ) -> dict[str, Arm]:
        """The person's feedback per arm, over every offer they saw or answered (a declined
        offer is gone, but its "no" still weighs on its category)."""
        shown = Counter(offer_id for offer_id, _ in seen)
        arms: dict[str, Arm] = {}
        for oid in set(shown) | set(said.clicked) | set(said.declined) | set(said.redeemed):
            if oid not in items:
                continue
            arm = items[oid][1]
            got = arms.get(arm, Arm())
            arms[arm] = Arm(
                got.successes + said.clicked[oid] + said.redeemed[oid],
                got.failures + said.declined[oid],
                got.ignored + max(shown[oid] - said.clicked[oid], 0),
            )
        return arms

    def performance(self) -> builtins.list[OfferPerformance]:
        """Per offer: impressions, people reached, clicks, declines, redemptions, budget."""
        self._sync()
        self.flush()
        self._load_impressions()
        out = []
        for offer in self.list():
            totals = self.feedback.totals[offer.offer_id]
            with self._lock:
                shown, people = self._shown[offer.offer_id], len(self._reached[offer.offer_id])
            out.append(
                OfferPerformance(
                    offer,
                    shown,
                    people,
                    totals["Offer Clicked"],
                    totals["Offer Declined"],
                    totals["Offer Redeemed"],
                    self.feedback.untrusted_redemptions[offer.offer_id],
                )
            )
        return out
