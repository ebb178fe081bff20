"""Quick commands start quickly: `empreinte --help` and `empreinte events count` load neither the
analytics libraries (Ibis, pandas, matplotlib, scipy) nor Splink, and make no password hash."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import make_workspace

HEAVY = ("ibis", "pandas", "matplotlib", "scipy", "splink", "pyspark", "argon2")


def _loaded_by(argv: list[str]) -> tuple[str, set[str]]:
    """(standard output, heavy modules loaded) of `empreinte ARGV` in a fresh interpreter."""
    probe = (
        "import sys\n"
        "from empreinte.cli import main\n"
        f"sys.argv = ['empreinte', *{argv!r}]\n"
        "try:\n    main()\nexcept SystemExit as exit:\n    assert not exit.code, exit.code\n"
        f"print('LOADED', *(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    text, _, loaded = out.rpartition("LOADED")
    return text, set(loaded.split())


def test_help_loads_nothing_heavy() -> None:
    text, loaded = _loaded_by(["--help"])
    assert "report" in text and "events" in text  # the whole command tree is there
    assert loaded == set()


@pytest.mark.parametrize("argv", [["events", "count"], ["events", "tail", "-n", "2"]])
def test_reading_the_log_loads_nothing_heavy(tmp_path: Path, argv: list[str]) -> None:
    keys = make_workspace(tmp_path / "ws")
    text, loaded = _loaded_by([*argv, "-w", str(keys.path)])
    assert loaded == set()
    if argv[1] == "count":
        assert text.strip() == "0"


def test_the_probe_sees_a_heavy_import() -> None:
    """The check can fail: a report command does load the analytics."""
    _, loaded = _loaded_by(["report", "--help"])
    assert loaded == set()  # help alone still loads nothing
    probe = "import sys\nimport empreinte.analytics.cx.scores\nprint('ibis' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "True"
