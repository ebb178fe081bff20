"""Erasure reaches the published Parquet log: every published and staged file, from every
collector, searched afterwards for the person's identifiers and pseudonyms."""

from __future__ import annotations

import secrets
import uuid
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

import empreinte
from empreinte.privacy import erasure
from empreinte.privacy.pseudonym import Pseudonymiser
from empreinte.publish.log import Manifest, PublishedLog
from empreinte.publish.publisher import Publisher
from empreinte.store.privacy_store import ERASED
from empreinte.workspace import Workspace

EMAIL = "Jane.Doe@Example.com"
PHONE = "+33 6 12 34 56 78"
USER = "jane-9f3a"


def collectors(tmp_path: Path, url: str) -> list[Workspace]:
    key = secrets.token_bytes(32)
    out = []
    for name in ("a", "b"):
        directory = tmp_path / name
        directory.mkdir()
        (directory / "pseudonym.key").write_bytes(key)
        (directory / "empreinte.toml").write_text(
            f'[publish]\nurl = "{url}"\ncollector_id = "{name}"\n'
        )
        out.append(empreinte.open(directory))
    return out


def msg(**fields: Any) -> dict[str, Any]:
    return {"messageId": str(uuid.uuid4()), **fields}


def jane_on(ws: Workspace, anonymous: str) -> None:
    report = ws.ingest(
        [
            msg(type="page", anonymousId=anonymous, name="Home"),
            msg(
                type="identify",
                anonymousId=anonymous,
                userId=USER,
                traits={"email": EMAIL, "phone": PHONE, "first_name": "Jane"},
            ),
            msg(
                type="track",
                userId=USER,
                event="Order Completed",
                properties={"revenue": 20},
                context={"traits": {"email": EMAIL.upper()}},
            ),
        ]
    )
    assert report.stored == 3, report


def others_on(ws: Workspace, prefix: str, n: int) -> list[str]:
    messages = [
        msg(type="track", userId=f"{prefix}-{i}", event="Item Viewed", properties={"i": i})
        for i in range(n)
    ]
    # Bob's event names Jane's e-mail: a shared personal identifier, scrubbed, not deleted.
    messages.append(
        msg(
            type="identify",
            userId=f"{prefix}-bob",
            traits={"email": f"{prefix}-bob@example.com", "referrer_email": EMAIL},
        )
    )
    assert ws.ingest(messages).stored == n + 1
    return [m["messageId"] for m in messages]


def every_file_text(root: Path) -> list[tuple[Path, str]]:
    """Every Parquet file under the log (published, staged, orphans), as the text of all its
    values, and every other file's bytes."""
    out = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.suffix == ".parquet":
            out.append((path, str(pq.read_table(path).to_pylist())))
        else:
            out.append((path, path.read_bytes().decode("utf-8", "replace")))
    return out


def test_an_erasure_reaches_every_published_and_staged_file(tmp_path: Path) -> None:
    root = tmp_path / "published"
    a, b = collectors(tmp_path, str(root))
    with a, b:
        jane_on(a, "web-jane-a")
        jane_on(b, "web-jane-b")
        kept_a = others_on(a, "pa", 20)
        kept_b = others_on(b, "pb", 15)
        assert a.published.run(publish=True).published is not None
        b.published.run(publish=True)
        # More of b's events, staged but not yet published, some of them Jane's.
        jane_on(b, "web-jane-b2")
        later_b = others_on(b, "pc", 5)
        b_pages = [e["message_id"] for e in b.events(type="page")]
        b.published.run(publish=False)
        log = PublishedLog(str(root))
        pseudonym = Pseudonymiser.for_workspace(tmp_path / "a")
        email_pseudonym = pseudonym.pseudonym("email", EMAIL.lower())
        phone_pseudonym = pseudonym.pseudonym("phone", "+33612345678")
        before = [text for _, text in every_file_text(root)]
        assert any(email_pseudonym in text for text in before)
        assert any(phone_pseudonym in text for text in before)
        assert any(USER in text for text in before)
        assert log.segments(), "b's later events are staged"

        profile = a.profiles.find("email", EMAIL)
        assert profile is not None
        report = erasure.erase(a, profile, "dpo")
        assert report.counts["events"] == 3
        # Jane comes back through b, whose suppression list does not know her: the events
        # carrying her identifiers are dropped at publication (the manifest's hashes).
        jane_on(b, "web-jane-b3")
        b_pages += [e["message_id"] for e in b.events(type="page", anonymous_id="web-jane-b3")]
        b.published.run(publish=True)
        assert PublishedLog(str(root)).manifest().erased_dropped == 2

    texts = every_file_text(root)
    raw_phone_digits = "612345678"
    for path, text in texts:
        for needle in (
            email_pseudonym,
            phone_pseudonym,
            EMAIL,
            EMAIL.lower(),
            USER,
            raw_phone_digits,
        ):
            assert needle not in text, (needle, path)
    assert not (tmp_path / "a" / "publish-erasures").exists() or not list(
        (tmp_path / "a" / "publish-erasures").iterdir()
    )
    manifest = log.manifest()
    assert report.erasure_id in manifest.erasures
    versions = [Manifest.from_json(p.read_bytes()) for p in (root / "_manifest").iterdir()]
    (erasing,) = [v for v in versions if v.erasure == report.erasure_id]
    assert erasing.removed and erasing.added
    # Everyone else stays, exactly: published, and b's staged events once published.
    Publisher(log).publish()
    ids = log.read().column("message_id").to_pylist()
    # b's page views under its own anonymous ids carry nothing a knows of Jane, nor anything
    # personal: they stay until b erases her too (docs/publish.md).
    assert sorted(ids) == sorted(kept_a + kept_b + later_b + b_pages)
    bobs = [r for r in log.read().to_pylist() if r["user_id"] in ("pa-bob", "pb-bob", "pc-bob")]
    assert len(bobs) == 3 and all(f'"referrer_email":"{ERASED}"' in r["traits"] for r in bobs)
    assert all(r["user_id"].endswith("-bob") for r in bobs)
    # Every file under events/ is one the manifest lists: the old versions are gone.
    assert sorted(str(p.relative_to(root)) for p in (root / "events").rglob("*.parquet")) == (
        sorted(log.manifest().files)
    )


def test_an_erasure_the_store_missed_is_applied_at_the_next_round(tmp_path: Path) -> None:
    url = f"memory://erasure-{secrets.token_hex(6)}"
    (a, b) = collectors(tmp_path, url)
    b.close()
    with a:
        jane_on(a, "web-jane")
        kept = others_on(a, "p", 3)
        a.published.run(publish=True)
        published = a.published
        original = published.log()
        published._log = PublishedLog("memory://")  # type: ignore[assignment]

        def unreachable() -> None:
            raise OSError("the bucket is out of reach")

        published._log.manifest = unreachable  # type: ignore[method-assign]
        profile = a.profiles.find("email", EMAIL)
        assert profile is not None
        erasure.erase(a, profile, "dpo")  # the local erasure succeeds
        assert list((tmp_path / "a" / "publish-erasures").iterdir())
        published._log = original
        done = published.run(publish=True)
        assert len(done.erasures) == 1 and done.erasures[0].rows_removed == 3
    log = PublishedLog(url)
    assert sorted(log.read().column("message_id").to_pylist()) == sorted(kept)
    assert not list((tmp_path / "a" / "publish-erasures").iterdir())


def test_the_seqs_of_erased_last_events_are_never_given_again(tmp_path: Path) -> None:
    """The watermark counts the erased events' seqs as staged: a new event numbered like one
    of them would never be published. The log's numbering goes on after them instead."""
    url = str(tmp_path / "published")
    a, b = collectors(tmp_path, url)
    b.close()
    with a:
        kept = others_on(a, "p", 2)
        jane_on(a, "web-jane")  # the last three events
        a.published.run(publish=True)
        last = a.engine.max_seq()
        profile = a.profiles.find("email", EMAIL)
        assert profile is not None
        erasure.erase(a, profile, "dpo")
    with empreinte.open(tmp_path / "a") as again:  # a restart: the writer numbers anew
        assert again.engine.max_seq() == last
        later_messages = [msg(type="track", userId=f"q-{i}", event="E") for i in range(3)]
        assert again.ingest(later_messages).stored == 3
        later = [m["messageId"] for m in later_messages]
        again.published.run(publish=True)
    ids = PublishedLog(url).read().column("message_id").to_pylist()
    assert sorted(ids) == sorted(kept + later)
