"""The dashboard's cache of aggregate reports: reused for a minute, emptied by an erasure,
bounded, computed once when many ask at the same moment."""

from __future__ import annotations

import csv
import io
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

import empreinte
from dashboard_support import login
from empreinte.errors import ConfigError
from empreinte.web.dashboard.cache import ReportCache
from servers import Keys, ServerProcess, serve_command


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_report_is_reused_for_max_age_then_computed_again() -> None:
    clock, calls = Clock(), []
    cache = ReportCache(lambda: 0, max_age=60, clock=clock)

    def compute() -> int:
        calls.append(1)
        return len(calls)

    first, at = cache.get("nps", compute)
    clock.now += 59.9
    assert cache.get("nps", compute) == (first, at)
    clock.now += 0.1
    assert cache.get("nps", compute)[0] == 2
    assert cache.get("csat", compute)[0] == 3  # another key, another report


def test_an_erasure_empties_the_cache_at_once() -> None:
    erasures = [0]
    cache = ReportCache(lambda: erasures[0], max_age=3600)
    values = iter(range(100))
    assert cache.get("k", lambda: next(values))[0] == 0
    assert cache.get("k", lambda: next(values))[0] == 0
    erasures[0] += 1
    assert cache.get("k", lambda: next(values))[0] == 1


def test_zero_seconds_is_no_cache() -> None:
    cache = ReportCache(lambda: 0, max_age=0)
    values = iter(range(100))
    assert [cache.get("k", lambda: next(values))[0] for _ in range(3)] == [0, 1, 2]


def test_the_cache_is_bounded_oldest_first() -> None:
    cache = ReportCache(lambda: 0, max_entries=3)
    for key in range(10_000):
        cache.get(key, lambda key=key: key)
    computed = []
    for key in (9_997, 9_998, 9_999, 0):
        cache.get(key, lambda key=key: computed.append(key) or key)
    assert computed == [0]


def test_many_viewers_at_once_compute_a_report_once() -> None:
    cache = ReportCache(lambda: 0)
    calls = []
    started = threading.Barrier(8)

    def slow() -> str:
        calls.append(1)
        time.sleep(0.2)
        return "report"

    def ask() -> None:
        started.wait()
        assert cache.get("overview", slow)[0] == "report"

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1


def test_a_failed_report_is_not_kept() -> None:
    cache = ReportCache(lambda: 0)

    def fail() -> int:
        raise RuntimeError("engine down")

    with pytest.raises(RuntimeError):
        cache.get("k", fail)
    assert cache.get("k", lambda: 7)[0] == 7


@pytest.mark.parametrize("value", ["60", -1, 3601, True, 1.5])
def test_a_wrong_cache_setting_stops_the_workspace_from_opening(
    tmp_path: Path, value: object
) -> None:
    rendered = f'"{value}"' if isinstance(value, str) else str(value).lower()
    (tmp_path / "empreinte.toml").write_text(f"[dashboard]\nreport_cache_seconds = {rendered}\n")
    with pytest.raises(ConfigError, match="report_cache_seconds"):
        empreinte.open(tmp_path)


def test_figures_stay_a_minute_but_an_erasure_removes_a_person_at_once(
    workspace: Keys, start_server: Callable[[Keys], ServerProcess]
) -> None:
    """Its own workspace and server, with the default cache of a minute."""
    subprocess.run(
        [
            *serve_command(),
            *("users", "create", "-w", str(workspace.path), "--username", "bob"),
            *("--role", "admin", "--password-stdin"),
        ],
        input="a long enough password\n",
        text=True,
        capture_output=True,
        check=True,
    )
    server = start_server(workspace)
    admin = {"Authorization": f"Bearer {workspace.admin_token}"}

    def answer(user: str, score: int) -> None:
        sent = httpx.post(
            f"{server.url}/v1/track",
            auth=(workspace.write_key, ""),
            json={"userId": user, "event": "NPS Answered", "properties": {"score": score}},
        )
        assert sent.status_code == 200, sent.text

    def nps(client: httpx.Client) -> tuple[int, float, str]:
        """The page's NPS of the quarter: n, value, and the page's HTML."""
        page = client.get("/overview?period=quarter&download=quarters")
        assert page.status_code == 200, page.text
        row = {r["Score"]: r for r in csv.DictReader(io.StringIO(page.text))}["NPS"]
        html = client.get("/overview?period=quarter").text
        return int(row["Answers (n)"]), float(row["Value"]), html

    answer("ada", 10)
    answer("bea", 10)
    with httpx.Client(base_url=server.url, timeout=60) as client:
        assert login(client, "bob", "a long enough password").status_code == 303
        n, value, html = nps(client)
        assert (n, value) == (2, 100.0)
        assert "Figures as of" in html
        answer("cyd", 0)
        assert nps(client)[:2] == (2, 100.0)  # a minute-old figure, and the page says so
        renewed = client.get("/overview?period=quarter&download=quarters&fresh=1").text
        assert next(csv.DictReader(io.StringIO(renewed)))["Answers (n)"] == "3"  # asked anew
        assert nps(client)[:2] == (3, 100 / 3)  # and kept for the next viewers
        found = httpx.get(f"{server.url}/api/profiles", params={"userId": "ada"}, headers=admin)
        assert found.status_code == 200, found.text
        erased = httpx.delete(
            f"{server.url}/api/profiles/{found.json()['profileId']}", headers=admin
        )
        assert erased.status_code == 200, erased.text
        # Recomputed at once: ada is gone.
        assert nps(client)[:2] == (2, 0.0)
