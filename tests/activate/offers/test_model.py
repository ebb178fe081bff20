"""The recommender and the ranking on small inputs whose answers are known by hand: products
bought together are the most similar, histories decay and keep the strongest interaction, the
model file round-trips and training twice gives the same model, a seed pins the Thompson draw,
and a "no" lowers its arm's share of first places."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from empreinte.activate.offers.model import Interaction, Model, train
from empreinte.activate.offers.ranking import Arm, Candidate, base_score, rank

NOW = datetime(2026, 6, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def _rows() -> list[Interaction]:
    def it(who: str, pid: str, kind: str, days: float) -> Interaction:
        return Interaction(who, pid, kind, NOW - days * DAY, f"name {pid}", f"sku-{pid}", "c")

    return [
        it("ann", "A", "purchase", 10),
        it("ann", "A", "view", 90),
        it("bob", "A", "purchase", 5),
        it("bob", "B", "purchase", 5),
        it("cleo", "A", "purchase", 30),
        it("cleo", "B", "cart", 30),
        it("dan", "C", "purchase", 1),
        it("dan", "D", "view", 1),
    ]


def _sim(model: Model, a: str, b: str) -> float:
    i, j = model.item_of[a], model.item_of[b]
    start, end = model.sim_indptr[i], model.sim_indptr[i + 1]
    index, value = model.sim_index[start:end].tolist(), model.sim_value[start:end].tolist()
    found = dict(zip(index, value, strict=True))
    return float(found.get(j, 0.0))


def test_what_goes_together_is_similar_and_histories_keep_the_strongest() -> None:
    model = train(_rows(), now=NOW)
    assert model.products == ["A", "B", "C", "D"] and model.skus[0] == "sku-A"
    assert _sim(model, "A", "B") > 0 and _sim(model, "A", "C") == 0
    assert _sim(model, "C", "D") > _sim(model, "A", "B")  # always together vs sometimes
    (a,) = model.history("ann")
    # Bought 10 days ago (weight 5 · 0.5^(10/90)) and viewed 90 days ago (1 · 0.5): one row,
    # the purchase named, its time the purchase's.
    assert a.kind == "purchase" and a.at == NOW - 10 * DAY
    assert a.weight == 5 * 0.5 ** (10 / 90) + 0.5
    assert model.popularity.tolist() == [3.0, 1.0, 1.0, 0.0]
    relevance = model.contributions(model.history("ann")).sum(axis=0)
    assert relevance[model.item_of["B"]] > 0 == relevance[model.item_of["C"]]


def test_the_model_file_round_trips_and_training_is_reproducible(tmp_path: Path) -> None:
    first, second = train(_rows(), now=NOW), train(list(reversed(_rows())), now=NOW)
    first.save(tmp_path / "m.npz")
    loaded = Model.load(tmp_path / "m.npz")
    for model in (second, loaded):
        assert model.products == first.products and model.people == first.people
        for name in ("sim_indptr", "sim_index", "sim_value", "hist_item", "hist_weight"):
            assert np.array_equal(getattr(model, name), getattr(first, name)), name


CANDIDATES = [
    Candidate("baby-1", "baby", 1.0, 3.0, 0),
    Candidate("baby-2", "baby", 0.9, 3.0, 0),
    Candidate("toys-1", "toys", 0.8, 3.0, 1),
]


def test_a_seed_pins_the_draw_and_no_consent_means_no_draw() -> None:
    arms = {"baby": Arm(), "toys": Arm()}
    assert rank(CANDIDATES, arms, 7, 3) == rank(CANDIDATES, arms, 7, 3)
    plain = rank(CANDIDATES, None, 1, 3)
    assert [s for _, s in plain] == [1.0, 1.0, 1.0]  # popularity alone
    assert [c.offer_id for c, _ in plain] == ["baby-1", "baby-2", "toys-1"]


def test_a_no_lowers_its_arms_share_of_first_places() -> None:
    def firsts(arms: dict[str, Arm]) -> float:
        top = [rank(CANDIDATES, arms, seed, 1)[0][0].arm for seed in range(400)]
        return top.count("baby") / len(top)

    before = firsts({})
    after = firsts({"baby": Arm(failures=2, ignored=2)})
    assert before > 0.5 > after
    assert Arm(failures=1, ignored=1).mean() == 4 / 7.5
    assert Arm(successes=2).mean() == 6 / 7


@given(
    st.floats(0, 1e6, allow_nan=False),
    st.floats(0, 1e6, allow_nan=False),
    st.floats(0, 1e6, allow_nan=False),
    st.floats(0, 1e6, allow_nan=False),
)
def test_base_scores_grow_with_relevance_and_popularity(
    rel: float, top_rel: float, pop: float, top_pop: float
) -> None:
    top_rel, top_pop = max(rel, top_rel), max(pop, top_pop)
    score = base_score(rel, top_rel, pop, top_pop)
    assert 0.05**2 - 1e-12 <= score <= 1.05**2 + 1e-12
    assert base_score(rel + 1, top_rel + 1, pop, top_pop) >= base_score(
        0, top_rel + 1, pop, top_pop
    )
