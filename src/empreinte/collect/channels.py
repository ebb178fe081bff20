"""Which channel a touchpoint came from: kept when the client says, inferred when it does not."""

from __future__ import annotations

from typing import Any

CHANNELS: frozenset[str] = frozenset(
    {"web", "app", "phone", "store", "email", "sms", "push", "social", "chat", "voice"}
)

# Segment's own top-level `channel` values and common synonyms, mapped to ours.
_SYNONYMS = {
    "browser": "web",
    "client": "web",
    "website": "web",
    "mobile": "app",
    "ios": "app",
    "android": "app",
    "pos": "store",
    "shop": "store",
    "retail": "store",
    "call": "phone",
    "callcenter": "phone",
    "call_center": "phone",
    "mail": "email",
    "e-mail": "email",
    "whatsapp": "chat",
    "messenger": "chat",
}

# Libraries whose name tells the channel (the official Segment and RudderStack SDKs).
_WEB_LIBRARIES = ("analytics.js", "analytics-next", "analytics-node-next", "rudder-analytics.js")
_APP_LIBRARIES = (
    "analytics-ios",
    "analytics-android",
    "analytics-kotlin",
    "analytics-swift",
    "analytics-react-native",
    "analytics-flutter",
    "rudder-ios",
    "rudder-android",
    "rudderstack-android",
    "rudder-react-native",
    "rudder-flutter",
)


def _known(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    lowered = value.strip().lower()
    if lowered in CHANNELS:
        return lowered
    return _SYNONYMS.get(lowered)


def infer_channel(message_type: str, context: dict[str, Any] | None, top_level: Any) -> str | None:
    """The channel of one message, or None when nothing tells it.

    Order: `context.channel`, then Segment's top-level `channel`, then the library name, then
    the shape of the message (a `screen` is an app, a `page` or a browser user agent is web).
    """
    ctx = context or {}
    found = _known(ctx.get("channel")) or _known(top_level)
    if found:
        return found
    library = ctx.get("library")
    name = library.get("name") if isinstance(library, dict) else None
    if isinstance(name, str):
        lowered = name.lower()
        if lowered.startswith(_WEB_LIBRARIES):
            return "web"
        if lowered.startswith(_APP_LIBRARIES):
            return "app"
    if (
        message_type == "screen"
        or isinstance(ctx.get("app"), dict)
        or (isinstance(ctx.get("os"), dict) and ctx.get("device"))
    ):
        return "app"
    if message_type == "page" or isinstance(ctx.get("page"), dict) or ctx.get("userAgent"):
        return "web"
    return None
