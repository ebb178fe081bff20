"""Copyable code for empty states: the Segment calls that would fill a chart, for analytics.js
in a web page and for the Python library (segment-analytics-python), pointed at this server.

The write key is a placeholder: the snippet is shown to whoever reads the page, and a write
key is created (and shown once) on the Sources page.
"""

from __future__ import annotations

import json
from typing import Any

WRITE_KEY = "YOUR_WRITE_KEY"
#: Replaced by this server's own address when the page is rendered (`_macros.html`).
HOST = "https://empreinte.example.com"


def _js(call: str, user_id: str, *args: Any) -> str:
    """analytics.js (analytics-next) pointed at empreinte: it fetches its settings from
    `cdnURL` (`/v1/projects/{writeKey}/settings`), which send it back here. In a browser the
    user is identified once; `track` and `page` then carry their id."""
    rendered = ", ".join(json.dumps(a, ensure_ascii=False) for a in args)
    lines = [
        'import { AnalyticsBrowser } from "@segment/analytics-next";',
        "",
        "const analytics = AnalyticsBrowser.load({",
        f'  writeKey: "{WRITE_KEY}",',
        f'  cdnURL: "{HOST}",',
        "});",
    ]
    if call == "identify":
        lines.append(f"analytics.identify({json.dumps(user_id)}, {rendered});")
    else:
        lines.append(f"analytics.identify({json.dumps(user_id)});")
        lines.append(f"analytics.{call}({rendered});")
    return "\n".join(lines)


def _python(call: str, user_id: str, *args: Any) -> str:
    """segment-analytics-python's client, pointed at empreinte."""
    rendered = ", ".join(repr(a) for a in args)
    return "\n".join(
        [
            "from segment.analytics.client import Client  # pip install segment-analytics-python",
            "",
            f'analytics = Client("{WRITE_KEY}", host="{HOST}")',
            f"analytics.{call}({user_id!r}, {rendered})",
            "analytics.flush()",
        ]
    )


def snippets(call: str, user_id: str, *args: Any) -> dict[str, str]:
    """The same Segment call (`track`, `identify`, `page`…) for analytics.js and for Python;
    `args` are what follows the user id in Python (an event and its properties, traits)."""
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
