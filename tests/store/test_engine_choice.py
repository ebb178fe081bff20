"""Choosing the analytics engine: `[analytics]`, `EMPREINTE_ENGINE` and `--engine`, with clear
errors. (That the same reports then give the same numbers on Spark is
tests/analytics/test_spark_parity.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import empreinte
from empreinte.cli import app
from empreinte.errors import ConfigError
from empreinte.store.engine_choice import ENGINE_VARIABLE, AnalyticsEngine


@pytest.mark.parametrize(
    ("text", "kind", "master"),
    [
        ("duckdb", "duckdb", "local[2]"),
        ("spark", "spark", "local[2]"),
        ("spark:local[4]", "spark", "local[4]"),
        ("spark://10.0.0.5:7077", "spark", "spark://10.0.0.5:7077"),
        (" spark ", "spark", "local[2]"),
    ],
)
def test_engine_names(text: str, kind: str, master: str) -> None:
    assert AnalyticsEngine.parse(text) == AnalyticsEngine(kind, master)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["", "sprak", "spark:", "postgres://x", "DuckDB "])
def test_unknown_engines_are_named(text: str) -> None:
    with pytest.raises(ConfigError, match="unknown analytics engine"):
        AnalyticsEngine.parse(text)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"engine": "clickhouse"}, "engine must be"),
        ({"spark_master": ""}, "spark_master must be"),
        ({"spark_master": 7077}, "spark_master must be"),
        ({"engin": "spark"}, "unknown setting"),
        ({"source": "s3"}, 'source must be "workspace" or "published"'),
    ],
)
def test_a_wrong_section_stops_open_naming_the_setting(
    tmp_path: Path, section: dict[str, object], message: str
) -> None:
    lines = "\n".join(f"{key} = {value!r}" for key, value in section.items())
    (tmp_path / "empreinte.toml").write_text(f"[analytics]\n{lines}\n".replace("'", '"'))
    with pytest.raises(ConfigError, match=rf"empreinte.toml: \[analytics\] {message}"):
        empreinte.open(tmp_path)


def test_the_environment_overrides_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    section = {"engine": "spark", "spark_master": "spark://h:7077"}
    assert AnalyticsEngine.chosen(section) == AnalyticsEngine("spark", "spark://h:7077")
    monkeypatch.setenv(ENGINE_VARIABLE, "duckdb")
    assert AnalyticsEngine.chosen(section) == AnalyticsEngine()
    monkeypatch.setenv(ENGINE_VARIABLE, "spark:local[1]")
    assert AnalyticsEngine.chosen({}) == AnalyticsEngine("spark", "local[1]")


def test_a_wrong_engine_option_is_one_line(tmp_path: Path) -> None:
    empreinte.open(tmp_path / "ws").close()
    result = CliRunner().invoke(
        app, ["--engine", "sprak", "report", "nps", "-w", str(tmp_path / "ws")]
    )
    assert result.exit_code == 1
    assert "unknown analytics engine 'sprak'" in result.output
    assert "Traceback" not in result.output


def test_the_source_read_stays_the_files_when_the_engine_is_overridden(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    section = {"engine": "spark", "source": "published"}
    assert AnalyticsEngine.chosen(section).source == "published"
    monkeypatch.setenv(ENGINE_VARIABLE, "spark://h:7077")
    assert AnalyticsEngine.chosen(section) == AnalyticsEngine(
        "spark", "spark://h:7077", "published"
    )
    assert AnalyticsEngine.chosen({}).source == "workspace"


def test_the_published_source_needs_spark_and_a_publish_url(tmp_path: Path) -> None:
    empreinte.open(tmp_path / "ws").close()
    report = ["report", "nps", "-w", str(tmp_path / "ws")]
    wrong = CliRunner().invoke(app, ["--source", "s3", *report])
    assert wrong.exit_code == 1 and 'must be "workspace" or "published"' in wrong.output
    on_duckdb = CliRunner().invoke(app, ["--source", "published", *report])
    assert on_duckdb.exit_code == 1 and "read on Spark" in on_duckdb.output
    unpublished = CliRunner().invoke(app, ["--engine", "spark", "--source", "published", *report])
    assert unpublished.exit_code == 1 and "needs [publish] url" in unpublished.output
    for result in (wrong, on_duckdb, unpublished):
        assert "Traceback" not in result.output
