"""What people said about offers: the `Offer Shown`, `Offer Clicked`, `Offer Declined` and
`Offer Redeemed` track events of the log, kept in memory by identifier key and followed by log
position (each sync reads only the events written since the last one).

Who may say what (docs/offers.md, threat model): a click or a decline may come from any
source — the write key is public, but a forged one only changes what that identifier is
offered (a decline can only take an offer away). A redemption spends a budget: only one from a
trusted source (`api`, `python`, `[consent] trusted_sources`) counts towards it; others count
as clicks. `Offer Shown` from clients is kept for reports only: capping and "ignored N times"
read the impressions the server itself recorded.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from empreinte.store.offer_store import FeedbackRow, OfferStore

SHOWN, CLICKED, DECLINED, REDEEMED = (
    "Offer Shown",
    "Offer Clicked",
    "Offer Declined",
    "Offer Redeemed",
)
EVENTS = (SHOWN, CLICKED, DECLINED, REDEEMED)
#: Read in the same pass: a new consent entry makes the service ask the consent gate again.
CONSENT = "Consent Updated"
_BATCH = 50_000


@dataclass(frozen=True)
class PersonFeedback:
    """One person's feedback per offer: clicks (with untrusted redemptions), declines and
    redemptions."""

    clicked: Counter[str]
    declined: Counter[str]
    redeemed: Counter[str]


class FeedbackIndex:
    """The feedback events in memory, by identifier key, with per-offer totals."""

    def __init__(self, store: OfferStore, trusted: frozenset[str]):
        self._store = store
        self._trusted = trusted
        self._lock = threading.Lock()
        self._cursor = 0
        self._by_key: dict[str, list[FeedbackRow]] = defaultdict(list)
        #: Per offer and event name; `Offer Redeemed` only from trusted sources.
        self.totals: dict[str, Counter[str]] = defaultdict(Counter)
        self.untrusted_redemptions: Counter[str] = Counter()

    def trusted(self, row: FeedbackRow) -> bool:
        return row.source in self._trusted

    def sync(self) -> tuple[dict[str, int], int]:
        """Read the feedback events written since the last sync: the identifier keys of the
        new consent entries (whose holders' consent must be asked again), each with the `seq`
        of its latest entry, and the log's `seq` this sync read up to (every entry at or
        below it has been read, by this sync or an earlier one)."""
        consent: dict[str, int] = {}
        with self._lock:
            while True:
                rows, self._cursor = self._store.feedback_since(
                    self._cursor, (*EVENTS, CONSENT), _BATCH
                )
                for row in rows:
                    if row.event == CONSENT:
                        consent.update(dict.fromkeys(row.identifiers, row.seq))
                        continue
                    for key in row.identifiers:
                        self._by_key[key].append(row)
                    if row.event == REDEEMED and not self.trusted(row):
                        self.untrusted_redemptions[row.offer_id] += 1
                    else:
                        self.totals[row.offer_id][row.event] += 1
                if len(rows) < _BATCH:
                    return consent, self._cursor

    def of(self, keys: Iterable[str]) -> PersonFeedback:
        """The feedback of the person holding `keys` (each event once)."""
        seen: set[int] = set()
        clicked: Counter[str] = Counter()
        declined: Counter[str] = Counter()
        redeemed: Counter[str] = Counter()
        with self._lock:
            rows = [row for key in keys for row in self._by_key.get(key, ())]
        for row in rows:
            if row.seq in seen:
                continue
            seen.add(row.seq)
            if row.event == CLICKED or (row.event == REDEEMED and not self.trusted(row)):
                clicked[row.offer_id] += 1
            elif row.event == DECLINED:
                declined[row.offer_id] += 1
            elif row.event == REDEEMED:
                redeemed[row.offer_id] += 1
        return PersonFeedback(clicked, declined, redeemed)
