"""Every store keeps a cursor per thread. A method that streams its rows must not read them
from that shared cursor: the caller's other calls on the same thread, between two rows, would
replace the rows not yet fetched (silently: the stream ends early) or fail."""

from __future__ import annotations

from pathlib import Path

import pytest

import empreinte
from empreinte.demo import generate
from empreinte.store.duckdb import identity_store


def test_streams_survive_every_other_call_on_their_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(identity_store, "STREAM_CHUNK", 1)  # one row per fetch
    with empreinte.open(tmp_path / "ws") as ws:
        ws.ingest(generate(200))
        ws.identity.sync()
        identities = ws.engine.identity_store()
        privacy = ws.privacy_store
        profiles = ws.engine.profile_store()
        ownership = ws.profiles.ownership()
        expected = list(identities.conflict_event_identifiers())
        traits = list(profiles.trait_events(ownership))
        assert len(expected) > 10 and len(traits) > 10

        def everything_else(key: str) -> None:
            identities.read_state()
            identities.overrides()
            identities.max_seq()
            identities.identity(key)
            identities.conflicts_for([key], [])
            privacy.user("nobody")
            privacy.users()
            privacy.profile_ids()
            privacy.erasures()
            privacy.suppressed_counts()
            profiles.conflict_total()
            ws.engine.max_seq()

        got = []
        for keys in identities.conflict_event_identifiers():
            if len(got) < 5:  # a row at a time: other calls between the first rows suffice
                everything_else(keys[0])
            got.append(keys)
        assert got == expected
        streamed = []
        for row in profiles.trait_events(ownership, chunk=1):
            if len(streamed) < 5:
                everything_else("user_id:nobody")
            streamed.append(row)
        assert streamed == traits
