"""`empreinte.toml`: settings are checked when the workspace opens, with the file named."""

from __future__ import annotations

from pathlib import Path

import pytest

import empreinte


def write(tmp_path: Path, text: str) -> Path:
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "empreinte.toml").write_text(text)
    return tmp_path


def test_defaults_without_a_file(tmp_path: Path) -> None:
    with empreinte.open(tmp_path / "plain") as ws:
        assert (ws.config.default_region, ws.config.timezone) == ("FR", "UTC")


def test_settings_are_read(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        'default_region = "us"\ntimezone = "America/New_York"\n[identity]\nlimits = { email = 2 }\n'
        '[profiles]\nsource_priority = ["crm"]\n[consent]\ndefaults = { analytics = true }\n',
    )
    with empreinte.open(root) as ws:
        assert ws.config.default_region == "US"
        assert ws.config.timezone == "America/New_York"
        assert ws.config.identity == {"limits": {"email": 2}}
        assert ws.config.consent == {"defaults": {"analytics": True}}
        # National numbers are now read as American.
        ws.identify("u-1", traits={"phone": "(415) 555-0134"})
        (event,) = ws.events(limit=1)
    assert any(k.startswith("phone:") for k in event["identifiers"])


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('colour = "red"\n', "colour"),
        ('default_region = "XX"\n', "default_region"),
        ("[consent]\ndefaults = { marketing_sms = true }\n", "marketing_sms"),
        ("[consent]\ndefaults = { analytics = true, tracking = true }\n", "tracking"),
        ("identity = 3\n", "[identity]"),
        ('timezone = "Europe/Pariss"\n', "Europe/Pariss"),
        ("timezone = 2\n", "timezone"),
        ("[identity\n", "empreinte.toml"),
        ('[storage]\nmemory_limit = "lots"\n', "memory_limit"),
        ('[storage]\nmemory_limit = "1MB"\n', "at least 64MB"),
        ("[storage]\nthreads = 0\n", "threads"),
        ("[storage]\ncache = 1\n", "cache"),
        ("[collector]\nlatency_budget = 0\n", "latency_budget"),
        ('[collector]\nlatency_budget = "1s"\n', "latency_budget"),
        ("[collector]\nqueue = 1\n", "queue"),
    ],
)
def test_a_wrong_setting_stops_open_with_the_file_and_the_setting(
    tmp_path: Path, text: str, named: str
) -> None:
    root = write(tmp_path, text)
    with pytest.raises(empreinte.ConfigError) as caught:
        empreinte.open(root)
    assert "empreinte.toml" in str(caught.value) and named in str(caught.value)


def test_storage_limits_are_applied_to_the_database(tmp_path: Path) -> None:
    with empreinte.open(tmp_path / "plain") as ws:
        setting = ws.engine._cur().execute("SELECT current_setting('memory_limit')").fetchone()
        assert setting == ("953.6 MiB",)  # 1GB, DuckDB's default being 80% of the RAM
    root = write(tmp_path / "tuned", '[storage]\nmemory_limit = "512MiB"\nthreads = 1\n')
    with empreinte.open(root) as ws:
        cur = ws.engine._cur()
        query = "SELECT current_setting('memory_limit'), current_setting('threads')"
        assert cur.execute(query).fetchone() == ("512.0 MiB", 1)
