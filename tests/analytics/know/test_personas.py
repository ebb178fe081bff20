"""Persona clustering (know/personas.py) and cards (know/persona_cards.py).

Small hand-made feature tables check the rules (scaling, the choice of k, stability, names);
the default demo (2,000 people, the `truth` fixture) checks that the clusters find the
generator's planted personas again, measured by the adjusted Rand index.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

import empreinte
from empreinte.analytics.know.persona_cards import (
    QUOTE_MAX,
    PersonaCard,
    PersonaReport,
    coverage_note,
    page,
    persona_cards,
    quote_of,
)
from empreinte.analytics.know.persona_features import feature_frame
from empreinte.analytics.know.personas import (
    PersonaClusters,
    cluster,
    persona_names,
    persona_scores,
    standardised,
)
from empreinte.analytics.log import AnalyticsLog
from empreinte.demo import Person, planted_personas
from empreinte.errors import AnalyticsError

# Measured on the default demo (2,000 people, seed 7), seed 0, on the people clustered (25
# touchpoints or more: a third of the profiles; bench/persona_agreement.py, 2026-12-05): ARI
# 0.467 with the k the stability chooses (6), 0.434 with k = 7 (the planted number); with
# seed 11, 0.479 (k = 6) and 0.411; 3,000 people, 0.496 (k = 6) and 0.508. A random labelling
# gives 0; k-means by silhouette, before, gave 0.12-0.17. The floors leave a margin for another
# seed or size of demo.
ARI_CHOSEN_K = 0.38
ARI_SEVEN = 0.33
COVERAGE = 0.25  # measured 0.329 (seed 7), 0.311 (seed 11), 0.327 (3,000 people)


def two_groups(n: int = 20, seed: int = 1) -> pd.DataFrame:
    """`n` app lovers who buy often and `n` store regulars who rarely do, with noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(2 * n):
        app = i < n
        rows.append(
            {
                "profile_id": f"p{i:03d}",
                "touchpoints": 30.0,
                "share_app": (0.8 if app else 0.05) + rng.normal(0, 0.03),
                "share_store": (0.1 if app else 0.85) + rng.normal(0, 0.03),
                "orders_per_month": (2.0 if app else 0.2) + rng.normal(0, 0.05),
                "nps": np.nan if i % 3 == 0 else 8.0,
            }
        )
    return pd.DataFrame(rows)


def blobs(centres: list[tuple[float, ...]], n: int, seed: int, spread: float) -> pd.DataFrame:
    """`n` people around each centre, Gaussian noise of `spread` on every feature."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        [
            {"profile_id": f"b{c}-{i:03d}"}
            | {f"f{j}": x + rng.normal(0, spread) for j, x in enumerate(centre)}
            for c, centre in enumerate(centres)
            for i in range(n)
        ]
    )


FOUR_BLOBS = [
    (0.0, 0.0, 0.0, 0.0),
    (6.0, 0.0, 0.0, 0.0),
    (0.0, 6.0, 0.0, 0.0),
    (0.0, 0.0, 6.0, 0.0),
]


def test_two_planted_groups_are_found_with_k_two() -> None:
    result = cluster(two_groups(), seed=0)
    assert result.k == 2 and result.chosen_by == "stability"
    labels = result.people.set_index("profile_id")["cluster"]
    app = {labels[f"p{i:03d}"] for i in range(20)}
    store = {labels[f"p{i:03d}"] for i in range(20, 40)}
    assert len(app) == 1 and len(store) == 1 and app != store
    assert [s.k for s in result.scores] == list(range(2, 11))
    assert [r["k"] for r in result.score_rows() if r["chosen"]] == [2]
    # Had the final fit left a component empty, the k the scores chose stays the chosen row.
    emptied = dataclasses.replace(result, k=1)
    assert [r["k"] for r in emptied.score_rows() if r["chosen"]] == [2]


def test_stability_finds_four_separated_blobs() -> None:
    result = cluster(blobs(FOUR_BLOBS, 50, seed=1, spread=0.5), seed=0)
    assert result.k == 4 and result.chosen_by == "stability"
    by_k = {s.k: s.stability for s in result.scores}
    assert by_k[4] > 0.95 and all(v < by_k[4] for k, v in by_k.items() if k != 4)
    found = result.people.assign(blob=result.people["profile_id"].str[:2])
    assert adjusted_rand_score(found["blob"], found["cluster"]) > 0.99


def test_stability_says_so_when_there_is_no_structure() -> None:
    # One Gaussian blob: every split depends on the half drawn, no k comes back.
    result = cluster(blobs([(0.0, 0.0, 0.0, 0.0)], 200, seed=2, spread=1.0), seed=0)
    assert max(s.stability for s in result.scores) < 0.3
    four = cluster(blobs(FOUR_BLOBS, 50, seed=1, spread=0.5), seed=0)
    assert max(s.stability for s in four.scores) > 0.95


def test_names_say_what_sets_each_group_apart() -> None:
    result = cluster(two_groups(), seed=0)
    by_name = dict(zip(result.names["en"], range(2), strict=True))
    app_cluster = result.people.set_index("profile_id")["cluster"]["p000"]
    app_name = result.names["en"][app_cluster]
    assert "App-first" in app_name or "Frequent buyers" in app_name
    assert len(by_name) == 2
    assert all(name[0].isupper() for name in result.names["fr"])


def test_same_seed_same_labels_whatever_the_row_order() -> None:
    frame = two_groups(30, seed=4)
    first = cluster(frame, seed=3)
    shuffled = frame.sample(frac=1.0, random_state=9)
    second = cluster(shuffled, seed=3)
    assert first.people["profile_id"].tolist() == second.people["profile_id"].tolist()
    assert first.people["cluster"].tolist() == second.people["cluster"].tolist()
    assert first.scores == second.scores
    # Numbered by size, largest first.
    sizes = first.sizes()
    assert sizes == sorted(sizes, reverse=True)


def test_an_asked_k_is_used_and_bad_input_is_refused() -> None:
    result = cluster(blobs(FOUR_BLOBS, 30, seed=3, spread=0.5), k=3, seed=0)
    assert result.k == 3 and result.chosen_by == "asked" and len(set(result.names["en"])) == 3
    assert result.scores == () and min(result.sizes()) >= 30  # no stability measured
    # A component the mixture leaves empty is no persona: two tight groups hold no third.
    two = cluster(two_groups(), k=3, seed=0)
    assert two.sizes() == [20, 20] and (two.k, two.fitted) == (2, 3)
    with pytest.raises(AnalyticsError, match="k must be between 2"):
        cluster(two_groups(), k=1)
    with pytest.raises(AnalyticsError, match="at least 10 are needed"):
        cluster(two_groups().head(5))
    with pytest.raises(AnalyticsError, match="no behaviour feature"):
        cluster(two_groups()[["profile_id"]])


def test_only_people_with_enough_history_are_clustered() -> None:
    frame = two_groups()
    few = frame.head(6).assign(profile_id=[f"q{i}" for i in range(6)], touchpoints=3.0)
    result = cluster(pd.concat([frame, few]), seed=0)
    assert result.read == 46 and result.total == 40 and result.too_little_history == 6
    assert result.coverage == pytest.approx(40 / 46)
    assert not result.people["profile_id"].str.startswith("q").any()
    assert sum(result.sizes()) == 40 and sum(r["share"] for r in result.to_rows()) == 1.0
    # The same people, clustered the same way, whether the others are there or not.
    alone = cluster(frame, seed=0)
    assert alone.people["cluster"].tolist() == result.people["cluster"].tolist()
    with_less = cluster(pd.concat([frame, few]), seed=0, min_touchpoints=3)
    assert with_less.total == 46 and with_less.too_little_history == 0
    with pytest.raises(
        AnalyticsError, match="40 people allow analytics and profiling, 1 of them with at least 31"
    ) as error:
        cluster(frame.assign(touchpoints=[30.0] * 39 + [31.0]), seed=0, min_touchpoints=31)
    assert "at least 10 are needed" in str(error.value)
    with pytest.raises(AnalyticsError, match="min_touchpoints must be >= 0"):
        cluster(frame, min_touchpoints=-1)


def test_the_report_says_who_has_too_little_history_in_both_languages() -> None:
    frame = two_groups()
    few = frame.head(6).assign(profile_id=[f"q{i}" for i in range(6)], touchpoints=3.0)
    clusters = cluster(pd.concat([frame, few]), seed=0)
    english = coverage_note(clusters, "en")
    assert english == (
        "46 customers read: 40 (87 %), with at least 25 touchpoints, are in a persona;"
        " 6 (13 %) have too little history yet and are in none."
    )
    french = coverage_note(clusters, "fr")
    assert "trop peu d'historique" in french and "6 (13 %)" in french
    report = PersonaReport(clusters, (_card(),), "fr")
    assert report.markdown().startswith(f"*{french}*")
    assert 'class="persona-coverage"' in report.html()
    data = report.to_dict()
    assert (data["people"], data["read"], data["too_little_history"]) == (40, 46, 6)
    assert data["min_touchpoints"] == 25 and data["coverage"] == pytest.approx(40 / 46)


def test_scaling_logs_counts_fills_nps_and_standardises() -> None:
    frame = two_groups()
    matrix = standardised(frame, ["orders_per_month", "nps"])
    assert np.allclose(matrix.mean(axis=0), 0.0) and np.allclose(matrix.std(axis=0)[0], 1.0)
    # NPS: everyone who answered says 8, the rest get the mean (8): no spread at all.
    assert np.allclose(matrix[:, 1], 0.0)
    logged = np.log1p(frame["orders_per_month"].to_numpy())
    expected = (logged - logged.mean()) / logged.std()
    assert np.allclose(matrix[:, 0], expected)


def test_names_are_unique_even_when_two_clusters_look_alike() -> None:
    profile = pd.DataFrame(
        {"share_app": [1.0, 1.0, -1.0], "mobile_share": [0.9, 0.9, -0.5], "nps": [0.5, 0.4, 0.0]}
    )
    names = persona_names(profile, "en")
    assert len(set(names)) == 3
    assert names[0] == "App-first, mobile-first"
    assert names[1] == "App-first, mobile-first, promoters"
    assert persona_names(profile, "fr")[0] == "Adeptes de l'appli, mobiles d'abord"


# -- the demo ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(
    tmp_path_factory: pytest.TempPathFactory, truth: list[tuple[Person, list[dict[str, Any]]]]
) -> Iterator[tuple[AnalyticsLog, dict[str, str], pd.DataFrame]]:
    """The default demo in a workspace whose people allow analytics and profiling unless they
    said no; the planted persona of each profile; the feature table."""
    root = Path(tmp_path_factory.mktemp("personas-demo"))
    (root / "empreinte.toml").write_text(
        'timezone = "Europe/Paris"\n[consent]\ndefaults = { analytics = true, profiling = true }\n'
    )
    with empreinte.open(root) as ws:
        report = ws.ingest([m for _, messages in truth for m in messages])
        assert not report.rejected
        with ws.analytics() as log:
            owners = log.execute(log.table("identities").select("id_key", "profile_id"))
            owner = dict(zip(owners["id_key"], owners["profile_id"], strict=True))
            yield log, planted_personas(owner, truth), feature_frame(log)


@pytest.fixture(scope="module")
def chosen(demo: tuple[AnalyticsLog, dict[str, str], pd.DataFrame]) -> PersonaClusters:
    return cluster(demo[2], seed=0)


def _ari(result: PersonaClusters, planted: dict[str, str]) -> float:
    """The ARI on the people clustered (enough history) traced to a planted persona."""
    assert result.coverage >= COVERAGE and result.total + result.too_little_history > 2_000
    people = result.people[result.people["profile_id"].isin(planted)]
    assert len(people) > 0.95 * result.total
    truth = [planted[p] for p in people["profile_id"]]
    return float(adjusted_rand_score(truth, people["cluster"]))


@pytest.mark.slow
def test_the_demo_personas_are_found_again(
    demo: tuple[AnalyticsLog, dict[str, str], pd.DataFrame], chosen: PersonaClusters
) -> None:
    _, planted, frame = demo
    assert chosen.chosen_by == "stability" and 4 <= chosen.k <= 8
    assert _ari(chosen, planted) >= ARI_CHOSEN_K
    seven = cluster(frame, k=7, seed=0)
    assert seven.k == 7 and seven.chosen_by == "asked" and min(seven.sizes()) > 0
    assert _ari(seven, planted) >= ARI_SEVEN


@pytest.mark.slow
def test_demo_cards_describe_each_cluster(
    demo: tuple[AnalyticsLog, dict[str, str], pd.DataFrame],
    chosen: PersonaClusters,
    tmp_path: Path,
) -> None:
    log = demo[0]
    cards = persona_cards(log, chosen, "fr")
    assert [c.number for c in cards] == list(range(1, chosen.k + 1))
    assert sum(c.people for c in cards) == chosen.total
    assert sum(c.share for c in cards) == pytest.approx(1.0)
    assert len({c.name for c in cards}) == chosen.k
    # The store cluster: its people's touchpoints are in a shop far more than anyone's (their
    # web visits write a dozen touchpoints each, a shop visit one or two).
    in_store = {c.number: dict(c.channels).get("store", 0.0) for c in cards}
    store = max(cards, key=lambda c: in_store[c.number])
    assert in_store[store.number] >= 0.2
    assert sorted(in_store.values())[-2] < in_store[store.number] / 3
    assert store.age_range is not None and store.age_range[0] >= 18
    assert sum(c.nps_n > 0 for c in cards) >= chosen.k - 1
    for card in cards:
        assert card.countries and {k for k, _ in card.countries} <= {"FR", "US"}
        assert "Persona" in card.to_markdown() and "<article" in card.to_html()
        if card.quote is not None:  # a real comment, redacted: no card number or phone left
            assert not any(ch.isdigit() for ch in card.quote.replace("’", ""))
        if card.nps_n == 0:  # a persona can be the people who never answer a survey
            assert card.nps is None and "aucune réponse" in card.to_markdown()
            continue
        assert card.nps is not None and -100 <= card.nps <= 100
        assert card.nps_low is not None and card.nps_low <= card.nps <= (card.nps_high or 0)
    first = cards[0].to_png(tmp_path / "a.png")
    again = cards[0].to_png(tmp_path / "b.png")
    assert first.read_bytes() == again.read_bytes() and first.read_bytes()[:4] == b"\x89PNG"
    english = persona_cards(log, chosen, "en")
    assert [c.people for c in english] == [c.people for c in cards]
    assert "Typical journey" in english[0].to_markdown()
    assert "Parcours type" in cards[0].to_markdown()


@pytest.mark.slow
def test_scores_name_each_person_s_persona(
    demo: tuple[AnalyticsLog, dict[str, str], pd.DataFrame], chosen: PersonaClusters
) -> None:
    scores = persona_scores(demo[0], k=chosen.k, seed=0)
    assert list(scores.columns) == ["profile_id", "persona"]
    assert scores["profile_id"].tolist() == chosen.people["profile_id"].tolist()
    pd.testing.assert_frame_equal(scores, chosen.assignments("en"))
    assert set(scores["persona"]) == set(chosen.names["en"])


# -- rendering --------------------------------------------------------------------------------


def _card(**changes: Any) -> PersonaCard:
    fields: dict[str, Any] = {
        "number": 1,
        "name": "App-first, <b>phones</b> lovers",
        "lang": "en",
        "people": 120,
        "share": 0.3,
        "age_range": (19, 41),
        "generations": (("Gen Z", 0.5), ("Gen Y (Millennials)", 0.4)),
        "countries": (("FR", 0.6), ("US", 0.4)),
        "cities": (("Paris", 0.2),),
        "income_bands": (),
        "channels": (("app", 0.7), ("web", 0.3)),
        "mobile_share": 0.9,
        "categories": (("phones", 0.4),),
        "products": ("iPhone 16",),
        "journey": "app → web",
        "journey_share": 0.25,
        "nps": 12.0,
        "nps_low": 2.0,
        "nps_high": 22.0,
        "nps_n": 80,
        "themes": (("delivery", 4),),
        "payment_failed_share": 0.05,
        "called_after_web_share": 0.02,
        "quote": '<script>alert("x")</script> & *great*',
    }
    fields.update(changes)
    return PersonaCard(**fields)


def test_html_escapes_every_value_a_person_or_the_data_wrote() -> None:
    text = _card().to_html()
    assert "<script>" not in text and "&lt;script&gt;" in text and "<b>" not in text
    assert "&amp;" in text
    assert "<script>" not in page([_card()])


def test_markdown_keeps_a_verbatim_from_becoming_markup() -> None:
    text = _card().to_markdown()
    assert "\\<script\\>" in text and "\\*great\\*" in text
    assert "Age**: 19–41 years" in text
    assert "+12 (95 % CI +2 to +22; n = 80 answers)" in text


def test_a_card_without_quote_says_why_in_its_language() -> None:
    assert "too few comments" in _card(quote=None).to_markdown()
    french = _card(quote=None, lang="fr", nps=None, nps_low=None, nps_high=None, nps_n=0)
    assert "trop peu de commentaires" in french.to_markdown()
    assert "aucune réponse" in french.to_markdown()


def test_a_quote_is_a_sentence_or_two_whatever_the_comment() -> None:
    # Up to the longest comment a message can carry through the public write key.
    assert quote_of("Fast   delivery,\n  kind staff.") == "Fast delivery, kind staff."
    long = " ".join(["word"] * 6_000)
    assert len(quote_of(long)) <= QUOTE_MAX and quote_of(long).endswith(" …")
    assert quote_of("x" * 30_000) == "x" * (QUOTE_MAX - 2) + " …"


def test_reports_in_threads_leave_the_process_its_threads() -> None:
    # cluster() runs its mixtures on one BLAS/OpenMP thread, a limit of the whole process:
    # reports computed at once (the dashboard's threads) must restore it, not leave it at 1.
    from threadpoolctl import threadpool_info

    before = [pool["num_threads"] for pool in threadpool_info()]
    workers = [
        threading.Thread(target=cluster, args=(two_groups(),), kwargs={"k_range": range(2, 4)})
        for _ in range(3)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert [pool["num_threads"] for pool in threadpool_info()] == before
