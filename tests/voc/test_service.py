"""`workspace.voc.refresh()`: the log's texts analysed incrementally, idempotently, in chunks;
sentiment start vs end, reasons, quality signals, repeat calls, topics kept across refits."""

from __future__ import annotations

from pathlib import Path

import pytest

import empreinte
from empreinte.errors import InvalidInput, InvalidMessage, NotFound
from empreinte.store.voc_store import TextFilter
from empreinte.voc.model import MAX_TURN_CHARS
from empreinte.workspace import Workspace

from .calls import T0, call, days, planted, turns


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = empreinte.open(tmp_path / "ws")
    yield workspace
    workspace.close()


def _rows(ws: Workspace) -> list[dict]:
    return sorted(ws.voc.conversations(limit=1000), key=lambda r: r["seq"])


def test_refresh_reads_calls_chats_and_verbatims_once(ws: Workspace) -> None:
    call(ws, turns(("agent", "Bonjour"), ("customer", "Mon colis n'est jamais arrivé")))
    call(ws, turns(("customer", "My password does not work")), event="Chat Completed")
    ws.track("NPS Answered", user_id="u2", properties={"score": 3, "comment": "Livraison nulle"})
    ws.track("Review Submitted", user_id="u3", properties={"review": "Great sofa, thanks"})
    ws.track("Page Viewed", user_id="u4", properties={"path": "/"})  # no text
    first = ws.voc.refresh()
    assert first.texts == 4
    kinds = [r["kind"] for r in _rows(ws)]
    assert kinds == ["call", "chat", "survey", "review"]
    again = ws.voc.refresh()
    assert again.texts == 0 and again.cursor == first.cursor and not again.refitted
    assert len(_rows(ws)) == 4


def test_refresh_is_incremental_and_chunks_change_nothing(tmp_path: Path) -> None:
    results = []
    for chunk in (1, 3, 1000):
        with empreinte.open(tmp_path / f"ws{chunk}") as ws:
            for i in range(7):
                call(ws, turns(("customer", f"colis {i} en retard, inadmissible")), at=T0 + days(i))
                if i == 3:
                    ws.voc.refresh(chunk=chunk)
            ws.voc.refresh(chunk=chunk)
            rows = _rows(ws)
            results.append([(r["sentiment"], r["reason"], str(r["occurred_at"])) for r in rows])
    assert len(results[0]) == 7
    assert results[0] == results[1] == results[2]


def test_sentiment_end_versus_start_of_the_customer(ws: Workspace) -> None:
    seq = call(
        ws,
        turns(
            ("customer", "I'm furious, my parcel is lost and nobody answers."),
            ("agent", "I'm sorry to hear that."),
            ("customer", "This is unacceptable."),
            ("customer", "I still have nothing."),
            ("agent", "I have sent a new one today with express delivery."),
            ("customer", "Great, thank you so much, that's perfect."),
            ("customer", "Brilliant, have a nice day."),
        ),
        language="en",
    )
    assert seq
    ws.voc.refresh()
    (row,) = _rows(ws)
    assert row["sentiment_start"] < -0.3 < 0.3 < row["sentiment_end"]
    detail = ws.voc.conversation(row["seq"])
    assert [t["speaker"] for t in detail["turns"]][:2] == ["customer", "agent"]
    assert detail["turns"][0]["sentiment"] < 0 < detail["turns"][-1]["sentiment"]


def test_reason_by_rule_then_by_model(ws: Workspace) -> None:
    call(ws, turns(("customer", "Je voudrais être remboursé, le remboursement n'arrive pas")))
    call(ws, turns(("customer", "Is the grey armchair also sold in a bigger version?")))
    ws.voc.refresh()
    rule, model = _rows(ws)
    assert (rule["reason"], rule["reason_by"], rule["reason_score"]) == ("refund", "rule", 1.0)
    assert model["reason_by"] == "model" and 0 < model["reason_score"] < 1
    assert model["reason"] == "product_question"


def test_silence_and_overtalk_from_turn_times(ws: Workspace) -> None:
    transcript = [
        {"speaker": "agent", "text": "Hello", "start": 0, "end": 10},
        {"speaker": "customer", "text": "Hi, about my order", "start": 8, "end": 20},  # 2 s over
        {"speaker": "agent", "text": "Let me check", "start": 30, "end": 40},  # 10 s silence
    ]
    call(ws, transcript, duration=50)  # 10 s of silence at the end too
    ws.voc.refresh()
    (row,) = _rows(ws)
    assert row["duration_s"] == 50
    assert row["silence_ratio"] == pytest.approx(20 / 50)
    assert row["overtalk_ratio"] == pytest.approx(2 / 50)


def test_hostile_transcripts_are_refused_at_the_door_and_the_rest_is_read(ws: Workspace) -> None:
    """The collector's checks (collect/transcripts.py) keep malformed turns out of the log;
    what is stored beside them is analysed."""
    with pytest.raises(InvalidMessage, match=r"properties\.transcript"):
        call(ws, "not a list")  # type: ignore[arg-type]
    with pytest.raises(InvalidMessage, match=r"properties.transcript\[0\]"):
        call(ws, [{"speaker": "robot", "text": 42}, {"text": "Bonjour, mon colis", "start": "x"}])
    with pytest.raises(InvalidMessage, match=r"properties.transcript\[0\]"):
        call(ws, [{"speaker": "customer", "text": "a " * 1_000, "start": -5, "end": 1e308}])
    ws.track("NPS Answered", user_id="u", properties={"comment": {"nested": "no"}, "score": 1})
    call(ws, [{"speaker": "customer", "text": "a " * 2_400}])  # no times: no silence ratio
    report = ws.voc.refresh()
    assert report.texts == 1
    rows = _rows(ws)
    assert rows[0]["turns"] == 1 and rows[0]["silence_ratio"] is None


def test_repeat_calls_within_seven_days_make_fcr(ws: Workspace) -> None:
    words = ("customer", "Mon colis est en retard")
    call(ws, turns(words), user="a", at=T0)
    call(ws, turns(words), user="a", at=T0 + days(3))  # again within 7 days: the first failed
    call(ws, turns(words), user="a", at=T0 + days(20))  # long after: the second one held
    call(ws, turns(words), user="b", at=T0, agent="agent-2")
    ws.voc.refresh()
    overall = ws.voc.quality()[0]
    assert overall["reason"] == "*"
    assert (overall["contacts"], overall["with_caller"], overall["repeated"]) == (4, 4, 1)
    assert overall["fcr"] == pytest.approx(0.75)
    agents = {a["agent_id"]: a for a in ws.voc.agents()}
    assert agents["agent-1"]["contacts"] == 3 and agents["agent-1"]["fcr"] == pytest.approx(
        2 / 3, abs=1e-4
    )
    assert agents["agent-2"]["fcr"] == 1.0


def test_reason_volumes_per_week(ws: Workspace) -> None:
    for i in range(3):
        call(ws, turns(("customer", "where is my parcel, the delivery is late")), at=T0 + days(i))
    call(ws, turns(("customer", "I want a refund")), at=T0 + days(8))
    ws.voc.refresh()
    report = ws.voc.reasons("week")
    assert report["reasons"][0] == {"reason": "delivery", "texts": 3, "share": 0.75}
    trend = {(r["reason"], r["period"]): r["texts"] for r in report["trend"]}
    assert trend == {("delivery", "2026-03-02"): 3, ("refund", "2026-03-09"): 1}
    with pytest.raises(InvalidInput):
        ws.voc.reasons("fortnight")


def test_topics_find_planted_themes_and_keep_names_across_refits(ws: Workspace) -> None:
    texts = planted(120)
    for i, (_, text) in enumerate(texts):
        ws.track("Review Submitted", user_id=f"u{i}", properties={"review": text})
    ws.voc.refresh()
    topics = ws.voc.topics()
    assert len(topics) == 4
    by_theme = {}
    for topic in topics:
        themes = {name for name, words in _themes().items() if set(topic["terms"][:4]) <= words}
        assert len(themes) == 1, topic["terms"]
        by_theme[themes.pop()] = topic
    assert sum(t["texts"] for t in topics) >= 120
    sofa, screen = by_theme["sofa"]["topic_id"], by_theme["screen"]["topic_id"]
    ws.voc.rename_topic(sofa, "Canapés")
    ws.voc.merge_topics(screen, sofa)
    # More texts: a refit; the names and merges stay with the topics they were given to.
    for i, (_, text) in enumerate(planted(40, seed=2)):
        ws.track("Review Submitted", user_id=f"v{i}", properties={"review": text})
    assert ws.voc.refresh().refitted
    after = {t["topic_id"]: t for t in ws.voc.topics()}
    assert after[sofa]["label"] == "Canapés" and after[screen]["merged_into"] == sofa
    merged = ws.voc.count(TextFilter(topic_id=sofa))
    assert merged == after[sofa]["texts"] >= 2 * 160 // 4
    with pytest.raises(NotFound):
        ws.voc.rename_topic(999, "x")
    with pytest.raises(InvalidInput):
        ws.voc.rename_topic(sofa, "x" * 81)


def _themes() -> dict[str, set[str]]:
    from .calls import THEMES

    return {k: set(v.split()) for k, v in THEMES.items()}


def test_same_seed_same_topics(tmp_path: Path) -> None:
    found = []
    for name in ("a", "b"):
        with empreinte.open(tmp_path / name) as ws:
            for i, (_, text) in enumerate(planted(80)):
                ws.track("Review Submitted", user_id=f"u{i}", properties={"review": text})
            ws.voc.refresh()
            found.append([t["terms"] for t in ws.voc.topics()])
    assert found[0] == found[1] and found[0]


def test_a_few_new_texts_get_their_topics_without_a_refit(ws: Workspace) -> None:
    for i, (_, text) in enumerate(planted(100)):
        ws.track("Review Submitted", user_id=f"u{i}", properties={"review": text})
    assert ws.voc.refresh().refitted
    before = {t["topic_id"]: t["terms"] for t in ws.voc.topics()}
    ws.track(
        "Review Submitted", user_id="late", properties={"review": "canape coussin sofa cushion"}
    )
    report = ws.voc.refresh()
    assert report.texts == 1 and not report.refitted
    assert {t["topic_id"]: t["terms"] for t in ws.voc.topics()} == before
    (late,) = ws.voc.conversations(limit=1)
    assert [before[t["topic_id"]][0] in _themes()["sofa"] for t in late["topics"]] == [True]


def test_a_message_built_to_hurt_is_analysed_within_bounds(ws: Workspace) -> None:
    # The collector's 32 KB: turns of punctuation, capitals and emoji at the longest a turn
    # may be (model.MAX_TURN_CHARS), and 400 tiny turns.
    hurt = ("NOT GOOD!!!! 😡 but " * 700)[:MAX_TURN_CHARS]
    call(ws, [{"speaker": "customer", "text": hurt, "start": i, "end": i + 1} for i in range(5)])
    call(ws, [{"speaker": "customer", "text": "non", "start": i, "end": i + 2} for i in range(400)])
    assert ws.voc.refresh().texts == 2
    first, many = _rows(ws)
    assert -1 <= first["sentiment"] <= 1 and first["words"] <= 5 * 5_000
    assert many["turns"] == 400 and many["overtalk_ratio"] == 0.0  # one speaker only
    assert len(ws.voc.conversation(many["seq"])["turns"]) == 400
