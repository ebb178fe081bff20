"""Webhook signatures, as Stripe and Segment sign theirs: HMAC-SHA256 of `{timestamp}.{body}`
with the destination's secret, in the header

    Empreinte-Signature: t=1764770000,v1=5f0c…(64 hex digits)

A receiver recomputes the HMAC over the timestamp it reads, a dot and the raw body bytes,
compares it with `v1` in constant time, and refuses a timestamp more than `tolerance` seconds
from its clock (a replayed request). `verify` below is that check, for receivers in Python.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "Empreinte-Signature"
TOLERANCE = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The header's value for `body` sent at `timestamp` (Unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(
    secret: str, header: str, body: bytes, *, now: float | None = None, tolerance: int = TOLERANCE
) -> bool:
    """Whether `header` signs `body` with `secret`, within `tolerance` seconds of `now`."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    stamp, given = parts.get("t", ""), parts.get("v1", "")
    if not stamp.isdigit() or len(stamp) > 12:
        return False
    if abs((time.time() if now is None else now) - int(stamp)) > tolerance:
        return False
    expected = signature(secret, int(stamp), body).rpartition("v1=")[2]
    return hmac.compare_digest(expected, given)
