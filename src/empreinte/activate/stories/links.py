"""Share links: a public URL per story that names neither the person nor their profile id.

A link is a random id (96 bits, stored with the profile and year it shows) and the token in
the URL is that id and an HMAC-SHA256 of it under a workspace secret (`story-links.key`,
created beside the database with owner-only permissions). A token is checked in constant
time before any look-up, so a forged or altered one costs no database read and answers as an
unknown one does (404). Consent is checked again at every view (`Stories.shared`): the link
stops working as soon as the person withdraws `personalisation` or is erased.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_FILE = "story-links.key"
_ID_BYTES = 12
_MAC_BYTES = 16


def link_key(directory: Path) -> bytes:
    """The workspace's link-signing key, made on first use (owner-only)."""
    path = directory / KEY_FILE
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_bytes()
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(32))
            handle.flush()
            os.fsync(handle.fileno())
    return path.read_bytes()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def new_link_id() -> str:
    return _b64(secrets.token_bytes(_ID_BYTES))


def _mac(key: bytes, link_id: str) -> str:
    digest = hmac.new(key, b"story-link:" + link_id.encode(), hashlib.sha256).digest()
    return _b64(digest[:_MAC_BYTES])


def token_of(key: bytes, link_id: str) -> str:
    return f"{link_id}.{_mac(key, link_id)}"


def link_id_of(key: bytes, token: str) -> str | None:
    """The link id a token carries when its signature is right, else None."""
    if len(token) > 64 or token.count(".") != 1:
        return None
    link_id, mac = token.split(".")
    if not link_id or not hmac.compare_digest(mac.encode(), _mac(key, link_id).encode()):
        return None
    return link_id
