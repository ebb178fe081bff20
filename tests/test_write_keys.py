"""Write keys are listed (digest, never the key), and revoked: refused from then on."""

from __future__ import annotations

from pathlib import Path

import pytest

import empreinte
from empreinte.credentials import key_digest
from empreinte.errors import AuthError, NotFound


def test_a_revoked_key_is_listed_as_such_and_refused(tmp_path: Path) -> None:
    ws = empreinte.open(tmp_path / "ws")
    try:
        first = ws.credentials.create_write_key("web")
        second = ws.credentials.create_write_key("web")
        listed = ws.credentials.write_key_list()
        assert {k.key_hash for k in listed} == {key_digest(first), key_digest(second)}
        assert [k.created_at for k in listed] == sorted(k.created_at for k in listed)
        assert all(first not in repr(k) and second not in repr(k) for k in listed)

        revoked = ws.credentials.revoke_write_key(key_digest(first))
        assert revoked.source == "web" and revoked.revoked_at is not None
        with pytest.raises(AuthError):
            ws.credentials.source_for(first)
        assert ws.credentials.source_for(second) == "web"  # the other key of the source works
        with pytest.raises(NotFound):
            ws.credentials.revoke_write_key(key_digest(first))  # already revoked
        for bad in ("", "zz", key_digest("never made"), "'; DROP TABLE write_keys; --"):
            with pytest.raises(NotFound):
                ws.credentials.revoke_write_key(bad)
        states = {k.key_hash: k.revoked_at is not None for k in ws.credentials.write_key_list()}
        assert states == {key_digest(first): True, key_digest(second): False}
    finally:
        ws.close()
    # The revocation is stored: a new process refuses the key too.
    again = empreinte.open(tmp_path / "ws")
    try:
        with pytest.raises(AuthError):
            again.credentials.source_for(first)
    finally:
        again.close()
