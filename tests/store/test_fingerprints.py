"""The dedup window's fingerprints: the keys of a claim and the log's rows must agree.

The writer fingerprints the keys of each commit group (`Engine.message_fingerprints`); after a
restart the window is refilled from the log (`Engine.recent_messages`). Both must give the same
number for the same message, in the order of the keys, or a retry would be stored twice.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

import empreinte
from empreinte.store.records import message_key


def test_fingerprints_follow_the_keys_order_and_match_the_log(tmp_path: Path) -> None:
    messages = [
        {"type": "track", "event": "Step", "userId": f"u{n % 7}", "messageId": f"m-{n}"}
        for n in range(3_000)
    ]
    with empreinte.open(tmp_path / "ws") as ws:
        ws.ingest(messages, source="crm")
        engine = ws.engine
        from_log, _ = engine.recent_messages(datetime.now(UTC) - timedelta(days=1))
        keys = [message_key("crm", str(m["messageId"])) for m in messages]
        assert np.array_equal(engine.message_fingerprints(keys), from_log)
        # Reversed and far more keys than a vector: each fingerprint stays beside its key.
        many = [f"k{n}" for n in range(300_000)][::-1]
        fingerprints = engine.message_fingerprints(many)
        some = list(range(0, len(many), 9_973))
        one_by_one = [
            engine.cursor().execute("SELECT hash(?)", [many[i]]).fetchall()[0][0] for i in some
        ]
        assert fingerprints[some].tolist() == one_by_one
        assert len(set(fingerprints.tolist())) == len(many)
