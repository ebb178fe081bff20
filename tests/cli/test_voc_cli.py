"""`empreinte voc …`: refresh, conversations, one conversation, topics (rename, merge),
reasons, quality; the errors a user sees."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

import empreinte
from empreinte.cli import app
from voc.calls import T0, call, days, planted, turns

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("voc-cli") / "ws"
    with empreinte.open(path) as ws:
        for i, (_, text) in enumerate(planted(40)):
            call(ws, turns(("agent", "Bonjour"), ("customer", text)), user=f"u{i % 9}",
                 at=T0 + days(i % 10))  # fmt: skip
        call(
            ws,
            turns(
                (
                    "customer",
                    "Je veux être remboursé, le remboursement est en retard, c'est inadmissible",
                )
            ),
            user="z",
        )
    yield str(path)


def test_refresh_then_the_reports(workspace: str) -> None:
    code, output = run("voc", "refresh", "--json", "-w", workspace)
    assert code == 0, output
    assert json.loads(output)["texts"] == 41
    code, output = run("voc", "conversations", "--reason", "refund", "--json", "-w", workspace)
    (only,) = json.loads(output)["texts"]
    assert only["reason_by"] == "rule" and only["sentiment"] < 0
    code, output = run("voc", "conversation", str(only["seq"]), "-w", workspace)
    assert code == 0 and "remboursé" in output
    code, output = run("voc", "conversations", "--sentiment", "negative", "-w", workspace)
    assert code == 0 and str(only["seq"]) in output
    code, output = run("voc", "reasons", "--period", "month", "--json", "-w", workspace)
    assert sum(r["texts"] for r in json.loads(output)["reasons"]) == 41
    code, output = run("voc", "quality", "--agents", "--json", "-w", workspace)
    (agent,) = json.loads(output)["agents"]
    assert agent["agent_id"] == "agent-1" and agent["contacts"] == 41


def test_topics_rename_and_merge(workspace: str) -> None:
    run("voc", "refresh", "-w", workspace)
    code, output = run("voc", "topics", "--json", "-w", workspace)
    first, second = json.loads(output)["topics"][:2]
    code, output = run("voc", "topics", "rename", str(first["topic_id"]), "Écrans", "-w", workspace)
    assert code == 0, output
    code, output = run("voc", "topics", "merge", str(second["topic_id"]), str(first["topic_id"]),
                       "-w", workspace)  # fmt: skip
    assert code == 0, output
    code, output = run("voc", "topics", "-w", workspace)
    assert "Écrans" in output
    code, output = run("voc", "topics", "merge", str(second["topic_id"]), "--undo", "-w", workspace)
    assert code == 0, output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("voc", "topics", "rename", "999", "x"), "no topic 999"),
        (("voc", "reasons", "--period", "fortnight"), "period: must be one of"),
        (("voc", "conversations", "--kind", "fax"), "--kind: unknown kind"),
        (("voc", "conversation", "123456"), "no analysed text at seq 123456"),
        (("voc", "topics", "merge", "1"), "give the topic to merge into"),
    ],
)
def test_errors_name_what_is_wrong(workspace: str, args: tuple[str, ...], message: str) -> None:
    code, output = run(*args, "-w", workspace)
    assert code != 0 and message in output and "Traceback" not in output
