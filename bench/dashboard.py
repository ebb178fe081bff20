"""Dashboard benchmark: how long each page takes to render on the default demo data.

Not a test: it prints figures. One run:

1. builds the default demo (`empreinte demo --no-serve`: 2,000 people, 12 months) in a
   temporary directory, unless `--workspace` names one already built (it is not modified);
2. starts the real server on it (`empreinte serve`) and logs in through the login form as the
   demo's admin (who sees everything, so every page is timed at its fullest);
3. times, for every page of the dashboard (and a 3-step funnel and a customer's 360), after
   one warm-up (printed as "first": the first read of a report brings derived tables up to
   date, and each query is compiled to SQL once per process: start-up work, not a page's),
   `--repeat` GETs computed anew (`?fresh=1`: the report cache bypassed, the
   page as its first viewer of the minute gets it) and `--repeat` GETs as the next viewers of
   the minute get it (cached aggregates; lists of people are never cached); prints medians
   against the goal (1 s) and as ratios to the reference measured in the same run: the JSON
   API computing one monthly NPS report (`GET /api/cx/nps?period=month`). Persona cards are
   computed in the background: the time until they show is printed apart.

    .venv/bin/python bench/dashboard.py [--workspace DIR] [--repeat 5] [--only /journeys ...]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from empreinte.web.dashboard.pages import PAGES  # noqa: E402
from servers import ServerProcess, serve_command  # noqa: E402

GOAL_SECONDS = 1.0
REFERENCE = "/api/cx/nps?period=month"
#: Pages with their usual parameters besides their defaults (a customer's 360 is added from
#: the demo's data).
EXTRA: tuple[str, ...] = (
    "/overview?period=week",
    "/journeys?step=Product+Viewed&step=Product+Added&step=Order+Completed",
)


def build_demo(directory: Path) -> Path:
    workspace = directory / "demo"
    subprocess.run(
        [*serve_command(), "demo", "--no-serve", "--dir", str(workspace)],
        check=True,
        capture_output=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    return workspace


def login(client: httpx.Client, username: str, password: str) -> None:
    form = client.get("/login")
    token = re.search(r'name="csrf" value="([0-9a-f]{64})"', form.text)
    assert token, "no CSRF token on the login page"
    done = client.post(
        "/login", data={"csrf": token.group(1), "username": username, "password": password}
    )
    assert done.status_code == 303, f"login failed: {done.status_code}"


def create_token(workspace: Path) -> str:
    """An admin API token (`empreinte tokens create`): the reference call, and a customer."""
    made = subprocess.run(
        [
            *serve_command(),
            *("tokens", "create", "-w", str(workspace)),
            *("--name", "bench", "--role", "admin"),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return made.stdout.strip().split()[-1]


def timed(client: httpx.Client, path: str, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        answer = client.get(path)
        times.append(time.perf_counter() - start)
        if answer.status_code != 200:
            raise SystemExit(f"{path}: {answer.status_code} {answer.text[:300]}")
    return times


def fresh(path: str) -> str:
    return path + ("&" if "?" in path else "?") + "fresh=1"


def wait_for_personas(client: httpx.Client) -> float:
    """Seconds until the persona cards, computed in the background, are shown."""
    start = time.perf_counter()
    while 'class="card computing"' in client.get("/personas").text:
        if time.perf_counter() - start > 600:
            raise SystemExit("the persona cards were not ready after 10 minutes")
        time.sleep(0.5)
    return time.perf_counter() - start


def a_customer(api: httpx.Client) -> str:
    """The 360 of the demo's first identified person."""
    events = api.get("/api/events", params={"limit": 50, "type": "identify"}).json()
    user = next(e["userId"] for e in events["events"] if e.get("userId"))
    profile = api.get("/api/profiles", params={"userId": user}).json()["profileId"]
    return f"/customers/{profile}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workspace", type=Path, help="a demo workspace already built")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--only", action="append", help="only the pages whose path starts so (repeatable)"
    )
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="empreinte-bench-dashboard-"))
    try:
        if args.workspace:
            workspace = scratch / "demo"
            shutil.copytree(args.workspace, workspace)
        else:
            print("building the default demo (2,000 people, 12 months)…", flush=True)
            workspace = build_demo(scratch)
        logins = dict(
            line.split(" ", 1)
            for line in (workspace / "demo-logins.txt").read_text().split("\n")
            if line
        )
        token = create_token(workspace)
        server = ServerProcess(workspace, scratch).start()
        try:
            with httpx.Client(base_url=server.url, timeout=120) as client:
                login(client, "demo-admin", logins["demo-admin"])
                api = httpx.Client(
                    base_url=server.url,
                    timeout=120,
                    headers={"Authorization": f"Bearer {token}"},
                )
                timed(api, REFERENCE, 1)  # warm-up
                reference = statistics.median(timed(api, REFERENCE, args.repeat))
                paths = [p.path for p in PAGES if not p.fragment and "{" not in p.path]
                paths += [*EXTRA, a_customer(api)]
                print(f"reference {REFERENCE}: median {reference * 1000:.0f} ms")
                client.get("/personas")  # starts the background computation
                print(f"persona cards shown after {wait_for_personas(client):.1f} s\n")
                print(
                    f"{'page':<44} {'first':>8} {'computed':>9} {'× ref':>6} {'cached':>8}"
                    f" {'× ref':>6}  goal 1 s (computed)"
                )
                for path in (p for p in paths if p.startswith(tuple(args.only or ["/"]))):
                    # Warm-up, printed: the page's first view since the server started also
                    # compiles its queries (kept for the process) and refreshes derived tables.
                    first = timed(client, path, 1)[0]
                    cold = statistics.median(timed(client, fresh(path), args.repeat))
                    warm = statistics.median(timed(client, path, args.repeat))
                    verdict = "met" if cold < GOAL_SECONDS else "MISSED"
                    print(
                        f"{path[:44]:<44} {first * 1000:>6.0f}ms "
                        f"{cold * 1000:>7.0f}ms {cold / reference:>6.1f} "
                        f"{warm * 1000:>6.0f}ms {warm / reference:>6.1f}  {verdict}"
                    )
        finally:
            server.stop()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
