"""Kano results read from `Kano Answered` events (cx/kano_answers.py through `workspace.cx`):
category shares and Better/Worse computed by hand, a person's latest answer per feature."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import empreinte
from empreinte.analytics.cx.kano import Category
from empreinte.analytics.cx.kano_answers import kano_results as kano_results_of_log
from empreinte.workspace import Workspace


def kano_results(ws: Any, *args: Any, **kwargs: Any) -> Any:
    """`kano_results` over the workspace's log, opened as the workspace's reports open it."""
    with ws.analytics() as log:
        return kano_results_of_log(log, *args, **kwargs)


A, O, M, I, R, Q = (  # noqa: E741
    Category.ATTRACTIVE,
    Category.ONE_DIMENSIONAL,
    Category.MUST_BE,
    Category.INDIFFERENT,
    Category.REVERSE,
    Category.QUESTIONABLE,
)


def kano(
    who: str,
    feature: str,
    functional: Any,
    dysfunctional: Any,
    when: str = "2026-03-01",
    *,
    anon: bool = False,
    channel: str | None = None,
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "type": "track",
        "event": "Kano Answered",
        "anonymousId" if anon else "userId": who,
        "properties": {
            "feature": feature,
            "functional": functional,
            "dysfunctional": dysfunctional,
        },
        "timestamp": f"{when}T10:00:00Z",
    }
    if channel:
        message["context"] = {"channel": channel}
    return message


MESSAGES = [
    # photos — latest answers: A A A, O O, M M M, I, R, Q (n = 11)
    kano("k0", "photos", "dislike", "like", "2026-02-01"),  # R, replaced by k0's later A
    kano("k0", "photos", "like", "neutral"),  # A
    kano("k1", "photos", "like", "tolerate"),  # A
    kano("k2", "photos", 1, 3),  # A (codes)
    kano("k3", "photos", "like", "dislike"),  # O
    kano("k4", "photos", 1, 5),  # O
    kano("k5", "photos", "expect", "dislike"),  # M
    kano("k6", "photos", "neutral", "dislike"),  # M
    kano("k7", "photos", "tolerate", "dislike"),  # M
    # k8 answers Q anonymously, is identified, then answers I: one person, I
    kano("anon-k8", "photos", "like", "like", "2026-02-01", anon=True),  # Q, replaced
    {"type": "identify", "userId": "k8", "anonymousId": "anon-k8"},
    kano("k8", "photos", "neutral", "neutral"),  # I
    kano("k9", "photos", "dislike", "like"),  # R
    kano("k10", "photos", "like", "like"),  # Q
    # chat — M (web), M (app), O in French (app)
    kano("k3", "chat", "expect", "dislike", channel="web"),
    kano("k5", "chat", "expect", "dislike", channel="app"),
    kano("k11", "chat", "j'aime", "je n'aime pas", channel="app"),
    # grades — codes sent as 1.0 / 5.0 by a JSON exporter (accepted at ingestion): O
    kano("k12", "grades", 1.0, 5.0),
]


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    workspace = empreinte.open(Path(tmp_path_factory.mktemp("kano")) / "ws")
    report = workspace.ingest(MESSAGES, source="web")
    assert not report.rejected, report.rejected
    workspace.flush()
    yield workspace
    workspace.close()


def by_feature(report: Any) -> dict[str, Any]:
    return {result.feature: result for result in report.features}


def test_category_shares_and_better_worse(ws: Workspace) -> None:
    report = ws.cx.kano()
    assert report.unreadable == 0
    photos = by_feature(report)["photos"]
    assert photos.n == 11
    assert {c: photos.counts[c] for c in Category} == {A: 3, O: 2, M: 3, I: 1, R: 1, Q: 1}
    assert photos.shares[A] == pytest.approx(3 / 11)
    assert photos.shares[Q] == pytest.approx(1 / 11)
    # Better = (A + O) / (A + O + M + I) = 5 / 9; Worse = -(O + M) / 9 = -5 / 9
    assert photos.better == pytest.approx(5 / 9)
    assert photos.worse == pytest.approx(-5 / 9)
    # A and M tie at 3: Berger's rule puts Must-be first
    assert photos.dominant is M
    assert set(photos.tied) == {M, A}


def test_french_labels_and_a_second_feature(ws: Workspace) -> None:
    chat = by_feature(ws.cx.kano())["chat"]
    # M, M, O: Better = 1/3, Worse = -3/3
    assert (chat.n, chat.counts[M], chat.counts[O]) == (3, 2, 1)
    assert chat.better == pytest.approx(1 / 3)
    assert chat.worse == pytest.approx(-1.0)
    assert chat.dominant is M


def test_codes_written_as_decimals_are_read(ws: Workspace) -> None:
    grades = by_feature(ws.cx.kano())["grades"]
    assert (grades.n, grades.counts[O]) == (1, 1)


def test_all_answers_count_the_replaced_ones(ws: Workspace) -> None:
    report = kano_results(ws, answers="all")
    photos = by_feature(report)["photos"]
    # k0's earlier R and k8's anonymous Q come back
    assert photos.n == 13
    assert (photos.counts[R], photos.counts[Q]) == (2, 2)


def test_features_filter_and_by_channel(ws: Workspace) -> None:
    report = ws.cx.kano(features=["chat"], by="channel")
    groups = {group.group: group.features for group in report.groups}
    assert set(groups) == {"web", "app"}
    [web] = groups["web"]
    [app] = groups["app"]
    assert (web.feature, web.n, web.better, web.worse) == ("chat", 1, 0.0, -1.0)
    assert (app.n, app.better, app.worse) == (2, pytest.approx(0.5), pytest.approx(-1.0))


def test_min_n_flags_small_features(ws: Workspace) -> None:
    rows = {row["feature"]: row for row in ws.cx.kano(min_n=11).to_rows()}
    assert rows["photos"]["reliable"] is True
    assert rows["chat"]["reliable"] is False
    assert rows["photos"]["better"] == pytest.approx(5 / 9)
    assert rows["photos"]["Must-be"] == pytest.approx(3 / 11)
