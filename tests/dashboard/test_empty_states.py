"""A new workspace's dashboard says what to send, and the snippet it shows works: copied from
the page in a real browser and run, it fills the charts."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from dashboard_support import screenshot
from servers import Keys, ServerProcess, serve_command

PASSWORD = "an empty workspace's password"


def test_the_python_snippet_of_an_empty_overview_fills_it(
    workspace: Keys, start_server: Callable[[Keys], ServerProcess], browser: Any
) -> None:
    subprocess.run(
        [
            *serve_command(),
            *("users", "create", "-w", str(workspace.path), "--username", "newcomer"),
            *("--role", "admin", "--password-stdin"),
        ],
        input=PASSWORD + "\n",
        text=True,
        capture_output=True,
        check=True,
    )
    server = start_server(workspace)
    context = browser.new_context(locale="en-GB")  # the session's browser: one Playwright
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page: Any = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server.url)
    page.get_by_label("Username").fill("newcomer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/overview"))

    events = page.locator("section", has=page.locator("#activity-events-title"))
    assert "No events yet" in events.inner_text()
    assert page.locator("div.chart .main-svg").count() == 0
    code = events.locator("pre").nth(1).inner_text()
    assert f'host="{server.url}"' in code  # this server's own address
    assert f'cdnURL: "{server.url}"' in events.locator("pre").nth(0).inner_text()
    screenshot(page, "overview-empty")

    events.locator("figure", has_text="Python").get_by_role("button", name="Copy").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == code

    # Run what was copied, with a real write key.
    snippet = copied.replace("YOUR_WRITE_KEY", workspace.write_key)
    ran = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr

    # The figures are a minute old at most, and the page offers the latest.
    page.get_by_role("link", name="Refresh now").click()
    page.wait_for_selector("#activity-events .main-svg")
    assert "No events yet" not in page.locator("main").inner_text()
    assert "1 events received" in page.locator("p.lead").inner_text()
    assert not errors
    context.close()
