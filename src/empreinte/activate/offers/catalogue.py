"""The offer catalogue: what an offer is, and reading offers from a file or a JSON body.

An offer names what it promotes (products by id or SKU, categories, a brand), where it may be
shown (channels), when (validity), to whom (a segment expression), how often (a cap per person
per week) and how much it may cost (a budget in redemptions or in euros). Each bad field is
reported with its name (and its line, for a file); good rows are kept.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson

from empreinte.errors import InvalidInput

STATUSES = ("active", "paused", "ended")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_TEXT_MAX = 200
_LIST_MAX = 500
#: The fields of an offer, as a file's columns or a body's keys.
FIELDS = (
    "offer_id",
    "title_en",
    "title_fr",
    "products",
    "categories",
    "brand",
    "channels",
    "valid_from",
    "valid_until",
    "eligibility",
    "cap_per_week",
    "budget_redemptions",
    "budget_eur",
    "value_eur",
    "status",
)
DEFAULT_CAP = 3


@dataclass(frozen=True)
class Offer:
    """One offer of the catalogue. Empty `channels`: every channel. `value_eur`: what one
    redemption costs the retailer (needed for a budget in euros)."""

    offer_id: str
    title_en: str
    title_fr: str
    products: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    brand: str | None = None
    channels: tuple[str, ...] = ()
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    eligibility: str | None = None
    cap_per_week: int = DEFAULT_CAP
    budget_redemptions: int | None = None
    budget_eur: float | None = None
    value_eur: float | None = None
    status: str = "active"

    def title(self, lang: str) -> str:
        return self.title_fr if lang == "fr" else self.title_en

    def live(self, at: datetime) -> bool:
        """Active and valid at `at`."""
        return (
            self.status == "active"
            and (self.valid_from is None or self.valid_from <= at)
            and (self.valid_until is None or at < self.valid_until)
        )

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {}
        for name in FIELDS:
            value = getattr(self, name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            doc[name] = value
        return doc


@dataclass(frozen=True)
class RowError:
    """A field of one row that could not be read."""

    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.field}: {self.reason}"


@dataclass(frozen=True)
class ImportReport:
    """What an import kept and what it refused."""

    offers: tuple[Offer, ...]
    errors: tuple[RowError, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "imported": [o.offer_id for o in self.offers],
            "errors": [{"line": e.line, "field": e.field, "reason": e.reason} for e in self.errors],
        }


def _text(value: Any, name: str, required: bool = False) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidInput(name, "is required")
        return None
    if not isinstance(value, str):
        raise InvalidInput(name, "must be text")
    if len(value) > _TEXT_MAX and name != "eligibility":
        raise InvalidInput(name, f"at most {_TEXT_MAX} characters")
    return value.strip()


def _list(value: Any, name: str) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):  # a file's cell: "a|b|c"
        value = [part for part in value.split("|")]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(name, "must be a list of texts (in a CSV cell: a|b|c)")
    items = tuple(dict.fromkeys(v.strip() for v in value if v.strip()))
    if len(items) > _LIST_MAX or any(len(v) > _TEXT_MAX for v in items):
        raise InvalidInput(name, f"at most {_LIST_MAX} items of {_TEXT_MAX} characters")
    return items


def _moment(value: Any, name: str) -> datetime | None:
    text = _text(value, name)
    if text is None:
        return None
    try:
        moment = (
            datetime.combine(date.fromisoformat(text), datetime.min.time())
            if len(text) == 10
            else datetime.fromisoformat(text)
        )
    except ValueError:
        raise InvalidInput(name, f"{text!r} is not an ISO date (2026-01-31) or time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _whole(value: Any, name: str, low: int) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= 10**9:
        raise InvalidInput(name, f"must be a whole number from {low} to 1000000000")
    return value


def _euros(value: Any, name: str) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise InvalidInput(name, f"{value!r} is not a number") from None
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value <= 1e9:
        raise InvalidInput(name, "must be a positive amount in euros")
    return float(value)


def parse_offer(doc: Mapping[str, Any]) -> Offer:
    """An offer from a JSON object or a file's row; `InvalidInput` naming the first bad field.
    `title` may be given as {"en": …, "fr": …} instead of `title_en`/`title_fr`."""
    known = set(FIELDS) | {"title"}
    unknown = sorted(str(k) for k in doc if k not in known)
    if unknown:
        raise InvalidInput(unknown[0], f"unknown field; the fields are {', '.join(FIELDS)}")
    values = dict(doc)
    title = values.pop("title", None)
    if title is not None:
        if not isinstance(title, Mapping) or set(title) - {"en", "fr"}:
            raise InvalidInput("title", 'must be {"en": …, "fr": …}')
        values.setdefault("title_en", title.get("en"))
        values.setdefault("title_fr", title.get("fr"))
    offer_id = _text(values.get("offer_id"), "offer_id", required=True)
    assert offer_id is not None
    if not _ID.match(offer_id):
        raise InvalidInput(
            "offer_id", "1-64 letters, digits, _ . - (starting with a letter or digit)"
        )
    title_en = _text(values.get("title_en"), "title_en", required=True)
    assert title_en is not None
    title_fr = _text(values.get("title_fr"), "title_fr") or title_en
    products = _list(values.get("products"), "products")
    categories = _list(values.get("categories"), "categories")
    brand = _text(values.get("brand"), "brand")
    if not (products or categories or brand):
        raise InvalidInput("products", "name products, categories or a brand")
    valid_from = _moment(values.get("valid_from"), "valid_from")
    valid_until = _moment(values.get("valid_until"), "valid_until")
    if valid_from and valid_until and valid_until <= valid_from:
        raise InvalidInput("valid_until", "must be after valid_from")
    cap = _whole(values.get("cap_per_week"), "cap_per_week", 1)
    budget_eur = _euros(values.get("budget_eur"), "budget_eur")
    value_eur = _euros(values.get("value_eur"), "value_eur")
    if budget_eur is not None and value_eur is None:
        raise InvalidInput("value_eur", "a budget in euros needs what one redemption costs")
    status = _text(values.get("status"), "status") or "active"
    if status not in STATUSES:
        raise InvalidInput("status", f"one of {', '.join(STATUSES)}")
    return Offer(
        offer_id=offer_id,
        title_en=title_en,
        title_fr=title_fr,
        products=products,
        categories=categories,
        brand=brand,
        channels=tuple(c.lower() for c in _list(values.get("channels"), "channels")),
        valid_from=valid_from,
        valid_until=valid_until,
        eligibility=_text(values.get("eligibility"), "eligibility"),
        cap_per_week=DEFAULT_CAP if cap is None else cap,
        budget_redemptions=_whole(values.get("budget_redemptions"), "budget_redemptions", 1),
        budget_eur=budget_eur,
        value_eur=value_eur,
        status=status,
    )


def read_offers(
    path: Path, check: Callable[[Offer], None] | None = None, max_rows: int = 10_000
) -> ImportReport:
    """The offers of a CSV (a header row of `FIELDS`) or JSONL file (one object a line);
    each bad row reported by line and field, the good ones kept. `check` may refuse an offer
    further (its eligibility expression); a repeated offer_id keeps the last row."""
    if path.suffix.lower() not in (".csv", ".jsonl", ".ndjson"):
        raise InvalidInput("file", f"{path.name}: give a .csv or .jsonl file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput("file", f"cannot read {path}: {exc}") from None
    rows: Iterable[tuple[int, Any]]
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        rows = ((reader.line_num, row) for row in reader)
    else:
        rows = ((n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip())
    kept: dict[str, Offer] = {}
    errors: list[RowError] = []
    for count, (line, row) in enumerate(rows):
        if count >= max_rows:
            errors.append(RowError(line, "file", f"at most {max_rows} offers a file"))
            break
        try:
            if isinstance(row, str):
                try:
                    row = orjson.loads(row)
                except orjson.JSONDecodeError as exc:
                    raise InvalidInput("line", f"not JSON: {exc}") from None
                if not isinstance(row, dict):
                    raise InvalidInput("line", "not a JSON object")
            elif None in row:
                raise InvalidInput("line", "more cells than the header has columns")
            offer = parse_offer(row)
            if check is not None:
                check(offer)
            kept[offer.offer_id] = offer
        except InvalidInput as exc:
            errors.append(RowError(line, exc.field, exc.reason))
    return ImportReport(tuple(kept.values()), tuple(errors))


def from_json(doc: Mapping[str, Any]) -> Offer:
    """An offer as stored (`Offer.to_json`)."""
    return parse_offer(doc)
