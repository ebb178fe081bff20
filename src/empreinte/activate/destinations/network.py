"""Where a destination may send, and the one way it sends.

A URL is `http` or `https`, at most 2,048 characters, with a host and no user:password. When a
request goes out its host is resolved and every address must be public: loopback, private,
link-local (the cloud metadata service at 169.254.169.254), multicast, reserved and
unspecified addresses are refused unless `[destinations] allow_private_networks = true`
(an operator's receiver on their own network). Redirects are not followed (a 3xx is a failed
delivery: a receiver cannot bounce the data to another host), each request has a connect and
read timeout, and at most 4 KB of an answer is read (kept as the error when it fails).

What is left: a host whose DNS answer changes between the check and the connection (DNS
rebinding) could still reach a private address; pin receivers by address, or run the server
where private addresses hold nothing worth reaching.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from empreinte.errors import InvalidInput

if TYPE_CHECKING:
    import httpx

MAX_URL = 2048
MAX_ANSWER = 4096


def check_url(url: str, field: str = "url") -> str:
    """`url` if a destination may be given it; `InvalidInput` naming `field` otherwise."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL:
        raise InvalidInput(field, f"give an http(s) URL of at most {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidInput(field, f"{url!r} is not a URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidInput(field, f"{url!r}: only http and https URLs are accepted")
    if not parts.hostname:
        raise InvalidInput(field, f"{url!r} names no host")
    if parts.username or parts.password:
        raise InvalidInput(field, "put no user or password in the URL (the secret signs requests)")
    if port == 0:
        raise InvalidInput(field, f"{url!r}: port 0")
    return url


def check_host(url: str, allow_private: bool, field: str = "url") -> str:
    """`url`, unless it names a non-public address literally (an IP, `localhost`): refused at
    once, naming `field`; names are resolved, and checked again, at every request."""
    host = urlsplit(url).hostname or ""
    if allow_private:
        return url
    if host == "localhost" or host.endswith(".localhost"):
        raise InvalidInput(field, f"{host} is this machine ({_ALLOW})")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return url
    if not _public(host):
        raise InvalidInput(field, f"{host} is not a public address ({_ALLOW})")
    return url


_ALLOW = "set [destinations] allow_private_networks = true to allow it"


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def reachable(url: str, allow_private: bool) -> str | None:
    """Why `url` may not be sent to now (its host resolves to a non-public address, or not at
    all), or None when it may."""
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        return f"cannot resolve {host}: {exc}"
    if allow_private:
        return None
    for info in infos:
        address = str(info[4][0])
        if not _public(address):
            return (
                f"{host} resolves to {address}, a non-public address "
                "(set [destinations] allow_private_networks = true to allow it)"
            )
    return None


@dataclass(frozen=True)
class Outcome:
    """What one request did: delivered, or why not and whether trying again may help."""

    ok: bool
    error: str | None = None
    retryable: bool = True


def client(timeout: float) -> httpx.Client:
    """The HTTP client of one round: no redirects, no proxies from the environment."""
    import httpx

    return httpx.Client(
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": "empreinte-destinations/1"},
    )


def post(
    http: httpx.Client, url: str, body: bytes, headers: dict[str, str], allow_private: bool
) -> Outcome:
    """POST `body` to `url`; 2xx is delivered. A 4xx other than 408 and 429 is the request's
    fault: trying again cannot help (the delivery goes to the dead-letter queue at once)."""
    import httpx

    refused = reachable(url, allow_private)
    if refused:
        return Outcome(False, refused, retryable=True)
    try:
        with http.stream("POST", url, content=body, headers=headers) as answer:
            head = b""
            for chunk in answer.iter_bytes():
                head += chunk
                if len(head) >= MAX_ANSWER:
                    break
            status = answer.status_code
    except httpx.HTTPError as exc:
        return Outcome(False, f"{type(exc).__name__}: {exc}"[:500])
    if 200 <= status < 300:
        return Outcome(True)
    text = head[:MAX_ANSWER].decode("utf-8", "replace").strip()
    error = f"HTTP {status}" + (f": {text[:300]}" if text else "")
    if 300 <= status < 400:
        return Outcome(False, error + " (redirects are not followed)")
    permanent = 400 <= status < 500 and status not in (408, 425, 429)
    return Outcome(False, error, retryable=not permanent)
