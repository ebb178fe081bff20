"""Failed logins are limited per user and per client address, and password checks at once.

A password check costs 64 MiB and tens of milliseconds of argon2 work on purpose; without
limits an attacker guesses passwords as fast as the server hashes, and parallel attempts
exhaust its memory and cores. So (OWASP's authentication guidance):

- a username with `per_user` failures within `window` seconds is locked until the oldest
  of them leaves the window, whatever the address (a guess at one account from many);
- an address with `per_address` failures within the window likewise (one address guessing
  at many accounts);
- a success clears the username's failures (not the address's);
- at most `concurrent` checks run at once; one more is refused at once, not queued.

Unknown usernames count like known ones, so the answers say nothing about who exists. The
tables of recent failures are bounded (`max_tracked` keys each, oldest forgotten first), so
random usernames cannot fill the server's memory.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from empreinte.errors import AuthError, ConfigError, TooManyAttempts

#: Characters of a username kept as its key (a longer one is no one's, and must not cost
#: memory).
_KEY_CHARS = 200


class _Failures:
    """Recent failure times per key, bounded in keys and, per key, in entries."""

    def __init__(self, limit: int, window: float, max_tracked: int):
        self._limit = limit
        self._window = window
        self._max_tracked = max_tracked
        self._times: OrderedDict[str, deque[float]] = OrderedDict()

    def wait(self, key: str, now: float) -> float:
        """Seconds before `key` may try again (0: now)."""
        times = self._times.get(key)
        if times is None:
            return 0.0
        while times and times[0] <= now - self._window:
            times.popleft()
        if len(times) < self._limit:
            return 0.0
        return times[0] + self._window - now

    def add(self, key: str, now: float) -> None:
        times = self._times.setdefault(key, deque(maxlen=self._limit))
        times.append(now)
        self._times.move_to_end(key)
        while len(self._times) > self._max_tracked:
            self._times.popitem(last=False)

    def clear(self, key: str) -> None:
        self._times.pop(key, None)


class LoginThrottle:
    """The limits on logins of one server (see the module docstring)."""

    def __init__(
        self,
        *,
        per_user: int = 5,
        per_address: int = 20,
        window: float = 900.0,
        concurrent: int = 2,
        max_tracked: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._users = _Failures(per_user, window, max_tracked)
        self._addresses = _Failures(per_address, window, max_tracked)
        self._checks = threading.BoundedSemaphore(concurrent)
        self._lock = threading.Lock()
        self._clock = clock

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any] | None) -> LoginThrottle:
        """From the `[logins]` section of `empreinte.toml` (defaults for what it leaves out)."""
        section = dict(section or {})
        known = {"per_user", "per_address", "window_minutes", "concurrent"}
        unknown = sorted(set(section) - known)
        if unknown:
            raise ConfigError(f"[logins]: unknown setting(s) {', '.join(unknown)}")
        for name, value in section.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"[logins] {name} must be a whole number of at least 1")
        return cls(
            per_user=section.get("per_user", 5),
            per_address=section.get("per_address", 20),
            window=60.0 * section.get("window_minutes", 15),
            concurrent=section.get("concurrent", 2),
        )

    @contextmanager
    def attempt(self, username: str, address: str) -> Iterator[None]:
        """Around one password check: refuses with `TooManyAttempts` (429, Retry-After)
        before any hashing when a limit is reached; records the outcome (an `AuthError` from
        the check is a failure)."""
        username = username[:_KEY_CHARS]
        with self._lock:
            now = self._clock()
            wait = max(self._users.wait(username, now), self._addresses.wait(address, now))
        if wait > 0:
            raise TooManyAttempts(
                "too many failed logins for this user or from this address; try again later",
                retry_after=math.ceil(wait),
            )
        if not self._checks.acquire(blocking=False):
            raise TooManyAttempts("too many logins at once; try again in a moment", 1)
        try:
            yield
        except AuthError:
            with self._lock:
                now = self._clock()
                self._users.add(username, now)
                self._addresses.add(address, now)
            raise
        else:
            with self._lock:
                self._users.clear(username)
        finally:
            self._checks.release()
