"""The product catalogue: what a retailer sells, with list prices and CO2 figures.

Imported from a file (`empreinte products import FILE`, CSV with a header row or JSON Lines),
one product a row:

    product_id   required, unique, at most 128 characters
    name         required
    sku, brand, category, currency (ISO code, upper-cased)          optional text
    condition    "new" (default) or "refurbished"
    price        list price, a number >= 0 (optional)
    co2_kg       the unit's footprint (manufacture and transport) in kg, >= 0 (optional)
    replaces_sku a refurbished unit's new twin (the sku of a product of the catalogue)
    new_co2_kg   a refurbished unit's new-unit footprint, when the twin is not in the catalogue
    new_price    a refurbished unit's new-unit list price, likewise

A refurbished unit's `new_co2_kg` and `new_price` are taken from its twin (`replaces_sku`) at
import unless the row gives them; a refurbished row with neither a twin found nor `new_co2_kg`
is refused (its CO2 avoided could not be stated). A bad row is reported by line and field and
left out; the others are imported. The catalogue is trusted data (an operator's file), unlike
the product figures an `Order Completed` event carries, which any client may forge: the
year-in-review reads prices and CO2 from here only (docs/stories.md).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import orjson

from empreinte.errors import InvalidInput
from empreinte.store.product_store import PRODUCT_COLUMNS, Product, ProductStore

CONDITIONS = ("new", "refurbished")
MAX_ROWS = 200_000
MAX_TEXT = 256
_TEXT = ("sku", "brand", "category", "currency", "replaces_sku")
_NUMBERS = ("price", "co2_kg", "new_price", "new_co2_kg")
_KNOWN = frozenset(PRODUCT_COLUMNS)


@dataclass(frozen=True)
class RowProblem:
    """Why one row of an import file was left out: its line (1-based, the header is line 1 of
    a CSV) and the field at fault."""

    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.field}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class ImportReport:
    """What an import did: products now in the catalogue, rows read, rows left out and why."""

    imported: int
    total: int
    problems: tuple[RowProblem, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "catalogue_size": self.total,
            "problems": [p.to_json() for p in self.problems],
        }


def _records(path: Path) -> Iterator[tuple[int, Mapping[str, Any] | None, str | None]]:
    """(line, record, problem) for each data row of a CSV or JSONL file."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl", ".ndjson", ".json"):
        raise InvalidInput("file", f"{path.name}: give a .csv or .jsonl file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput("file", f"{path}: cannot be read as UTF-8 text ({exc})") from None
    if suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text, newline=""))
        unknown = sorted(set(reader.fieldnames or ()) - _KNOWN)
        if unknown:
            raise InvalidInput("file", f"unknown column(s) {', '.join(unknown)}")
        if "product_id" not in (reader.fieldnames or ()):
            raise InvalidInput("file", "the header must name product_id and name")
        for row in reader:
            yield reader.line_num, {k: v for k, v in row.items() if k is not None}, None
        return
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError:
            yield number, None, "not valid JSON"
            continue
        if not isinstance(record, dict):
            yield number, None, "not a JSON object"
            continue
        yield number, record, None


def _text(value: Any, field: str, required: bool = False) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValueError(field, "is required")
        return None
    if not isinstance(value, str | int):
        raise ValueError(field, "must be text")
    text = str(value).strip()
    if len(text) > MAX_TEXT:
        raise ValueError(field, f"longer than {MAX_TEXT} characters")
    return text


def _number(value: Any, field: str) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(field, "must be a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(field, f"{str(value)[:40]!r} is not a number") from None
    if not math.isfinite(number) or number < 0:
        raise ValueError(field, "must be a number >= 0")
    return number


def product_of(record: Mapping[str, Any]) -> Product:
    """A product from one row; `ValueError(field, message)` for the first bad field."""
    unknown = sorted(set(record) - _KNOWN)
    if unknown:
        raise ValueError(unknown[0], "unknown field")
    condition = (_text(record.get("condition"), "condition") or "new").lower()
    if condition not in CONDITIONS:
        raise ValueError("condition", 'must be "new" or "refurbished"')
    texts = {field: _text(record.get(field), field) for field in _TEXT}
    numbers = {field: _number(record.get(field), field) for field in _NUMBERS}
    if condition == "new":
        for field in ("replaces_sku", "new_price", "new_co2_kg"):
            if texts.get(field) is not None or numbers.get(field) is not None:
                raise ValueError(field, "only a refurbished unit replaces a new one")
    currency = texts.pop("currency")
    return Product(
        product_id=_text(record.get("product_id"), "product_id", required=True) or "",
        name=_text(record.get("name"), "name", required=True) or "",
        condition=condition,
        currency=currency.upper() if currency else None,
        **texts,  # type: ignore[arg-type]
        **numbers,  # type: ignore[arg-type]
    )


def read_products(path: str | Path) -> tuple[list[tuple[int, Product]], list[RowProblem]]:
    """The products of a CSV or JSONL file with their lines, and the rows left out (by line
    and field)."""
    products: list[tuple[int, Product]] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    for line, record, problem in _records(Path(path)):
        if len(products) + len(problems) >= MAX_ROWS:
            raise InvalidInput("file", f"more than {MAX_ROWS:,} rows: split the file")
        if record is None:
            problems.append(RowProblem(line, "line", problem or "unreadable"))
            continue
        try:
            product = product_of(record)
        except ValueError as exc:
            field, message = exc.args
            problems.append(RowProblem(line, str(field), str(message)))
            continue
        if product.product_id in seen:
            problems.append(
                RowProblem(line, "product_id", f"repeats line {seen[product.product_id]}")
            )
            continue
        seen[product.product_id] = line
        products.append((line, product))
    return products, problems


def resolve_twins(products: Sequence[Product]) -> tuple[list[Product], list[str]]:
    """Each refurbished unit with its new twin's price and CO2 filled in (the row's own figures
    win); the ids of refurbished units whose CO2 avoided cannot be known (no twin, no
    `new_co2_kg`)."""
    by_sku = {p.sku: p for p in products if p.sku and p.condition == "new"}
    resolved: list[Product] = []
    unresolved: list[str] = []
    for product in products:
        if product.condition != "refurbished":
            resolved.append(product)
            continue
        twin = by_sku.get(product.replaces_sku) if product.replaces_sku else None
        filled = replace(
            product,
            new_price=product.new_price if product.new_price is not None else _of(twin, "price"),
            new_co2_kg=(
                product.new_co2_kg if product.new_co2_kg is not None else _of(twin, "co2_kg")
            ),
        )
        if filled.new_co2_kg is None:
            unresolved.append(product.product_id)
        resolved.append(filled)
    return resolved, unresolved


def _of(product: Product | None, field: str) -> float | None:
    return None if product is None else getattr(product, field)


class Catalogue:
    """The workspace's product catalogue (`workspace.stories.catalogue`; other parts may read
    it): look-ups by id and sku, the whole list, and imports."""

    def __init__(self, store: ProductStore):
        self._store = store

    def get(self, product_id: str) -> Product | None:
        return self._store.get(product_id)

    def by_sku(self, sku: str) -> Product | None:
        return self._store.by_sku(sku)

    def all(self) -> list[Product]:
        return self._store.all()

    def size(self) -> int:
        return self._store.count()

    def import_file(self, path: str | Path, *, replace_all: bool = False) -> ImportReport:
        """Import a CSV or JSONL file: its products are added to the catalogue (or replace it
        whole with `replace_all`); a product id already there takes the file's row."""
        rows, problems = read_products(path)
        return self.load(
            [product for _, product in rows],
            replace_all=replace_all,
            problems=problems,
            lines={product.product_id: line for line, product in rows},
        )

    def load(
        self,
        products: Iterable[Product],
        *,
        replace_all: bool = False,
        problems: Sequence[RowProblem] = (),
        lines: Mapping[str, int] | None = None,
    ) -> ImportReport:
        """Add `products` (or replace the catalogue with them), twins resolved over the whole
        catalogue; refurbished units without a known new-unit CO2 are refused."""
        incoming = list(products)
        merged = {} if replace_all else {p.product_id: p for p in self._store.all()}
        merged.update({p.product_id: p for p in incoming})
        resolved, unresolved = resolve_twins(list(merged.values()))
        refused = set(unresolved)
        lines = lines or {p.product_id: i for i, p in enumerate(incoming, start=1)}
        found = list(problems)
        for product_id in unresolved:
            found.append(
                RowProblem(
                    lines.get(product_id, 0),
                    "replaces_sku",
                    f"{product_id}: a refurbished unit needs its new twin's sku (a new product "
                    "of the catalogue) or new_co2_kg",
                )
            )
        kept = [p for p in resolved if p.product_id not in refused]
        self._store.replace_all(sorted(kept, key=lambda p: p.product_id))
        imported = sum(1 for p in incoming if p.product_id not in refused)
        found.sort(key=lambda problem: problem.line)
        return ImportReport(imported, len(kept), tuple(found))
