"""Every page of the navigation, in a real browser: labelled inputs, one main heading, a skip
link that works from the keyboard, readable contrast, and a layout that fits a tablet."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dashboard_support import Dashboard

CSS = Path(__file__).resolve().parents[2] / "src/empreinte/web/dashboard/static/dashboard.css"

UNLABELLED = """() => Array.from(document.querySelectorAll(
    'input:not([type=hidden]), select, textarea'))
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby'))
  .map(el => el.outerHTML.slice(0, 120))"""


def navigation(page: Any) -> list[str]:
    links = page.locator("header nav a").evaluate_all("els => els.map(e => e.pathname)")
    assert links, "no navigation"
    return list(links)


def test_every_page_is_labelled_and_has_one_main_heading(
    page_as: Callable[..., Any], dashboard: Dashboard
) -> None:
    page = page_as("admin")
    for path in navigation(page):
        page.goto(dashboard.url + path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate(UNLABELLED) == [], path
        assert page.locator("h1").count() == 1, path
        assert page.locator("img:not([alt])").count() == 0, path
        assert page.locator("header nav a[aria-current=page]").count() == 1, path
    assert not page.errors


def test_the_skip_link_takes_the_keyboard_to_the_content(page_as: Callable[..., Any]) -> None:
    page = page_as("viewer")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused.strip() == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


@pytest.mark.parametrize("width", [1024, 768])
def test_pages_fit_a_tablet(page_as: Callable[..., Any], dashboard: Dashboard, width: int) -> None:
    page = page_as("admin", width=width)
    for path in navigation(page):
        page.goto(dashboard.url + path)
        page.wait_for_load_state("networkidle")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at {width}px"


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_text_colours_meet_wcag_aa_contrast() -> None:
    colours = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", CSS.read_text()))
    pairs = [
        ("ink", "bg"),
        ("ink", "card"),
        ("muted", "card"),
        ("muted", "bg"),
        ("accent", "card"),
        ("accent-ink", "accent"),
        ("bad", "card"),
        ("good", "card"),
        ("card", "ink"),  # the header: white on ink
    ]
    for text, background in pairs:
        ratio = contrast(colours[text], colours[background])
        assert ratio >= 4.5, f"{text} on {background}: {ratio:.2f}:1"
