"""`empreinte publish`: staging a stopped workspace, the publisher alone, clear refusals."""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

import empreinte
from empreinte.cli import app
from empreinte.publish.log import PublishedLog

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_stage_then_publish_from_the_command_line(tmp_path: Path) -> None:
    url = str(tmp_path / "published")
    with empreinte.open(tmp_path / "ws") as ws:
        for n in range(5):
            ws.track("Item Viewed", user_id=f"u{n}")
        ws.flush()
    (tmp_path / "ws" / "empreinte.toml").write_text(
        f'[publish]\nurl = "{url}"\ncollector_id = "shop-1"\n'
    )
    code, out = run("publish", "-w", str(tmp_path / "ws"), "--json")
    assert code == 0, out
    doc = orjson.loads(out)
    assert doc == {
        "collector": "shop-1",
        "stagedSegments": 1,
        "erasuresApplied": 0,
        "erasuresAdopted": 0,
    }
    assert PublishedLog(url).files() == []  # not the leader: staged only
    code, out = run("publish", "--log", url, "--json")
    assert code == 0, out
    assert orjson.loads(out) == {
        "versions": 1,
        "rows": 5,
        "duplicates": 0,
        "segments": 1,
        "compactedFiles": 0,
    }
    assert PublishedLog(url).read().num_rows == 5
    code, out = run("publish", "--log", url)
    assert code == 0 and "rows: 0" in out


def test_refusals_name_what_is_missing(tmp_path: Path) -> None:
    code, out = run("publish")
    assert code == 1 and "--log URL" in out
    with empreinte.open(tmp_path / "ws"):
        pass
    code, out = run("publish", "-w", str(tmp_path / "ws"))
    assert code == 1 and "no [publish] url" in out


def test_a_workspace_keeps_its_collector_id(tmp_path: Path) -> None:
    """A default id that changed (the workspace moved host) would stage the log again."""
    url = str(tmp_path / "published")
    with empreinte.open(tmp_path / "ws") as ws:
        ws.track("Item Viewed", user_id="u")
        ws.flush()
    config = tmp_path / "ws" / "empreinte.toml"
    config.write_text(f'[publish]\nurl = "{url}"\ncollector_id = "old-host"\n')
    assert run("publish", "-w", str(tmp_path / "ws"))[0] == 0
    config.write_text(f'[publish]\nurl = "{url}"\ncollector_id = "new-host"\n')
    code, out = run("publish", "-w", str(tmp_path / "ws"))
    assert code == 1 and "collector_id = 'old-host'" in out
    assert [s.collector for s in PublishedLog(url).segments()] == ["old-host"]


def test_two_workspaces_cannot_share_a_collector_id(tmp_path: Path) -> None:
    """Settings copied from a sibling (`init --like`) name its collector id: sharing it would
    share its watermark, and the second workspace's events under it would never be published."""
    url = str(tmp_path / "published")
    for name in ("a", "b"):
        with empreinte.open(tmp_path / name) as ws:
            ws.track("Item Viewed", user_id=name)
            ws.flush()
        (tmp_path / name / "empreinte.toml").write_text(
            f'[publish]\nurl = "{url}"\ncollector_id = "eu-1"\n'
        )
    assert run("publish", "-w", str(tmp_path / "a"))[0] == 0
    assert run("publish", "-w", str(tmp_path / "a"))[0] == 0  # its own claim: fine
    code, out = run("publish", "-w", str(tmp_path / "b"))
    assert code == 1 and "belongs to another workspace" in out
    (tmp_path / "b" / "empreinte.toml").write_text(
        f'[publish]\nurl = "{url}"\ncollector_id = "eu-2"\n'
    )
    assert run("publish", "-w", str(tmp_path / "b"), "--log", url)[0] == 0
    assert PublishedLog(url).read().num_rows == 2


def test_init_like_warns_of_a_copied_collector_id(tmp_path: Path) -> None:
    with empreinte.open(tmp_path / "a"):
        pass
    (tmp_path / "a" / "empreinte.toml").write_text(
        f'[publish]\nurl = "{tmp_path / "published"}"\ncollector_id = "eu-1"\n'
    )
    code, out = run("init", str(tmp_path / "b"), "--like", str(tmp_path / "a"))
    assert code == 0, out
    assert "collector_id = 'eu-1'" in out and "each collector needs its own" in out
