"""Copyable code for empty states: the Segment calls that would fill a chart, for analytics.js
in a web page and for the Python library (segment-analytics-python), pointed at this server.

The write key is a placeholder: the snippet is shown to whoever reads the page, and a write
key is created (and shown once) on the Sources page.
"""

from __future__ import annotations

import json
from typing import Any

WRITE_KEY = "YOUR_WRITE_KEY"
HOST = "https://empreinte.example.com"


def _js(call: str, *args: Any) -> str:
    rendered = ", ".join(json.dumps(a, ensure_ascii=False, indent=None) for a in args)
    return (
        "<!-- once per page, after the analytics.js snippet: -->\n"
        f'analytics.load("{WRITE_KEY}", {{ integrations: {{ "Segment.io": '
        f'{{ apiHost: "{HOST.removeprefix("https://")}/v1" }} }} }});\n'
        f"analytics.{call}({rendered});"
    )


def _python(call: str, user_id: str, *args: Any) -> str:
    rendered = ", ".join(repr(a) for a in args)
    return (
        "import segment.analytics as analytics\n\n"
        f'analytics.write_key = "{WRITE_KEY}"\n'
        f'analytics.host = "{HOST}"\n'
        f"analytics.{call}({user_id!r}, {rendered})\n"
        "analytics.flush()"
    )


def snippets(call: str, user_id: str, *args: Any) -> dict[str, str]:
    """The same call in analytics.js and in Python (`user_id` is the first argument of both)."""
    return {"analytics.js": _js(call, user_id, *args), "Python": _python(call, user_id, *args)}


def track_snippets(
    event: str = "Product Viewed", properties: dict[str, Any] | None = None
) -> dict[str, str]:
    return snippets("track", "user-42", event, properties or {"product_id": "sku-1", "price": 19.9})


SURVEY_EVENTS = {
    "nps": ("NPS Answered", {"score": 9, "comment": "Fast delivery", "touchpoint": "delivery"}),
    "csat": ("CSAT Answered", {"score": 4, "scale": 5, "touchpoint": "service"}),
    "ces": ("CES Answered", {"score": 6, "touchpoint": "returns"}),
}


def survey_snippets(survey: str) -> dict[str, str]:
    event, properties = SURVEY_EVENTS[survey]
    return track_snippets(event, properties)
