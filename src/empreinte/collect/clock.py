"""An event's time on our clock: Segment's clock-skew correction, bounded.

The device's clock may be wrong, but the interval between a message's `timestamp` and its
`sentAt` (both on that clock) is right, so Segment anchors that interval on the server's
clock: `timestamp = receivedAt - (sentAt - timestamp)`. An absurd `sentAt` would then put the
event in 2150. So the interval is trusted only when it is a real one, from -1 minute (sent a
little "before" it happened: rounding) to 30 days (longer than clients keep a queue), and an
event time more than a minute after receipt is brought back to receipt. What was not trusted
is said in the event's context (`CLOCK_SKEW_FLAG`), which the log keeps.
"""

from __future__ import annotations

_MINUTE = 60 * 1_000_000
MAX_SEND_DELAY = 30 * 24 * 60 * _MINUTE
SKEW_TOLERANCE = _MINUTE
CLOCK_SKEW_FLAG = "clockSkew"  # in context: "sentAt ignored" or "clamped to receivedAt"


def event_time(
    original: int | None, sent_at: int | None, received_at: int
) -> tuple[int, str | None]:
    """The event's time (microseconds since the epoch) and the flag saying what was not
    trusted, from its `timestamp`, `sentAt` and `receivedAt`: an impossible interval is not
    applied (`"sentAt ignored"`: the device's timestamp is kept), and a time after receipt
    becomes receipt (`"clamped to receivedAt"`)."""
    if original is None:
        return received_at, None
    flag = None
    if sent_at is None:
        timestamp = original
    elif -SKEW_TOLERANCE <= sent_at - original <= MAX_SEND_DELAY:
        timestamp = received_at - (sent_at - original)
    else:
        timestamp, flag = original, "sentAt ignored"
    if timestamp > received_at + SKEW_TOLERANCE:
        timestamp, flag = received_at, "clamped to receivedAt"
    return timestamp, flag
