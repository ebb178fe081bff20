"""The predictions on the command line and over HTTP (the real server): churn, generations,
ICP and the predict run, on the planted customers of test_churn plus a few accounts."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

import empreinte
from conftest import Keys, ServerProcess, make_workspace
from empreinte.cli import app

from .predictions_messages import Message, group, identify
from .test_churn import START, _planted

ICP_TOML = '[icp]\nindustries = ["technology"]\nemployees = [10, 200]\n'


def _extra() -> list[Message]:
    return [
        group("loyal0", "acme", START, name="Acme", industry="technology", employees=40),
        group("leaver0", "bolt", START, name="Bolt", industry="food", employees=400),
        identify("loyal1", START, birth_year=1999),
        identify("loyal2", START, birth_year=1970),
    ]


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    keys = make_workspace(tmp_path_factory.mktemp("predictions-surface") / "ws")
    (keys.path / "empreinte.toml").write_text(ICP_TOML)
    with empreinte.open(keys.path) as ws:
        assert not ws.ingest([*_planted(), *_extra()], source="web").rejected
        ws.flush()
    return keys


def _run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


# -- the command line (before the server holds the workspace) ---------------------------------


def test_cli_churn(keys: Keys, tmp_path: Path) -> None:
    out = tmp_path / "risks.csv"
    chart = tmp_path / "calibration.png"
    text = _run(
        "churn", "-w", str(keys.path), "--top", "3", "--csv", str(out), "--chart", str(chart)
    )
    assert "AUC (test)" in text and "Calibration by decile" in text
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) > 30 and set(rows[0]) == {"profile_id", "churn_risk"}
    risks = [float(r["churn_risk"]) for r in rows]
    assert risks == sorted(risks, reverse=True) and all(0 <= r <= 1 for r in risks)
    assert rows[0]["profile_id"] in text  # the highest risk is listed
    assert chart.read_bytes().startswith(b"\x89PNG")


def test_cli_generations_icp_and_predict(keys: Keys) -> None:
    text = _run("generations", "-w", str(keys.path), "--lang", "fr")
    assert "Clients par génération" in text and "Gen Z" in text and "Gen X" in text
    rows = json.loads(_run("icp", "-w", str(keys.path), "--json"))
    assert [(r["group_id"], r["fit"]) for r in rows] == [("acme", 100.0), ("bolt", 0.0)]
    assert "Acme" in _run("icp", "-w", str(keys.path))
    text = _run("predict", "-w", str(keys.path), "--only", "churn_risk")
    assert "churn_risk" in text
    with empreinte.open(keys.path) as ws:
        assert ws.engine.computed_traits().counts()["churn_risk"] > 30
    result = CliRunner().invoke(app, ["predict", "-w", str(keys.path), "--only", "nope"])
    assert result.exit_code == 1 and "unknown scorer" in result.output


# -- over HTTP -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(keys: Keys, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = ServerProcess(keys.path, tmp_path_factory.mktemp("predictions-server")).start()
    try:
        yield server
    finally:
        server.stop()


def _call(
    server: ServerProcess, token: str, path: str, method: str = "GET", **kw: Any
) -> httpx.Response:
    return httpx.request(
        method,
        server.url + path,
        headers={"Authorization": f"Bearer {token}"},
        timeout=120,
        **kw,
    )


def test_api_churn_generations_icp(server: ServerProcess, keys: Keys) -> None:
    token = keys.analyst_token
    doc = _call(server, token, "/api/know/churn", params={"top": 2}).json()
    assert doc["n_train"] > 30 and len(doc["top"]) == 2 and len(doc["calibration"]) >= 5
    bad = _call(server, token, "/api/know/churn", params={"horizon": "soon"})
    assert bad.status_code == 400 and "horizon" in bad.text
    rows = _call(server, token, "/api/know/generations").json()["rows"]
    assert {"Gen Z", "Gen X"} <= {r["generation"] for r in rows}
    icp = _call(server, token, "/api/know/icp", params={"industry": "food"}).json()
    assert icp["profile"]["industries"] == ["food"]
    assert [(a["group_id"], a["fit"]) for a in icp["accounts"]] == [("bolt", 100.0), ("acme", 0.0)]
    assert _call(server, keys.viewer_token, "/api/know/generations").status_code == 403


def test_api_predict_is_for_admins(server: ServerProcess, keys: Keys) -> None:
    body = {"only": ["churn_risk"]}
    denied = _call(server, keys.analyst_token, "/api/know/predict", "POST", json=body)
    assert denied.status_code == 403
    # An admin passes the role check; the run itself is the CLI's (test above), once.
    for wrong in ({"only": "x"}, {"only": ["nope"]}, {"scorers": []}):
        bad = _call(server, keys.admin_token, "/api/know/predict", "POST", json=wrong)
        assert bad.status_code == 400, bad.text
