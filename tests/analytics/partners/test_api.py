"""The partner API on the real server: the planted shop's figures, forged orders sent with the
public write key ignored, the viewers' k, every bad parameter named, the exports."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pyarrow.parquet as pq
import pytest

import empreinte
from conftest import Keys, ServerProcess, make_workspace
from empreinte.privacy.erasure import erase_by

from .planted import trusted_messages, untrusted_messages

CONFIG = """
[consent]
defaults = { analytics = true }

[cx]
viewer_min_group = 8

[partners]
k = 5
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Keys]]:
    root = tmp_path_factory.mktemp("partners-api")
    (root / "empreinte.toml").write_text(CONFIG)
    keys = make_workspace(root)
    with empreinte.open(root) as ws:
        assert not ws.ingest(trusted_messages()).rejected
        ws.flush()
        erase_by(ws, "userId", "erased", actor="test")
    process = ServerProcess(root, tmp_path_factory.mktemp("logs")).start()
    # Forged orders, as anyone holding the page's write key can send them.
    answer = httpx.post(
        process.url + "/v1/batch", json={"batch": untrusted_messages()}, auth=(keys.write_key, "")
    )
    assert answer.status_code == 200, answer.text
    yield process, keys
    process.stop()


def _get(
    server: tuple[ServerProcess, Keys], path: str, token: str, **params: Any
) -> httpx.Response:
    process, _ = server
    return httpx.get(
        process.url + path,
        params=params,
        headers={"Authorization": f"Bearer {token}"},
        timeout=120,
    )


def test_the_report_as_an_analyst(server: tuple[ServerProcess, Keys]) -> None:
    keys = server[1]
    body = _get(server, "/api/partners/report", keys.analyst_token, brand="ACME").json()
    assert body["brand"] == "Acme" and body["k"] == 5
    phones = next(r for r in body["rows"] if r["category"] == "phones" and r["group"] == "(all)")
    assert (phones["category_buyers"], phones["brand_buyers"], phones["repeat_buyers"]) == (
        31,
        18,
        6,
    )
    assert (phones["kept"], phones["lost"], phones["won"], phones["never"]) == (6, 7, 5, 5)


def test_forged_orders_count_for_nothing(server: tuple[ServerProcess, Keys]) -> None:
    keys = server[1]
    body = _get(server, "/api/partners/brands", keys.analyst_token).json()
    assert {b["name"]: b["buyers"] for b in body["brands"]} == {"Acme": 18, "Other": 25}


def test_viewers_get_the_aggregates_under_their_small_group_rule(
    server: tuple[ServerProcess, Keys],
) -> None:
    keys = server[1]
    answer = _get(server, "/api/partners/report", keys.viewer_token, brand="Acme", by="country")
    body = answer.json()
    assert body["k"] == 8
    for row in body["rows"]:
        for name, value in row.items():
            if name.endswith(("_buyers", "kept", "lost", "won", "never")) and value is not None:
                assert value >= 8, (row["category"], row["group"], name, value)
    refused = _get(server, "/api/partners/report", keys.viewer_token, brand="Acme", k=5)
    assert refused.status_code == 400 and refused.json()["field"] == "k"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "brand"),
        ({"brand": "Nobody"}, "brand"),
        ({"brand": "Acme", "k": 4}, "k"),
        ({"brand": "Acme", "k": "ten"}, "k"),
        ({"brand": "Acme", "by": "email"}, "by"),
        ({"brand": "Acme", "format": "xlsx"}, "format"),
        ({"brand": "Acme", "since": "2025-13-01"}, "since"),
        ({"brand": "Acme", "secret": "1"}, "secret"),
    ],
)
def test_bad_parameters_are_named(
    server: tuple[ServerProcess, Keys], params: dict[str, Any], field: str
) -> None:
    answer = _get(server, "/api/partners/report", server[1].analyst_token, **params)
    assert answer.status_code == 400, answer.text
    assert answer.json()["field"] == field


def test_csv_and_parquet_exports(server: tuple[ServerProcess, Keys], tmp_path: Path) -> None:
    token = server[1].analyst_token
    csv = _get(
        server, "/api/partners/report", token, brand="Acme", by="country", format="csv", lang="fr"
    )
    assert csv.headers["content-type"].startswith("text/csv")
    assert "Acme-partners.csv" in csv.headers["content-disposition"]
    header = csv.text.splitlines()[0]
    assert header.startswith("marque,catégorie,groupe,acheteurs de la catégorie")
    assert "masqué" in csv.text
    parquet = _get(server, "/api/partners/report", token, brand="Acme", format="parquet")
    table = pq.read_table(io.BytesIO(parquet.content))
    assert table.schema.metadata[b"k"] == b"5"
    rows = table.to_pylist()
    phones = next(r for r in rows if r["category"] == "phones" and r["group"] == "(all)")
    assert phones["brand_buyers"] == 18 and phones["brand_buyers_mark"] == "shown"
