"""Erasure on every collector: a person erased on one collector leaves the others' own logs
too (not only the published one), and every collector refuses them at its door afterwards.

The other collectors hear of it through the notice the erasure leaves in the published log
(suppression hashes only) and make it their own at their next round (`adopt_published`).
"""

from __future__ import annotations

from pathlib import Path

import empreinte
from empreinte.privacy import erasure
from empreinte.privacy.pseudonym import Pseudonymiser
from empreinte.publish.erasure import NOTICES
from empreinte.publish.log import PublishedLog
from empreinte.store.privacy_store import ERASED
from empreinte.store.spark.published import PREFIX
from empreinte.workspace import EXPORTS_DIR

from .test_erasure import EMAIL, USER, collectors, every_file_text, jane_on, msg, others_on


def test_a_person_erased_on_one_collector_is_erased_on_the_others(tmp_path: Path) -> None:
    root = tmp_path / "published"
    a, b = collectors(tmp_path, str(root))
    with a, b:
        jane_on(a, "web-jane-a")
        jane_on(b, "web-jane-b")  # her own anonymous id on b: a never saw it
        others_on(b, "pb", 5)  # Bob on b names Jane's e-mail: shared, scrubbed not erased
        for ws in (a, b):
            ws.published.run(publish=True)
        assert b.events(anonymous_id="web-jane-b")

        profile = a.profiles.find("email", EMAIL)
        assert profile is not None
        erasure.erase(a, profile, "dpo")
        (notice,) = (root / NOTICES).iterdir()
        text = notice.read_text()
        assert EMAIL.lower() not in text and USER not in text  # hashes only

        assert erasure.adopt_published(a) == []  # its own notice
        adopted = erasure.adopt_published(b)
        assert len(adopted) == 1 and adopted[0].counts["events"] == 3
        assert erasure.adopt_published(b) == []  # once
        # b's own log forgets her, her anonymous id there included; Bob stays, scrubbed.
        assert not b.events(user_id=USER) and not b.events(anonymous_id="web-jane-b")
        (bob,) = b.events(user_id="pb-bob")
        assert bob["traits"]["referrer_email"] == ERASED
        audit = b.privacy_store.erasures()
        assert any("collector a" in str(entry.get("actor")) for entry in audit), audit
        # Her later events are refused at b's door, as at a's.
        assert b.ingest([msg(type="identify", userId=USER, traits={"email": EMAIL})]).stored == 0
        assert a.ingest([msg(type="identify", userId=USER, traits={"email": EMAIL})]).stored == 0
        # a hears of b's erasure in turn, which finds nothing more of her there.
        assert [r.counts.get("events", 0) for r in erasure.adopt_published(a)] == []
        for ws in (a, b):
            ws.published.run(publish=True)

    pseudonym = Pseudonymiser.for_workspace(tmp_path / "a").pseudonym("email", EMAIL.lower())
    for path, text in every_file_text(root):
        for needle in (pseudonym, USER, "web-jane-b", "web-jane-a"):
            assert needle not in text, (needle, path)
    rows = PublishedLog(str(root)).read().to_pylist()
    assert sorted(r["user_id"] for r in rows if r["user_id"]) == sorted(
        [f"pb-{i}" for i in range(5)] + ["pb-bob"]
    )


def test_a_notice_for_someone_a_collector_never_saw_closes_its_door(tmp_path: Path) -> None:
    root = tmp_path / "published"
    a, b = collectors(tmp_path, str(root))
    with a, b:
        jane_on(a, "web-jane-a")
        a.published.run(publish=True)
        # A snapshot of the published log b's reports read (store/spark/published.py): it
        # copies Jane's published rows, so it goes with the erasure even on b.
        snapshot = b.path / EXPORTS_DIR / f"{PREFIX}000000000001-0123456789abcdef"
        snapshot.mkdir(parents=True)
        erasure.erase(a, a.profiles.find("userId", USER) or "", "dpo")
        assert snapshot.exists()  # not adopted yet
        assert erasure.adopt_published(b) == []  # nobody to erase on b
        assert not snapshot.exists()
        assert b.privacy_store.suppressed_hashes() >= a.privacy_store.suppressed_hashes()
        stored = b.ingest(
            [
                msg(type="identify", userId=USER, anonymousId="new-device"),
                msg(type="identify", userId="someone-else", traits={"email": "x@example.org"}),
            ]
        )
        assert stored.stored == 1
    # Reopened: the suppression lasts (it is stored, not only in memory).
    with empreinte.open(tmp_path / "b") as b:
        assert b.ingest([msg(type="track", userId=USER, event="Back")]).stored == 0
