"""The `context` object of each channel, as the real clients would fill it.

Web messages come from analytics.js (user agent, page), app messages from the Segment mobile
SDKs (device, os, app), and the brand's own systems (tills, call centre, e-mail and SMS
providers, chat, voice assistant) send server-side with a library of their own name.
"""

from __future__ import annotations

from typing import Any

from empreinte.demo.people import Device

SITES = {"FR": "https://www.empreinte.example/fr", "US": "https://www.empreinte.example/us"}

_LIBRARIES: dict[str, tuple[str, str]] = {
    "web": ("analytics.js", "next-1.72.0"),
    "ios": ("analytics-ios", "4.1.8"),
    "android": ("analytics-android", "4.11.3"),
    "store": ("empreinte-pos", "3.4.1"),
    "phone": ("empreinte-callcenter", "1.4.2"),
    "email": ("empreinte-esp", "2.0.1"),
    "sms": ("empreinte-sms", "1.2.0"),
    "chat": ("empreinte-chat", "1.0.3"),
    "social": ("empreinte-social", "0.9.0"),
    "voice": ("empreinte-voice", "0.4.1"),
}

# Outgoing line of the call centre: callbacks show it instead of the customer's number, so a
# naive "same phone, same person" rule would merge everyone who was ever called back.
CALL_CENTRE_NUMBERS = {"FR": "+33170363636", "US": "+18885550100"}

# Crawlers seen in real web logs; they run analytics.js like a browser, never log in.
BOT_AGENTS = (
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, "
    "like Gecko) Chrome/131.0.6778.69 Mobile Safari/537.36 (compatible; Googlebot/2.1; "
    "+http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; "
    "+https://openai.com/gptbot)",
)


def library(key: str) -> dict[str, str]:
    """The `context.library` of a channel ("web", "ios", "android", "store", "phone"…)."""
    name, version = _LIBRARIES[key]
    return {"name": name, "version": version}


def server_context(channel: str, locale: str) -> dict[str, Any]:
    """Context of a message sent by one of the brand's own systems."""
    return {"channel": channel, "library": library(channel), "locale": locale}


def web_context(
    device: Device, locale: str, page: dict[str, str], channel: str = "web"
) -> dict[str, Any]:
    """Context of an analytics.js message; `channel` is "chat" for the chat widget."""
    return {
        "channel": channel,
        "library": library("web"),
        "locale": locale,
        "userAgent": device.user_agent,
        "page": page,
    }


def app_context(device: Device, locale: str, channel: str = "app") -> dict[str, Any]:
    """Context of a mobile SDK message; `channel` is "push" or "store" for those touchpoints."""
    return {
        "channel": channel,
        "library": library(device.device_type),
        "locale": locale,
        "device": {
            "id": device.device_id,
            "type": device.device_type,
            "manufacturer": device.manufacturer,
            "model": device.model,
        },
        "os": {"name": device.os[0], "version": device.os[1]},
        "app": {
            "name": "Empreinte",
            "version": "5.3.0",
            "build": "5300",
            "namespace": "example.empreinte.shop",
        },
    }


def spoken_phone(e164: str, style: int) -> str:
    """`e164` written the way a call-centre agent or telephony system might (style 0–4)."""
    if e164.startswith("+33"):
        national = "0" + e164[3:]
        pairs = " ".join(national[i : i + 2] for i in range(0, 10, 2))
        return (
            f"+33 {e164[3]} " + " ".join(e164[i : i + 2] for i in range(4, 12, 2)),
            pairs,
            e164,
            national,
            pairs.replace(" ", "."),
        )[style % 5]
    area, exchange, line = e164[2:5], e164[5:8], e164[8:]
    return (
        f"({area}) {exchange}-{line}",
        f"+1 {area}-{exchange}-{line}",
        e164,
        f"{area}.{exchange}.{line}",
        f"{area}{exchange}{line}",
    )[style % 5]
