"""The rules of destinations without a server: signatures, back-off, batches, what a
destination may be given, exports, and the CLI on a small workspace (a segment of three
buyers, two of whom allow marketing e-mails)."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

import empreinte
from empreinte.activate.destinations import exports, signing
from empreinte.activate.destinations.network import check_host, check_url, reachable
from empreinte.activate.destinations.service import Destinations, _batches
from empreinte.activate.destinations.settings import DestinationSettings
from empreinte.cli import app
from empreinte.errors import ConfigError, InvalidInput
from empreinte.store.destination_store import Delivery

NOW = datetime(2026, 1, 1, tzinfo=UTC)


# -- signatures ------------------------------------------------------------------------------


@given(st.text(min_size=1, max_size=40), st.binary(max_size=300), st.integers(0, 2**33))
def test_a_signature_verifies_and_any_change_breaks_it(secret: str, body: bytes, t: int) -> None:
    header = signing.signature(secret, t, body)
    assert signing.verify(secret, header, body, now=t)
    assert not signing.verify(secret + "x", header, body, now=t)
    assert not signing.verify(secret, header, body + b" ", now=t)
    assert not signing.verify(secret, header, body, now=t + signing.TOLERANCE + 1)
    if body:
        flipped = bytes([body[0] ^ 1]) + body[1:]
        assert not signing.verify(secret, header, flipped, now=t)


def test_the_signature_is_the_documented_hmac() -> None:
    # Computed by hand: echo -n '1700000000.{}' | openssl dgst -sha256 -hmac whsec_test
    header = signing.signature("whsec_test", 1700000000, b"{}")
    assert header == (
        "t=1700000000,v1="
        + __import__("hmac").new(b"whsec_test", b"1700000000.{}", "sha256").hexdigest()
    )
    assert not signing.verify("whsec_test", "t=abc,v1=00", b"{}", now=0)
    assert not signing.verify("whsec_test", "garbage", b"{}", now=0)


# -- back-off --------------------------------------------------------------------------------


class _Fixed:
    """The part of a workspace `Destinations` reads to compute back-off."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.config = type("C", (), {"destinations": {}})()


@pytest.mark.parametrize(
    ("tries", "low", "high"),
    [(1, 15, 30), (2, 30, 60), (4, 120, 240), (7, 960, 1920)],
)
def test_back_off_doubles_with_jitter_within_half_to_full(
    tmp_path: Path, tries: int, low: float, high: float
) -> None:
    d = Destinations(_Fixed(tmp_path), None, rng=random.Random(1))  # type: ignore[arg-type]
    waits = [(d._next_try(tries, NOW) - NOW).total_seconds() for _ in range(200)]  # type: ignore[operator]
    assert low <= min(waits) and max(waits) <= high
    assert max(waits) - min(waits) > (high - low) / 2  # jittered, not fixed
    assert d._next_try(tries, NOW, 0.0) == NOW + timedelta(seconds=low)


def test_back_off_is_capped_and_gives_up_after_the_last_try(tmp_path: Path) -> None:
    d = Destinations(_Fixed(tmp_path), None)  # type: ignore[arg-type]
    assert d._next_try(8, NOW) is None  # max_attempts = 8: the 8th failure is the last
    assert d._next_try(7, NOW, 1.0) == NOW + timedelta(seconds=1920)
    capped = Destinations(_Fixed(tmp_path), None)  # type: ignore[arg-type]
    object.__setattr__(capped, "settings", DestinationSettings(max_attempts=50))
    assert capped._next_try(20, NOW, 1.0) == NOW + timedelta(seconds=3600)


# -- batches ---------------------------------------------------------------------------------


def _delivery(i: int, kind: str = "track", size: int = 10) -> Delivery:
    return Delivery(
        f"dl_{i}", "d", "p", kind, {"x": "a" * size}, "pending", 0, NOW, None, NOW, None
    )


def test_batches_hold_at_most_their_size_and_bytes_and_deletions_go_alone() -> None:
    items = [_delivery(i) for i in range(5)] + [_delivery(5, "delete")] + [_delivery(6)]
    batches = _batches(items, 2)
    assert [[d.delivery_id for d in b] for b in batches] == [
        ["dl_0", "dl_1"],
        ["dl_2", "dl_3"],
        ["dl_5"],
        ["dl_4", "dl_6"],
    ]
    heavy = [_delivery(i, size=30_000) for i in range(40)]
    for batch in _batches(heavy, 100):
        assert sum(len(orjson.dumps(d.payload)) for d in batch) <= 450 * 1024


# -- what a destination may be given -----------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "",
        "ftp://x.io/",
        "http://",
        "http://u:p@x.io/",
        "javascript:alert(1)",
        "https://x.io:0/",
        "https://" + "a" * 2050 + ".io/",
    ],
)
def test_urls_refused_name_the_field(url: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_url(url)
    assert caught.value.field == "url"


def test_non_public_addresses_are_refused_unless_the_operator_allows_them() -> None:
    for url in (
        "http://127.0.0.1:9/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/",
        "http://10.0.0.8/",
        "http://[::ffff:127.0.0.1]/",
        "http://localhost:8000/",
    ):
        with pytest.raises(InvalidInput) as caught:
            check_host(url, allow_private=False)
        assert caught.value.field == "url"
        assert check_host(url, allow_private=True) == url
    assert check_host("https://crm.example.com/hook", allow_private=False)
    # Names are resolved at every request, each address checked.
    assert reachable("http://localhost:9/x", allow_private=False) is not None
    assert reachable("http://127.0.0.1:9/x", allow_private=True) is None


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ({"max_attempts": 0}, "max_attempts"),
        ({"batch_size": "ten"}, "batch_size"),
        ({"allow_private_networks": "yes"}, "allow_private_networks"),
        ({"retry_base": 3}, "retry_base"),
    ],
)
def test_settings_refused_name_the_key(section: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        DestinationSettings.from_mapping(section)


def test_a_csv_cell_cannot_become_a_formula(tmp_path: Path) -> None:
    rows = [{"profile_id": "p1", "user_id": '=HYPERLINK("x")', "segment": "-2+3"}]
    path = exports.write(tmp_path / "out", "a", "csv", exports.COLUMNS, rows)
    with path.open() as f:
        [row] = list(csv.DictReader(f))
    assert row["user_id"] == '\'=HYPERLINK("x")' and row["segment"] == "'-2+3"
    assert (path.stat().st_mode & 0o777) == 0o600


# -- the CLI on a small workspace ------------------------------------------------------------


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("cli") / "ws"
    with empreinte.open(path) as ws:
        for i, allows in enumerate((True, True, False)):
            user = f"c{i}"
            ws.track(
                "Consent Updated",
                user_id=user,
                properties={"purpose": "analytics", "granted": True},
            )
            ws.track(
                "Consent Updated",
                user_id=user,
                properties={
                    "purpose": "marketing_email",
                    "granted": allows,
                    "confirmation": "confirmed",
                },
            )
            ws.track("Order Completed", user_id=user, properties={"revenue": 1})
        ws.flush()
        ws.segments.create("buyers", 'did("Order Completed")')
    yield path


def run(*args: str) -> tuple[int, str]:
    done = CliRunner().invoke(app, list(args))
    return done.exit_code, done.output


def test_the_cli_adds_syncs_and_lists_an_export(workspace: Path) -> None:
    code, out = run(
        "destinations",
        "add",
        "crm",
        "csv",
        "--directory",
        "crm",
        "--purpose",
        "marketing_email",
        "--segment",
        "buyers",
        "-w",
        str(workspace),
    )
    assert code == 0, out
    code, out = run("destinations", "sync", "--json", "-w", str(workspace))
    assert code == 0, out
    [report] = orjson.loads(out)["rounds"]
    assert (report["queued"], report["sent"]) == (1, 1)
    with (workspace / "exports" / "crm" / "crm.csv").open() as f:
        assert sorted(r["user_id"] for r in csv.DictReader(f)) == ["c0", "c1"]
    code, out = run("destinations", "list", "--json", "-w", str(workspace))
    [shown] = orjson.loads(out)["destinations"]
    assert shown["deliveries"]["sent"] == 1 and shown["target"].endswith("exports/crm")
    code, out = run("destinations", "deliveries", "--status", "dead", "-w", str(workspace))
    assert code == 0


def test_the_cli_says_what_is_wrong_in_one_line(workspace: Path) -> None:
    cases = [
        (
            [
                "destinations",
                "add",
                "x",
                "webhook",
                "--purpose",
                "spam",
                "--url",
                "https://a.io/",
                "--segment",
                "buyers",
            ],
            "purpose",
        ),
        (
            [
                "destinations",
                "add",
                "x",
                "webhook",
                "--purpose",
                "analytics",
                "--url",
                "ftp://a",
                "--segment",
                "buyers",
            ],
            "url",
        ),
        (
            [
                "destinations",
                "add",
                "x",
                "csv",
                "--purpose",
                "analytics",
                "--directory",
                "/etc",
                "--segment",
                "buyers",
            ],
            "directory",
        ),
        (
            [
                "destinations",
                "add",
                "x",
                "segment",
                "--purpose",
                "analytics",
                "--url",
                "https://api.segment.io",
                "--segment",
                "buyers",
            ],
            "write_key",
        ),
        (["destinations", "show", "nothing-here"], "no destination"),
        (["destinations", "deliveries", "--status", "lost"], "status"),
    ]
    for args, word in cases:
        code, out = run(*args, "-w", str(workspace))
        assert code == 1, (args, out)
        assert word in out and "Traceback" not in out, (args, out)


def test_a_round_that_cannot_run_says_why_and_the_others_go_on(workspace: Path) -> None:
    with empreinte.open(workspace) as ws:
        ws.segments.create("short-lived", 'did("Order Completed")')
        ws.destinations.add(
            "orphan", "csv", directory="orphan", purpose="marketing_email", segments=["short-lived"]
        )
        ws.segments.delete("short-lived")
    code, out = run("destinations", "sync", "--json", "-w", str(workspace))
    assert code == 0, out
    rounds = {r["destination"]: r for r in orjson.loads(out)["rounds"]}
    assert "short-lived" in rounds["orphan"]["error"]
    assert rounds["crm"]["error"] is None
    code, out = run("destinations", "list", "--json", "-w", str(workspace))
    shown = {d["name"]: d for d in orjson.loads(out)["destinations"]}
    assert "short-lived" in shown["orphan"]["last_round"]["error"]
    assert shown["crm"]["last_round"]["error"] is None and shown["crm"]["last_round"]["at"]
    code, out = run("destinations", "sync", "orphan", "-w", str(workspace))
    assert code == 1 and "short-lived" in out and "Traceback" not in out


def test_what_left_is_forgotten_after_keep_days(workspace: Path) -> None:
    with empreinte.open(workspace) as ws:
        assert ws.destinations.get("crm").counts.get("sent") == 1
        later = Destinations(
            ws,
            ws.engine.destination_store(),
            clock=lambda: datetime.now(UTC) + timedelta(days=31),
        )
        later.sync("crm")
        assert ws.destinations.get("crm").counts.get("sent", 0) == 0


def test_erase_on_the_command_line_names_the_destinations_asked(workspace: Path) -> None:
    code, out = run("erase", "--user", "c0", "--yes", "-w", str(workspace))
    assert code == 0, out
    assert "deletion requests queued for: crm" in out
    code, out = run("destinations", "sync", "crm", "--json", "-w", str(workspace))
    with (workspace / "exports" / "crm" / "crm.csv").open() as f:
        assert [r["user_id"] for r in csv.DictReader(f)] == ["c1"]
    code, out = run("destinations", "deliveries", "--deletions", "--json", "-w", str(workspace))
    [request] = orjson.loads(out)["deliveries"]
    assert (request["destination"], request["status"]) == ("crm", "sent")
