"""Personal data leaves the payloads at ingestion and comes back only from the vault."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from empreinte.collect.validate import normalise, now_micros
from empreinte.privacy.pii import IngestPolicy, rehydrate, split
from empreinte.privacy.pseudonym import Pseudonymiser

POLICY = IngestPolicy(Pseudonymiser(b"test-key-" * 4), default_region="FR")


def run(**fields: Any):  # type: ignore[no-untyped-def]
    base: dict[str, Any] = {
        "kind": "identify",
        "user_id": None,
        "anonymous_id": None,
        "previous_id": None,
        "traits": None,
        "properties": None,
        "context": None,
        "channel": None,
    }
    return split(**{**base, **fields}, policy=POLICY)


def test_raw_values_leave_the_payload_and_the_same_person_gets_the_same_keys() -> None:
    web = run(
        user_id="u-1",
        traits={
            "email": " Jane.Doe@Example.com ",
            "first_name": "Jane",
            "birth_year": 1990,
            "address": {"street": "3 rue Oberkampf", "city": "Paris", "country": "FR"},
        },
        context={"ip": "203.0.113.9", "locale": "fr-FR"},
    )
    text = orjson.dumps([web.traits, web.context]).decode()
    for raw in ("Jane.Doe", "jane.doe", "Jane", "Oberkampf", "203.0.113.9"):
        assert raw not in text
    assert (
        web.traits and web.traits["birth_year"] == 1990 and web.traits["address"]["city"] == "Paris"
    )
    store = run(
        kind="track",
        channel="phone",
        properties={"caller_number": "06 12 34 56 78"},
        context={"traits": {"email": "jane.doe@example.com"}, "locale": "fr-FR"},
    )
    phone = run(traits={"phone": "+33 6 12 34 56 78"})
    assert web.identifiers and store.identifiers and phone.identifiers
    email_key = next(k for k in web.identifiers if k.startswith("email:"))
    assert email_key in store.identifiers  # case and spaces do not matter
    phone_key = next(k for k in phone.identifiers if k.startswith("phone:"))
    assert phone_key in store.identifiers  # national and international formats agree
    assert "user_id:u-1" in web.identifiers


def test_invalid_identifiers_are_kept_as_traits_but_never_linked() -> None:
    out = run(anonymous_id="a-1", traits={"email": "not-an-email", "phone": "12"})
    assert out.identifiers == ["anonymous_id:a-1"]
    assert out.vault == {"traits.email": "not-an-email", "traits.phone": "12"}


def test_a_group_name_is_a_company_not_a_person() -> None:
    out = run(kind="group", user_id="u", traits={"name": "ACME", "email": "ceo@acme.test"})
    assert out.traits and out.traits["name"] == "ACME" and out.traits["email"].startswith("pii_")


def test_pseudonyms_depend_on_the_workspace_key() -> None:
    other = IngestPolicy(Pseudonymiser(b"another-key-" * 3))
    mine = run(traits={"email": "a@b.example"})
    theirs = split(
        kind="identify",
        user_id=None,
        anonymous_id="x",
        previous_id=None,
        traits={"email": "a@b.example"},
        properties=None,
        context=None,
        channel=None,
        policy=other,
    )
    assert mine.traits and theirs.traits and mine.traits["email"] != theirs.traits["email"]


values = st.one_of(
    st.text(min_size=1, max_size=12), st.integers(-(2**63), 2**63 - 1), st.booleans()
)


@given(
    traits=st.dictionaries(
        st.sampled_from(["email", "phone", "first_name", "last_name", "plan", "birth_year"]),
        values,
        max_size=6,
    ),
    ctx_traits=st.dictionaries(st.sampled_from(["email", "name", "tier"]), values, max_size=3),
    ip=st.one_of(st.none(), st.ip_addresses().map(str)),
)
def test_rehydrate_restores_exactly_what_was_sent(
    traits: dict[str, Any], ctx_traits: dict[str, Any], ip: str | None
) -> None:
    context: dict[str, Any] = {"traits": ctx_traits}
    if ip:
        context["ip"] = ip
    out = run(anonymous_id="a", traits=traits, context=context)
    record = {"traits": out.traits, "context": out.context, "properties": None, "pii": out.vault}
    back = rehydrate(record)
    assert back["traits"] == traits and back["context"] == context


def test_the_fast_path_gives_the_keys_the_general_extraction_gives() -> None:
    """Messages without personal data skip `extract`; they must not get other keys."""
    import itertools

    from empreinte.collect.channels import infer_channel
    from empreinte.demo import generate
    from empreinte.privacy.pii import extract, identifier_key

    for message in itertools.islice(generate(people=150, months=6, seed=3), 5_000):
        kind = message["type"]
        context = message.get("context")
        properties = message.get("properties") if kind in ("track", "page", "screen") else None
        traits = message.get("traits") if kind in ("identify", "group") else None
        channel = infer_channel(kind, context, None)
        ids = {
            "user_id": message.get("userId"),
            "anonymous_id": message.get("anonymousId"),
            "previous_id": message.get("previousId"),
        }
        fast = run(
            **ids, kind=kind, traits=traits, properties=properties, context=context, channel=channel
        )
        general = extract(
            **ids,
            traits=traits,
            properties=properties,
            context=context,
            channel=channel,
            default_region="FR",
        )
        keys = sorted(identifier_key(i, POLICY.pseudonymiser) for i in general if i.valid)
        assert fast.identifiers == (keys or None), message


def test_personal_data_in_a_comment_is_redacted_and_the_text_as_written_kept_nowhere() -> None:
    written = "Livreur injoignable, rappelez-moi au 06 12 34 56 78 ou jane@example.com"
    message = {
        "type": "track",
        "event": "NPS Answered",
        "userId": "u-1",
        "properties": {"score": 3, "comment": written, "feedback": "ok", "survey_id": "nps"},
    }
    row = normalise(message, source="web", received_at=now_micros(), policy=POLICY)
    assert orjson.loads(row.properties) == {
        "score": 3,
        "comment": "Livreur injoignable, rappelez-moi au <PHONE> ou <EMAIL>",
        "feedback": "ok",  # nothing personal: left as written
        "survey_id": "nps",
    }
    # Not opted in to originals: the text as written is in no vault (voc/originals.py).
    assert row.pii is None
    # the identifiers are the message's, not the numbers quoted in its text
    assert row.identifiers == ["user_id:u-1"]
    # split alone leaves a free text as it is given (already redacted) and out of the vault
    plain = run(kind="track", properties={"comment": "Très bien", "score": 10})
    assert plain.vault is None and plain.properties == {"comment": "Très bien", "score": 10}
