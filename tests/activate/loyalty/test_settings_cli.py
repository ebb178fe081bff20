"""`[loyalty]` is checked when a workspace opens, naming the wrong key; the CLI answers a
refusal in one line, never a stack trace."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import empreinte
from empreinte.errors import ConfigError
from servers import serve_command


@pytest.mark.parametrize(
    ("section", "named"),
    [
        ("colour = 1", "colour"),
        ('purpose = "fun"', "purpose"),
        ('expiry = "soon"', "expiry"),
        ("daily_engagement_cap = -1", "daily_engagement_cap"),
        ('category_multipliers = { Books = "x" }', "category_multipliers.Books"),
        ("point_value = 0", "point_value"),
    ],
)
def test_a_wrong_setting_stops_open_naming_it(tmp_path: Path, section: str, named: str) -> None:
    (tmp_path / "empreinte.toml").write_text(f"[loyalty]\n{section}\n")
    with pytest.raises(ConfigError, match=named):
        empreinte.open(tmp_path)


def test_the_cli_refuses_in_one_line(tmp_path: Path) -> None:
    empreinte.open(tmp_path).close()
    done = subprocess.run(
        [*serve_command(), "loyalty", "redeem", "p_0123456789abcdef", "5", "--reference", "r",
         "-w", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert "no profile" in done.stderr and "Traceback" not in done.stderr + done.stdout
    ran = subprocess.run(
        [*serve_command(), "loyalty", "run", "--json", "-w", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert ran.returncode == 0 and '"points_earned": 0' in ran.stdout
