"""Logins are limited per user, per address and in parallel: unit rules on a fake clock, then
an attacker guessing over HTTP against the real server with a real user."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

import empreinte
from conftest import Keys, ServerProcess
from empreinte.errors import AuthError, ConfigError, TooManyAttempts
from empreinte.privacy.login_throttle import LoginThrottle
from empreinte.privacy.users import Users


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def fail(throttle: LoginThrottle, user: str, address: str) -> None:
    with pytest.raises(AuthError), throttle.attempt(user, address):
        raise AuthError("wrong username or password")


def test_a_user_is_locked_after_five_failures_until_the_oldest_leaves_the_window() -> None:
    clock = Clock()
    throttle = LoginThrottle(per_user=5, per_address=100, window=900, clock=clock)
    for i in range(5):
        fail(throttle, "ada", f"10.0.0.{i}")  # from five addresses: still one account
        clock.now += 10
    with pytest.raises(TooManyAttempts) as refused, throttle.attempt("ada", "10.0.1.1"):
        pytest.fail("the check must not run while the account is locked")
    # The first failure was at 1000, so the lock lasts until 1900; it is now 1050.
    assert refused.value.retry_after == 850
    assert refused.value.status == 429 and refused.value.headers() == {"Retry-After": "850"}
    with throttle.attempt("grace", "10.0.1.1"):  # another account is not locked
        pass
    clock.now = 1_900.0
    with throttle.attempt("ada", "10.0.1.1"):  # the oldest failure left the window
        pass


def test_a_success_clears_the_users_failures_but_not_the_addresses() -> None:
    clock = Clock()
    throttle = LoginThrottle(per_user=3, per_address=4, window=900, clock=clock)
    fail(throttle, "ada", "10.0.0.1")
    fail(throttle, "ada", "10.0.0.1")
    with throttle.attempt("ada", "10.0.0.1"):
        pass
    fail(throttle, "ada", "10.0.0.1")
    fail(throttle, "ada", "10.0.0.1")  # two since the success: the user is not locked
    # …but the address has four failures, whoever it tries next.
    with pytest.raises(TooManyAttempts), throttle.attempt("someone-else", "10.0.0.1"):
        pass


def test_checks_at_once_are_bounded_and_refused_without_waiting() -> None:
    throttle = LoginThrottle(concurrent=2)
    inside, release = threading.Barrier(3), threading.Event()

    def slow_check(name: str) -> None:
        with throttle.attempt(name, name):
            inside.wait()
            release.wait(10)

    threads = [threading.Thread(target=slow_check, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    inside.wait()  # two checks are running
    with pytest.raises(TooManyAttempts) as refused, throttle.attempt("c", "c"):
        pass
    assert refused.value.retry_after == 1
    release.set()
    for thread in threads:
        thread.join()
    with throttle.attempt("c", "c"):  # the slots came back
        pass


def test_random_usernames_cannot_fill_memory() -> None:
    throttle = LoginThrottle(per_user=1, per_address=10**9, max_tracked=100)
    for i in range(1_000):
        fail(throttle, f"user-{i}", "10.0.0.1")
    # Only the most recent 100 are remembered: the first is unlocked again, the last is not.
    with throttle.attempt("user-0", "10.0.0.1"):
        pass
    with pytest.raises(TooManyAttempts), throttle.attempt("user-999", "10.0.0.1"):
        pass
    # A long username is kept as its first 200 characters.
    fail(throttle, "u" * 200 + "first tail", "10.0.0.1")
    with pytest.raises(TooManyAttempts), throttle.attempt("u" * 200 + "other tail", "x"):
        pass


def test_guessing_a_password_over_http_is_stopped_and_the_lock_shows(
    workspace: Keys, start_server: Callable[[Keys], ServerProcess]
) -> None:
    with empreinte.open(workspace.path) as ws:
        Users.for_workspace(workspace.path, ws.privacy_store).create(
            "ada", "correct horse battery staple", "admin"
        )
    server = start_server(workspace)
    with httpx.Client(base_url=server.url, timeout=60) as http:

        def login(password: str) -> httpx.Response:
            return http.post("/api/login", json={"username": "ada", "password": password})

        assert [login(f"guess-{i}").status_code for i in range(5)] == [401] * 5
        locked = login("correct horse battery staple")  # even the right one, while locked
        assert locked.status_code == 429, locked.text
        assert locked.json()["code"] == "too_many_attempts"
        assert 800 < int(locked.headers["Retry-After"]) <= 900
        other = http.post("/api/login", json={"username": "grace", "password": "x"})
        assert other.status_code == 401  # another account is not locked


def test_the_limits_are_read_from_the_workspace_settings(tmp_path: Path) -> None:
    (tmp_path / "empreinte.toml").write_text("[logins]\nper_user = 2\nwindow_minutes = 1\n")
    with empreinte.open(tmp_path) as ws:
        throttle = LoginThrottle.from_mapping(ws.config.logins)
    fail(throttle, "ada", "a")
    fail(throttle, "ada", "b")
    with pytest.raises(TooManyAttempts) as refused, throttle.attempt("ada", "c"):
        pass
    assert refused.value.retry_after <= 60
    (tmp_path / "empreinte.toml").write_text("[logins]\nper_user = 0\n")
    with pytest.raises(ConfigError, match=r"\[logins\] per_user must be a whole number"):
        empreinte.open(tmp_path)
