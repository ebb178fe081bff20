"""Probabilistic matching (Splink): quality on data with known truth, and refusals.

Figures measured on these subsets (bench/matching.py has the full data sets): FEBRL 4
(1,500 + 1,500 records) F1 0.990 at p ≥ 0.95 and 0.992 at p ≥ 0.7; FEBRL 3 (2,066 records)
0.972 and 0.975; the noisy CRM copy of 800 demo people 0.988 and 0.991. The tests allow a
margin of about 0.02–0.03.
"""

from __future__ import annotations

import re

import pyarrow as pa
import pytest

from empreinte.errors import ImportFailed, MatchFailed, MissingColumns
from empreinte.matching import evaluation as ev
from empreinte.matching import prepare as prep
from empreinte.matching.linkage import MatchResult, MatchSettings, match_records

FAST = {"u_max_pairs": 3e5}


def _num(record_id: str) -> int:
    found = re.match(r"rec-(\d+)-", record_id)
    assert found is not None
    return int(found[1])


def _keep(table: pa.Table, below: int) -> pa.Table:
    return table.filter([_num(i) < below for i in table.column("record_id").to_pylist()])


def _scores(result: MatchResult, truth: set[tuple[str, str]], threshold: float) -> ev.Scores:
    pairs = [(p.left_id, p.right_id) for p in result.pairs if p.probability >= threshold]
    return ev.score(pairs, truth, symmetric=result.link_type == "dedupe_only")


@pytest.fixture(scope="module")
def febrl4_result() -> tuple[MatchResult, set[tuple[str, str]]]:
    a, b, links = ev.febrl4()
    settings = MatchSettings(reference_id_column="record_id", **FAST)
    result = match_records(_keep(a, 1500), _keep(b, 1500), settings)
    return result, {(x, y) for x, y in links if _num(x) < 1500}


@pytest.mark.slow
def test_febrl4_link_finds_the_true_pairs(
    febrl4_result: tuple[MatchResult, set[tuple[str, str]]],
) -> None:
    result, truth = febrl4_result
    assert result.link_type == "link_only"
    assert result.fields == ("first_name", "last_name", "birth_date", "postcode", "city", "address")
    high = _scores(result, truth, result.settings.high_threshold)
    low = _scores(result, truth, result.settings.low_threshold)
    assert high.f1 >= 0.97, high
    assert low.f1 >= 0.97, low
    assert low.recall >= high.recall
    # Every pair comes with the per-field comparison that explains it.
    best = result.pairs[0]
    assert [c.name for c in best.comparisons] == [
        "name",
        "birth_date",
        "postcode",
        "city",
        "address",
    ]
    assert best.left_id.endswith("-org") and best.right_id.endswith("-dup-0")
    assert all(c.level for c in best.comparisons)
    # Clusters at the high threshold pair a record of A with its record of B.
    cluster = result.clusters[0]
    assert {r.side for r in cluster} == {"left", "right"}


@pytest.mark.slow
def test_febrl3_deduplication() -> None:
    frame, links = ev.febrl3()
    subset = _keep(frame, 800)
    truth = {(x, y) for x, y in links if _num(x) < 800}
    result = match_records(subset, None, MatchSettings(**FAST))
    assert result.link_type == "dedupe_only"
    assert _scores(result, truth, 0.95).f1 >= 0.95
    assert _scores(result, truth, 0.7).f1 >= 0.95
    # A record and its duplicates end up in one cluster.
    clustered = {r.id for c in result.clusters for r in c}
    assert sum(1 for x, y in truth if x in clustered and y in clustered) >= 0.9 * len(truth)


@pytest.mark.slow
def test_noisy_crm_copy_of_demo_people_links_to_them() -> None:
    data = ev.noisy_crm(n_people=800)
    result = match_records(data.crm, data.reference, MatchSettings(**FAST))
    assert result.fields == ("first_name", "last_name", "birth_date", "email", "phone", "city")
    for threshold in (0.95, 0.7):
        scores = _scores(result, data.links, threshold)
        assert scores.f1 >= 0.96, (threshold, scores)
        assert scores.precision >= 0.97, (threshold, scores)
    assert {p.right_id for p in result.accepted()} <= set(
        data.reference.column("profile_id").to_pylist()
    )
    assert all(0.7 <= p.probability < 0.95 for p in result.for_review())


# -- refusals, before any work --------------------------------------------------------------


def test_file_without_the_needed_columns_is_refused_naming_them(no_training: None) -> None:
    rows = [{"record_id": "1", "nom": "Martin", "ville": "Lyon"}]
    settings = MatchSettings(fields=("first_name", "last_name", "birth_date", "email"))
    with pytest.raises(MissingColumns) as caught:
        match_records(rows, None, settings)
    assert caught.value.missing == ["first_name", "birth_date", "email"]
    message = str(caught.value)
    assert "first_name, birth_date, email" in message and "record_id, nom, ville" in message
    assert isinstance(caught.value, ImportFailed)


def test_names_and_ids_are_always_needed(no_training: None) -> None:
    with pytest.raises(MissingColumns) as caught:
        match_records([{"id": "1", "email": "a@b.fr"}])
    assert caught.value.missing == ["record_id", "first_name", "last_name"]
    reference = [{"first_name": "A", "last_name": "B"}]
    file = [{"record_id": "1", "first_name": "A", "last_name": "B"}]
    with pytest.raises(MissingColumns, match=r"the reference records has no column.*profile_id"):
        match_records(file, reference)


def test_explicit_column_map_must_exist(no_training: None) -> None:
    rows = [{"ref": "1", "prenom": "Léa", "nom": "Roux"}]
    settings = MatchSettings(id_column="ref", columns={"birth_date": "naissance"})
    with pytest.raises(MissingColumns) as caught:
        match_records(rows, None, settings)
    assert caught.value.missing == ["naissance"]


def test_repeated_or_empty_ids_are_refused() -> None:
    rows = [
        {"record_id": "1", "first_name": "Léa", "last_name": "Roux"},
        {"record_id": "1", "first_name": "Leo", "last_name": "Roux"},
    ]
    with pytest.raises(ImportFailed, match="unique; repeated: 1"):
        match_records(rows)
    rows[1]["record_id"] = " "
    with pytest.raises(ImportFailed, match="no record_id"):
        match_records(rows)


def test_thresholds_are_checked() -> None:
    with pytest.raises(MatchFailed, match="low ≤ high"):
        MatchSettings(low_threshold=0.9, high_threshold=0.8)


def test_too_few_records_to_compare_gives_an_empty_result() -> None:
    result = match_records([{"record_id": "1", "first_name": "Léa", "last_name": "Roux"}])
    assert result.pairs == () and result.clusters == ()


# -- normalisation --------------------------------------------------------------------------


def test_values_are_normalised_before_comparison() -> None:
    assert prep.name("  Jean-Pierre  L'Hôpital ") == "jean pierre lhopital"
    assert prep.name_key(prep.name("Bob")) == "robert"
    assert prep.name_key("lea") == "lea"
    assert prep.phone("06 12 34 56 78", "FR") == "+33612345678"
    assert prep.phone("(212) 555-0143", "US") == "+12125550143"
    assert prep.phone("12", "FR") is None
    assert prep.email(" Lea.Roux@Example.FR ") == "lea.roux@example.fr"
    assert prep.birth("1984-03-07") == ("1984-03-07", 1984)
    assert prep.birth("19840307") == ("1984-03-07", 1984)
    assert prep.birth("07/03/1984") == ("1984-03-07", 1984)
    assert prep.birth("03/07/1984", day_first=False) == ("1984-03-07", 1984)
    assert prep.birth(1984) == (None, 1984)
    assert prep.birth("someday") == (None, None)
    assert prep.postcode("75 011") == "75011"
    assert prep.place("Saint-Étienne") == "saint etienne"


def test_common_column_names_are_recognised() -> None:
    header = ["ID", "Prénom", "Surname", "Date_of_Birth", "E-mail", "Tel", "Zip", "Ville"]
    found = prep.resolve_columns(header, None, {}, "ID", "the file")
    assert found == {
        "first_name": "Prénom",
        "last_name": "Surname",
        "birth_date": "Date_of_Birth",
        "email": "E-mail",
        "phone": "Tel",
        "postcode": "Zip",
        "city": "Ville",
    }


def test_pandas_frames_are_accepted() -> None:
    pd = pytest.importorskip("pandas")
    data = ev.noisy_crm(n_people=60, seed=4)
    crm = data.crm.to_pandas()
    result = match_records(crm, data.reference.to_pandas(), MatchSettings(**FAST))
    assert _scores(result, data.links, 0.95).f1 >= 0.9
    assert isinstance(crm, pd.DataFrame)
