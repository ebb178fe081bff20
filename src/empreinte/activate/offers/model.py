"""The recommender: item-item collaborative filtering with cosine similarity (Sarwar et al.,
"Item-based collaborative filtering recommendation algorithms", WWW 2001), computed with
scikit-learn over a sparse person × product matrix (scipy), plus each person's own history.

Training reads interactions (purchases weigh 5, add-to-cart 2, views 1), keeps each product's
`NEIGHBOURS` most similar products, and saves everything serving needs in one `.npz` file:
the products (name, category, brand, popularity), the similarity matrix, and each person's
recent history (per product: a time-decayed weight, the strongest kind of interaction and
when it last happened). Serving loads the file and never trains. The same interactions give
the same file: nothing here is random (ties are broken by product id).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from empreinte.errors import InvalidInput

#: Kinds of interaction, weakest first, and what each weighs.
KINDS = ("view", "cart", "purchase")
WEIGHTS = {"view": 1.0, "cart": 2.0, "purchase": 5.0}
NEIGHBOURS = 50
HISTORY = 100  # products kept per person (the most weighty)
HALF_LIFE_DAYS = 90.0
FORMAT = 1

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Interaction:
    """One person's interaction with one product."""

    profile_id: str
    product_id: str
    kind: str  # one of KINDS
    at: datetime
    name: str | None = None
    sku: str | None = None
    category: str | None = None
    brand: str | None = None


@dataclass(frozen=True)
class HistoryItem:
    """What a person did with a product: the strongest kind, when last, and its weight."""

    item: int
    weight: float
    kind: str
    at: datetime


class Model:
    """A trained recommender (see the module's docstring). Read-only once built."""

    def __init__(
        self,
        *,
        products: Sequence[str],
        names: Sequence[str | None],
        skus: Sequence[str | None],
        categories: Sequence[str | None],
        brands: Sequence[str | None],
        popularity: FloatArray,
        sim_indptr: npt.NDArray[np.int64],
        sim_index: npt.NDArray[np.int64],
        sim_value: FloatArray,
        people: Sequence[str],
        hist_indptr: npt.NDArray[np.int64],
        hist_item: npt.NDArray[np.int64],
        hist_weight: FloatArray,
        hist_kind: npt.NDArray[np.int64],
        hist_at: FloatArray,
        trained_at: datetime,
        data_until: datetime | None,
    ):
        self.products = list(products)
        self.names = list(names)
        self.skus = list(skus)
        self.categories = list(categories)
        self.brands = list(brands)
        self.popularity = popularity
        self.sim_indptr, self.sim_index, self.sim_value = sim_indptr, sim_index, sim_value
        self.people = list(people)
        self.hist_indptr, self.hist_item = hist_indptr, hist_item
        self.hist_weight, self.hist_kind, self.hist_at = hist_weight, hist_kind, hist_at
        self.trained_at = trained_at
        self.data_until = data_until
        self.item_of = {p: i for i, p in enumerate(self.products)}
        self.row_of = {p: i for i, p in enumerate(self.people)}

    # -- serving ---------------------------------------------------------------------------

    def history(self, profile_id: str) -> list[HistoryItem]:
        row = self.row_of.get(profile_id)
        if row is None:
            return []
        start, end = int(self.hist_indptr[row]), int(self.hist_indptr[row + 1])
        return [
            HistoryItem(
                int(self.hist_item[k]),
                float(self.hist_weight[k]),
                KINDS[int(self.hist_kind[k])],
                datetime.fromtimestamp(float(self.hist_at[k]), UTC),
            )
            for k in range(start, end)
        ]

    def contributions(self, history: Sequence[HistoryItem]) -> FloatArray:
        """A (history × products) matrix: how much each history item makes each product
        relevant (its weight × the similarity). Linear in the history and the neighbours."""
        out = np.zeros((len(history), len(self.products)))
        for row, h in enumerate(history):
            start, end = int(self.sim_indptr[h.item]), int(self.sim_indptr[h.item + 1])
            out[row, self.sim_index[start:end]] = h.weight * self.sim_value[start:end]
        return out

    # -- file ------------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write the model to `path` atomically (a reader never sees half a file)."""
        meta = {
            "format": FORMAT,
            "trained_at": self.trained_at.isoformat(),
            "data_until": self.data_until.isoformat() if self.data_until else None,
            "products": self.products,
            "names": self.names,
            "skus": self.skus,
            "categories": self.categories,
            "brands": self.brands,
            "people": self.people,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("wb") as fh:
            np.savez_compressed(
                fh,
                meta=np.frombuffer(orjson.dumps(meta), dtype=np.uint8),
                popularity=self.popularity,
                sim_indptr=self.sim_indptr,
                sim_index=self.sim_index,
                sim_value=self.sim_value,
                hist_indptr=self.hist_indptr,
                hist_item=self.hist_item,
                hist_weight=self.hist_weight,
                hist_kind=self.hist_kind,
                hist_at=self.hist_at,
            )
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Model:
        try:
            with np.load(path, allow_pickle=False) as data:
                meta: dict[str, Any] = orjson.loads(data["meta"].tobytes())
                arrays = {k: data[k] for k in data.files if k != "meta"}
        except (OSError, ValueError, KeyError, orjson.JSONDecodeError) as exc:
            raise InvalidInput("model", f"cannot read the offers model {path}: {exc}") from None
        if meta.get("format") != FORMAT:
            raise InvalidInput("model", f"{path}: an older model format; run `offers train`")
        return cls(
            products=meta["products"],
            names=meta["names"],
            skus=meta["skus"],
            categories=meta["categories"],
            brands=meta["brands"],
            people=meta["people"],
            trained_at=datetime.fromisoformat(meta["trained_at"]),
            data_until=(datetime.fromisoformat(meta["data_until"]) if meta["data_until"] else None),
            **arrays,
        )


def train(
    interactions: Sequence[Interaction],
    *,
    now: datetime | None = None,
    neighbours: int = NEIGHBOURS,
    history: int = HISTORY,
    half_life_days: float = HALF_LIFE_DAYS,
) -> Model:
    """Build a model from `interactions` (see the module's docstring). `now` is the moment
    histories decay to (default: the latest interaction)."""
    from scipy import sparse
    from sklearn.metrics.pairwise import cosine_similarity

    meta: dict[str, tuple[str | None, str | None, str | None, str | None]] = {}
    for it in interactions:  # the latest non-empty value of each attribute
        old = meta.get(it.product_id, (None, None, None, None))
        meta[it.product_id] = (
            it.name or old[0],
            it.category or old[1],
            it.brand or old[2],
            it.sku or old[3],
        )
    products = sorted(meta)
    item_of = {p: i for i, p in enumerate(products)}
    people = sorted({it.profile_id for it in interactions})
    row_of = {p: i for i, p in enumerate(people)}
    until = max((it.at for it in interactions), default=None)
    reference = now or until or datetime.now(UTC)

    # Similarity: cosine between the products' columns of log(1 + summed weight).
    rows = np.fromiter((row_of[it.profile_id] for it in interactions), np.int64, len(interactions))
    cols = np.fromiter((item_of[it.product_id] for it in interactions), np.int64, len(interactions))
    kinds = [KINDS.index(it.kind) for it in interactions]
    weights = np.array([WEIGHTS[KINDS[k]] for k in kinds], dtype=np.float64)
    matrix = sparse.csr_matrix((weights, (rows, cols)), shape=(len(people), len(products)))
    matrix.data = np.log1p(matrix.data)
    popularity = np.zeros(len(products))
    for it, k in zip(interactions, kinds, strict=True):
        if KINDS[k] == "purchase":
            popularity[item_of[it.product_id]] += 1.0
    if len(products):
        sim = sparse.csr_matrix(cosine_similarity(matrix.T, dense_output=False))
    else:
        sim = sparse.csr_matrix((0, 0))
    indptr: list[int] = [0]
    index: list[int] = []
    value: list[float] = []
    for i in range(len(products)):
        start, end = sim.indptr[i], sim.indptr[i + 1]
        cand = sorted(
            zip(sim.indices[start:end].tolist(), sim.data[start:end].tolist(), strict=True),
            key=lambda pair: (-pair[1], pair[0]),
        )[:neighbours]
        if not any(j == i for j, _ in cand):
            cand = [(i, 1.0), *cand[: neighbours - 1]]
        cand.sort()
        index.extend(j for j, _ in cand)
        value.extend(v for _, v in cand)
        indptr.append(len(index))

    # Histories: per person and product, decayed weights summed, the strongest kind kept.
    per: dict[tuple[int, int], list[float]] = {}  # weight, kind, at
    for it, k, r, c in zip(interactions, kinds, rows.tolist(), cols.tolist(), strict=True):
        age = max((reference - it.at).total_seconds(), 0.0) / 86400.0
        decayed = WEIGHTS[KINDS[k]] * math.pow(0.5, age / half_life_days)
        entry = per.setdefault((r, c), [0.0, -1.0, 0.0])
        entry[0] += decayed
        stamp = it.at.timestamp()
        if k > entry[1] or (k == entry[1] and stamp > entry[2]):
            entry[1], entry[2] = float(k), stamp
    by_person: list[list[tuple[int, float, int, float]]] = [[] for _ in people]
    for (r, c), (w, kind, stamp) in per.items():
        by_person[r].append((c, w, int(kind), stamp))
    h_indptr: list[int] = [0]
    h_item: list[int] = []
    h_kind: list[int] = []
    h_weight: list[float] = []
    h_at: list[float] = []
    for entries in by_person:
        entries.sort(key=lambda e: (-e[1], e[0]))
        for c, w, k, stamp in entries[:history]:
            h_item.append(c)
            h_weight.append(w)
            h_kind.append(k)
            h_at.append(stamp)
        h_indptr.append(len(h_item))
    return Model(
        products=products,
        names=[meta[p][0] for p in products],
        skus=[meta[p][3] for p in products],
        categories=[meta[p][1] for p in products],
        brands=[meta[p][2] for p in products],
        popularity=popularity,
        sim_indptr=np.array(indptr, dtype=np.int64),
        sim_index=np.array(index, dtype=np.int64),
        sim_value=np.array(value, dtype=np.float64),
        people=people,
        hist_indptr=np.array(h_indptr, dtype=np.int64),
        hist_item=np.array(h_item, dtype=np.int64),
        hist_weight=np.array(h_weight, dtype=np.float64),
        hist_kind=np.array(h_kind, dtype=np.int64),
        hist_at=np.array(h_at, dtype=np.float64),
        trained_at=datetime.now(UTC),
        data_until=until,
    )
