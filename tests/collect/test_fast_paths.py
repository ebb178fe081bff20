"""The collector's fast paths decide exactly as the general code they skip.

Each shortcut taken for speed is compared, on generated messages, with the path it replaces
run on a fresh policy (whose caches are empty, so that nothing is skipped there).
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from empreinte.privacy import pii
from empreinte.privacy.pseudonym import Pseudonymiser

KEY = b"k" * 32

# Keys of every kind: personal by name (in any spelling), free text, the workspace's own
# personal key, plain ones, and made-up ones.
_KEYS = st.one_of(
    st.sampled_from(
        [
            "email",
            "Email_Address",
            "phone",
            "mobile",
            "comment",
            "feedback",
            "name",
            "first_name",
            "iban",
            "plan",
            "sku",
            "price",
            "purpose",
            "source",
            "ip",
            "address",
        ]
    ),
    st.text(max_size=12),
)
# Text values around the cheap checks: "@", 8 to 24 characters, phone characters.
_PHONE_TEXT = st.text(alphabet="+0123456789 ().-/", min_size=6, max_size=26)
_TEXT = st.one_of(
    st.text(max_size=30),
    _PHONE_TEXT,
    st.sampled_from(
        [
            "ada@example.com",
            "not an @ address",
            "@",
            "+33 6 12 34 56 78",
            "06 12 34 56 78",
            "0612345678",
            "(555) 123-4567",
            "2022-03-01",
            "marketing_email",
            "",
        ]
    ),
)
_VALUES = st.one_of(
    _TEXT,
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False),
    st.lists(_TEXT, max_size=2),
    st.dictionaries(st.sampled_from(["street", "city", "email"]), _TEXT, max_size=2),
)
_PROPERTIES = st.dictionaries(_KEYS, _VALUES, max_size=6)

# One policy for every example: its caches fill as a server's do.
_WARM = pii.IngestPolicy(Pseudonymiser(KEY), personal_keys=frozenset({"iban"}))


def _fresh() -> pii.IngestPolicy:
    return pii.IngestPolicy(Pseudonymiser(KEY), personal_keys=frozenset({"iban"}))


def _reference_scan(properties: dict[str, Any]) -> bool:
    """The property scan without its shortcut: every key's kind and value looked at."""
    fresh = _fresh()
    found = pii._personal(properties, False, fresh.default_region, fresh)
    return bool(found)  # free texts are redacted before the split (collect/text_redaction.py)


@settings(max_examples=400)
@given(_PROPERTIES)
def test_the_property_scan_agrees_with_the_full_one(properties: dict[str, Any]) -> None:
    pii._scan_properties(properties, _WARM)  # the keys are known from the second look on
    assert pii._scan_properties(properties, _WARM) == _reference_scan(properties)


@settings(max_examples=300)
@given(_PROPERTIES, st.sampled_from(["track", "page", "screen"]))
def test_a_split_with_warm_caches_equals_a_cold_one(properties: dict[str, Any], kind: str) -> None:
    def split(policy: pii.IngestPolicy) -> pii.Split:
        return pii.split(
            kind=kind,
            user_id="u1",
            anonymous_id="a1",
            previous_id=None,
            traits=None,
            properties=properties,
            context={"locale": "fr-FR"},
            channel="web",
            policy=policy,
        )

    split(_WARM)
    assert split(_WARM) == split(_fresh())


def test_the_scan_still_finds_personal_values_under_plain_keys() -> None:
    policy = _fresh()
    plain = {"plan": "gold", "sku": "A-1"}
    assert not pii._scan_properties(plain, policy)
    assert {"plan", "sku"} <= policy.plain_keys  # the next look takes the shortcut
    assert pii._scan_properties({"plan": "ada@example.com"}, policy)
    assert pii._scan_properties({"sku": "+33 6 12 34 56 78"}, policy)
    # A comment is redacted before the split (collect/text_redaction.py): not the scan's.
    assert not pii._scan_properties({"plan": "gold", "comment": "hi"}, policy)


def test_an_integer_beyond_64_bits_under_a_personal_key_is_refused_by_name() -> None:
    # It was pseudonymised as its JSON before the row was encoded: a TypeError, a 500.
    from empreinte.collect.http import _parse
    from empreinte.collect.workers import _Validator

    body = (
        b'{"batch": [{"type": "identify", "userId": "u",'
        b' "traits": {"ssn": 123456789012345678901}},'
        b' {"type": "track", "event": "E", "userId": "u",'
        b' "properties": {"iban": -99999999999999999999}},'
        b' {"type": "track", "event": "E", "userId": "u"}]}'
    )
    validator = _Validator(_fresh())
    rows, rejected = validator._validate(_parse(body), None, "web", body_size=len(body))
    assert len(rows) == 1
    assert [(r["index"], r["field"], r["code"]) for r in rejected] == [
        (0, "traits.ssn", "integer_too_large"),
        (1, "properties.iban", "integer_too_large"),
    ]


# Values an id or an object field may be sent as: the usual ones and every odd one.
_ODD = st.one_of(
    st.none(),
    st.text(max_size=8),
    st.just(""),
    st.just("x" * 1_025),
    st.just("y" * 1_024),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.lists(st.integers(0, 9), max_size=2),
    st.dictionaries(st.sampled_from(["a", "locale", "channel"]), st.text(max_size=4), max_size=2),
)
_ID_FIELDS = ["userId", "anonymousId", "previousId", "groupId", "messageId"]
_OBJECT_FIELDS = ["context", "integrations", "properties", "traits"]


def _expected(message: dict[str, Any], kind: str) -> tuple[Any, ...]:
    """What the checks of ids and objects give, by the general helpers in their order: the
    first error's (field, code), or the values kept."""
    from empreinte.collect import validate
    from empreinte.errors import InvalidMessage

    try:
        ids = [validate._identifier(message, f) for f in _ID_FIELDS[:4]]
        if kind == "alias" and (ids[2] is None or ids[0] is None):
            return ("missing",)
        if kind != "alias" and ids[0] is None and ids[1] is None:
            return ("missing",)
        if kind == "group" and ids[3] is None:
            return ("missing",)
        payload = {"track": "properties", "identify": "traits", "group": "traits"}.get(kind)
        for f in ["context", "integrations", *([payload] if payload else [])]:
            validate._object(message, f)
        message_id = validate._identifier(message, "messageId")
    except InvalidMessage as exc:
        return (exc.field, exc.code)
    return (*ids, message_id)


@settings(max_examples=500)
@given(
    st.fixed_dictionaries({}, optional={f: _ODD for f in _ID_FIELDS + _OBJECT_FIELDS}),
    st.sampled_from(["track", "identify", "group", "alias"]),
)
def test_ids_and_objects_are_checked_as_the_general_helpers_do(
    message: dict[str, Any], kind: str
) -> None:
    from empreinte.collect.validate import normalise
    from empreinte.errors import InvalidMessage

    message = {"type": kind, "event": "E", **message}
    expected = _expected(message, kind)
    try:
        row = normalise(message, source="web", received_at=1, size=100, policy=_fresh())
    except InvalidMessage as exc:
        if expected != ("missing",):
            assert (exc.field, exc.code) == expected
        return
    assert expected != ("missing",) and len(expected) == 5
    user_id, anonymous_id, previous_id, group_id, message_id = expected
    assert (row.anonymous_id, row.group_id) == (anonymous_id, group_id)
    if user_id is None or "@" not in user_id:
        assert row.user_id == user_id
    if previous_id is None or "@" not in previous_id:
        assert row.previous_id == previous_id
    if message_id is not None:
        assert row.message_id == message_id
    else:
        assert row.message_id.startswith("ingest-")
