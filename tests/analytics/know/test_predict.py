"""Computed traits (store/computed_traits.py) and the predict run (analytics/know/scorers.py):
rows replaced whole, consent to profiling enforced at every run, erasure, the profile view."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

import empreinte
from empreinte.analytics.know import scorers
from empreinte.analytics.log import AnalyticsLog
from empreinte.errors import AnalyticsError, StorageError
from empreinte.privacy.erasure import erase
from empreinte.profiles.views import profile_json
from empreinte.workspace import Workspace

from .predictions_messages import consent, customer, identify, order

T = datetime(2025, 3, 1, tzinfo=UTC)


def _rows(values: dict[str, float | None]) -> pa.Table:
    return pa.table(
        {
            "profile_id": pa.array(list(values), pa.string()),
            "number": pa.array(list(values.values()), pa.float64()),
            "text": pa.array([None] * len(values), pa.string()),
        }
    )


def test_a_trait_is_replaced_whole_and_atomically(tmp_path: Path) -> None:
    with empreinte.open(tmp_path) as ws:
        store = ws.engine.computed_traits()
        at = datetime(2026, 1, 1, tzinfo=UTC)
        assert store.replace("clv", _rows({"p_a": 1.0, "p_b": 2.0}), at) == 2
        assert store.replace("churn_risk", _rows({"p_a": 0.5}), at) == 1
        later = at + timedelta(days=1)
        store.replace("clv", _rows({"p_b": 3.0, "p_c": None}), later)
        assert store.counts() == {"churn_risk": 1, "clv": 2}
        mine = {
            (t.trait, t.profile_id): (t.value, t.computed_at)
            for t in store.of_profiles(["p_a", "p_b"])
        }
        assert mine == {("churn_risk", "p_a"): (0.5, at), ("clv", "p_b"): (3.0, later)}
        # Two rows for one person: refused, and the trait's rows stay as they were.
        with pytest.raises(StorageError, match="one row per profile"):
            store.replace("clv", _rows({"p_x": 1.0}).take([0, 0]), later)
        assert store.counts()["clv"] == 2
        assert store.delete_profiles(["p_b", "p_c"]) == 2
        assert store.counts() == {"churn_risk": 1}


# -- the run ------------------------------------------------------------------------------


def _people() -> list[dict[str, object]]:
    return [
        *customer("ann"),
        identify("ann", T, birthday="1999-05-04"),
        order("ann", T, 20.0),
        *customer("bob", profiling=False),
        order("bob", T, 30.0),
        *customer("cy"),
        order("cy", T, 40.0),
    ]


def _everyone(log: AnalyticsLog) -> pd.DataFrame:
    """A scorer that scores every profile it finds, consent or not (the run must filter)."""
    ids = log.execute(log.table("identities").select("profile_id").distinct())["profile_id"]
    ids = sorted(ids)
    return pd.DataFrame(
        {"profile_id": ids, "score": [float(i) for i in range(len(ids))], "label": "x"}
    )


def _failing(log: AnalyticsLog) -> pd.DataFrame:
    raise AnalyticsError("too little history")


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    with empreinte.open(tmp_path_factory.mktemp("predict")) as ws:
        assert not ws.ingest(_people(), source="web").rejected
        ws.flush()
        yield ws


def _who(ws: Workspace, user: str) -> str:
    found = ws.profiles.find("userId", user)
    assert found is not None
    return found


def test_predict_stores_traits_of_people_who_allow_profiling(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scorers, "SCORERS", {"fake": _everyone})
    run = ws.predict()
    assert run.ok and run.runs[0].traits == {"score": 2, "label": 2}
    ann, bob, cy = (_who(ws, user) for user in ("ann", "bob", "cy"))
    stored = ws.engine.computed_traits().of_profiles([ann, bob, cy])
    assert {t.profile_id for t in stored} == {ann, cy}
    labels = [t for t in stored if t.trait == "label"]
    assert all(t.text == "x" and t.number is None for t in labels)
    assert all(t.computed_at == run.computed_at for t in stored)
    doc = profile_json(ws.profiles.get(ann))
    assert set(doc["predicted"]) == {"label", "score"}
    assert doc["predicted"]["label"] == {"value": "x", "computedAt": run.computed_at.isoformat()}
    assert doc["computed"]["generation"] == "Gen Z"  # born 1999
    assert profile_json(ws.profiles.get(bob))["predicted"] == {}


def test_who_withdraws_profiling_loses_their_traits_at_the_next_run(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scorers, "SCORERS", {"fake": _everyone, "broken": _failing})
    ws.predict(["fake"])
    cy = _who(ws, "cy")
    assert ws.engine.computed_traits().of_profiles([cy])
    withdrawal = consent("cy", "profiling", granted=False)[0]
    withdrawal["timestamp"] = (T + timedelta(days=1)).isoformat()
    assert not ws.ingest([withdrawal], source="web").rejected
    ws.flush()
    # Only the failing scorer runs: cy's rows go all the same; ann's stay.
    run = ws.predict(["broken"])
    assert not run.ok and run.runs[0].error == "too little history"
    assert run.withdrawn == 2
    assert ws.engine.computed_traits().of_profiles([cy]) == []
    assert ws.engine.computed_traits().of_profiles([_who(ws, "ann")])


def test_an_unknown_scorer_is_refused(ws: Workspace) -> None:
    with pytest.raises(AnalyticsError, match=r"unknown scorer.*churn_risk"):
        ws.predict(["churn"])


def test_erasure_removes_the_computed_traits(tmp_path: Path) -> None:
    with empreinte.open(tmp_path) as ws:
        assert not ws.ingest(_people(), source="web").rejected
        ws.flush()
        ann = _who(ws, "ann")
        store = ws.engine.computed_traits()
        store.replace("churn_risk", _rows({ann: 0.3, "p_someone_else": 0.9}), T)
        erase(ws, ann, actor="test")
        assert store.of_profiles([ann]) == []
        assert store.counts() == {"churn_risk": 1}
