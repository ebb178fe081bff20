"""ICP fit of B2B accounts (analytics/know/icp.py) on hand-built accounts whose fit and
engagement can be read off the messages; `[icp]` checked when a workspace opens."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import empreinte
from empreinte.analytics.know.icp import IcpReport, account_fit, ideal_customer
from empreinte.errors import AnalyticsError, ConfigError
from empreinte.workspace import Workspace

from .predictions_messages import Message, customer, group, identify, order

T = datetime(2025, 4, 1, tzinfo=UTC)
LATER = T + timedelta(days=30)
ICP_TOML = """
[icp]
industries = ["Technology"]
employees = [10, 200]
countries = ["FR", "be"]
weights = { industry = 2 }
"""


def _accounts() -> list[Message]:
    m: list[Message] = []
    # acme: technology, 50 then 300 employees (the latest call wins), in France; two members,
    # ann with two orders, bob with none.
    m += [*customer("ann"), *customer("bob")]
    m += [group("ann", "acme", T, name="Acme", industry="technology", employees=50, country="FR")]
    m += [group("bob", "acme", LATER, employees=300)]
    m += [order("ann", T, 100.0), order("ann", LATER, 50.5)]
    # bolt: food, 5 employees, no country of its own: its member lives in Belgium.
    m += [*customer("cy"), identify("cy", T, address={"country": "BE"})]
    m += [group("cy", "bolt", T, name="Bolt", industry="Food", employees=5)]
    m += [order("cy", T, 20.0)]
    # dim: nothing known but its id.
    m += [*customer("dee"), group("dee", "dim", T)]
    return m


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    path = tmp_path_factory.mktemp("icp")
    (path / "empreinte.toml").write_text(ICP_TOML)
    with empreinte.open(path) as ws:
        assert not ws.ingest(_accounts(), source="web").rejected
        ws.flush()
        yield ws


@pytest.fixture(scope="module")
def report(ws: Workspace) -> IcpReport:
    return ws.know.icp()  # from [icp]


def test_fit_and_reasons_per_criterion(report: IcpReport) -> None:
    accounts = {a.group_id: a for a in report.accounts}
    assert [a.group_id for a in report.accounts] == ["acme", "bolt", "dim"]
    acme, bolt, dim = accounts["acme"], accounts["bolt"], accounts["dim"]
    # Weights: industry 2, employees 1, country 1 → out of 4.
    assert acme.fit == 75.0  # technology (any case) and France; 300 employees is too many
    assert acme.reasons == (
        "industry technology is in the ICP; 300 employees above 10–200; country FR is in the ICP"
    )
    assert (acme.name, acme.industry, acme.employees) == ("Acme", "technology", 300)
    assert bolt.fit == 25.0 and bolt.country == "BE"  # from its member
    assert [c.met for c in bolt.criteria] == [False, False, True]
    assert dim.fit == 0.0
    assert dim.reasons == "industry unknown; employees unknown; country unknown"


def test_engagement_of_each_account(report: IcpReport) -> None:
    rows = {r["group_id"]: r for r in report.to_rows()}
    assert (rows["acme"]["members"], rows["acme"]["customers"]) == (2, 1)
    assert (rows["acme"]["orders"], rows["acme"]["revenue"]) == (2, 150.5)
    assert (rows["bolt"]["members"], rows["bolt"]["orders"], rows["bolt"]["revenue"]) == (
        1,
        1,
        20.0,
    )
    assert rows["dim"]["orders"] == 0


def test_a_profile_passed_in_replaces_the_configured_one(ws: Workspace) -> None:
    report = ws.know.icp(industries=["food"], employees=(1, 9))
    fits = {a.group_id: a.fit for a in report.accounts}
    assert fits == {"bolt": 100.0, "acme": 0.0, "dim": 0.0}


def test_bad_profiles_are_refused(tmp_path: Path, ws: Workspace) -> None:
    with pytest.raises(AnalyticsError, match="employees"):
        ideal_customer(employees=(200, 10))
    with pytest.raises(AnalyticsError, match="no criterion"):
        ideal_customer(weights={"industry": 1})
    with pytest.raises(AnalyticsError, match="unknown criterion size"):
        ideal_customer(industries=["a"], weights={"size": 1})
    (tmp_path / "empreinte.toml").write_text("[icp]\nemployees = [5]\n")
    with pytest.raises(ConfigError, match=r"empreinte.toml.*\[icp\] employees"):
        empreinte.open(tmp_path)


def test_without_a_profile_the_report_says_how_to_give_one(tmp_path: Path) -> None:
    with empreinte.open(tmp_path) as ws, pytest.raises(AnalyticsError, match=r"\[icp\]"):
        ws.know.icp()


@given(
    weights=st.fixed_dictionaries(
        {c: st.integers(0, 5) for c in ("industry", "employees", "country")}
    ),
    account=st.tuples(
        st.sampled_from([None, "technology", "food"]),
        st.sampled_from([None, 5, 50, 500]),
        st.sampled_from([None, "FR", "US"]),
    ),
)
def test_the_fit_is_the_met_share_of_the_weights(
    weights: dict[str, int], account: tuple[str | None, int | None, str | None]
) -> None:
    """fit = 100 × met weight / stated weight, whatever the weights and the account."""
    if sum(weights.values()) == 0:
        return
    profile = ideal_customer(
        industries=["technology"], employees=(10, 100), countries=["FR"], weights=weights
    )
    industry, employees, country = account
    rows = pd.DataFrame(
        {
            "name": [None],
            "industry": [industry],
            "employees": [None if employees is None else str(employees)],
            "country": [country],
            "member": ["p_1"],
            "member_country": [None],
            "orders": [0],
            "revenue": [0.0],
        }
    )
    fit = account_fit(profile, "g", rows)
    met = {
        "industry": industry == "technology",
        "employees": employees == 50,
        "country": country == "FR",
    }
    expected = 100 * sum(weights[c] for c in met if met[c]) / sum(weights.values())
    assert fit.fit == round(expected, 1)
    assert [c.met for c in fit.criteria] == list(met.values())
