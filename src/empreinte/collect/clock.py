"""An event's time on our clock: Segment's clock-skew correction, bounded.

The device's clock may be wrong, but the interval between a message's `timestamp` and its
`sentAt` (both on that clock) is right, so Segment anchors that interval on the server's
clock: `timestamp = receivedAt - (sentAt - timestamp)`. An absurd `sentAt` would then put the
event in 2150 (a `sentAt` before the `timestamp`) or decades back. So the interval is trusted
only when it is a real one: from -1 minute (sent a little "before" it happened: rounding) to
30 days (longer than clients keep a queue). Otherwise the device's own `timestamp` is kept, as
for a message without `sentAt`, and the event's context says so (`CLOCK_SKEW_FLAG`), which
the log keeps.
"""

from __future__ import annotations

_MINUTE = 60 * 1_000_000
MAX_SEND_DELAY = 30 * 24 * 60 * _MINUTE
SKEW_TOLERANCE = _MINUTE
CLOCK_SKEW_FLAG = "clockSkew"  # in context: "sentAt ignored"


def event_time(
    original: int | None, sent_at: int | None, received_at: int
) -> tuple[int, str | None]:
    """The event's time (microseconds since the epoch) from its `timestamp`, `sentAt` and
    `receivedAt`, and `"sentAt ignored"` when the interval was not a real one."""
    if original is None:
        return received_at, None
    if sent_at is None:
        return original, None
    if -SKEW_TOLERANCE <= sent_at - original <= MAX_SEND_DELAY:
        return received_at - (sent_at - original), None
    return original, "sentAt ignored"
