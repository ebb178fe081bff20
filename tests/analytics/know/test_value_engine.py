"""The CDNOW transactions loaded as `Order Completed` events of a workspace: the summary the
engine builds from them (purchases.py, summary.py) is the papers' and the one built in pandas,
and the report fitted from the log reproduces the published parameters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import empreinte
from empreinte.analytics.know.clv import clv_report, clv_scores, summary
from empreinte.analytics.know.summary import Periods
from empreinte.workspace import Workspace

from .test_bgnbd import pandas_summary
from .value_cdnow import CALIBRATION_END, HOLDOUT_END, messages


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    with empreinte.open(Path(tmp_path_factory.mktemp("cdnow"))) as ws:
        report = ws.ingest(messages(), source="web")
        assert not report.rejected, report.rejected[:3]
        ws.flush()
        yield ws


def test_the_engine_summary_is_the_pandas_one(shop: Workspace) -> None:
    periods = Periods(CALIBRATION_END, HOLDOUT_END)
    with shop.analytics() as log:
        frame, currency, excluded = summary(log, periods)
    assert (currency, excluded, len(frame)) == ("USD", 0, 2357)
    expected = pandas_summary(CALIBRATION_END, HOLDOUT_END).set_index("profile_id")
    # Profile ids are pseudonymous: matched back to customers through the order's user id.
    with shop.analytics() as log:
        events = log.with_owner(log.events().select("seq", "identifiers", "user_id"))
        owners = log.execute(events.select("profile_id", "user_id").distinct())
    customer = {row.profile_id: str(row.user_id)[2:] for row in owners.itertuples() if row.user_id}
    ours = frame.assign(profile_id=frame["profile_id"].map(customer)).set_index("profile_id")
    ours = ours.loc[expected.index]
    assert (ours["frequency"].to_numpy() == expected["frequency"].to_numpy()).all()
    for column in ("recency", "T", "monetary"):
        assert np.allclose(ours[column], expected[column], rtol=1e-12, atol=1e-9), column
    assert (ours["holdout_frequency"].to_numpy() == expected["holdout_frequency"].to_numpy()).all()


def test_the_report_from_the_log_reproduces_the_paper(shop: Workspace) -> None:
    report = shop.know.clv(calibration_end=CALIBRATION_END, holdout_end=HOLDOUT_END)
    p, g = report.bgnbd.params, report.gamma_gamma.params
    assert (round(p.r, 3), round(p.alpha, 3), round(p.a, 3), round(p.b, 3)) == (
        0.243,
        4.414,
        0.793,
        2.426,
    )
    assert (round(g.p, 2), round(g.q, 2), round(g.gamma, 2)) == (6.25, 3.74, 15.44)
    assert [row.customers for row in report.holdout] == [1411, 439, 214, 100, 62, 38, 29, 64]
    rows = report.to_rows()
    assert rows[0]["clv"] >= rows[-1]["clv"]
    assert report.diagnostics()["customers"] == 2357


def test_scores_leave_out_people_who_refused_profiling(shop: Workspace) -> None:
    with shop.analytics() as log:
        before = clv_scores(log, calibration_end=CALIBRATION_END)
    assert list(before.columns) == ["profile_id", "clv", "p_alive", "expected_purchases"]
    assert len(before) == 2357 and before["clv"].gt(0).all()
    assert before["p_alive"].between(0, 1).all()
    shop.track(
        "Consent Updated",
        user_id="cd1",
        properties={"purpose": "profiling", "granted": False, "wording_version": "v1"},
    )
    shop.flush()
    with shop.analytics() as log:
        after = clv_scores(log, calibration_end=CALIBRATION_END)
        ids = set(after["profile_id"])
        owner = log.with_owner(log.events().select("seq", "identifiers", "user_id"))
        mine = owner.filter(owner.user_id == "cd1").select("profile_id").distinct()
        cd1 = set(log.execute(mine)["profile_id"])
    assert len(after) == 2356 and not (cd1 & ids) and cd1 <= set(before["profile_id"])
    shop.track(
        "Consent Updated",
        user_id="cd1",
        properties={"purpose": "profiling", "granted": True, "wording_version": "v1"},
    )
    shop.flush()


def test_a_calibration_end_before_any_purchase_is_refused(shop: Workspace) -> None:
    from datetime import date

    from empreinte.errors import AnalyticsError

    with shop.analytics() as log, pytest.raises(AnalyticsError, match="no customer bought"):
        clv_report(log, calibration_end=date(1996, 6, 30))
