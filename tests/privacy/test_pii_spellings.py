"""Personal data is found under any spelling of its key and, for e-mails and phone numbers,
by its value: stored as a pseudonym, the raw value only in the vault. A matrix of spellings
(snake_case, camelCase, PascalCase, kebab-case, UPPER, spaced) of each personal key, in traits
and in properties."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

import empreinte
from empreinte.errors import ConfigError
from empreinte.privacy.pii import is_personal_trait
from empreinte.workspace import Workspace

EMAIL, PHONE = "Jane.Doe@Example.com", "+33 6 12 34 56 78"
# Each personal key as words, with a value of its kind.
KEYS = {
    ("email",): EMAIL,
    ("email", "address"): EMAIL,
    ("customer", "email"): EMAIL,
    ("billing", "email"): EMAIL,
    ("phone",): PHONE,
    ("phone", "number"): PHONE,
    ("mobile", "phone"): PHONE,
    ("billing", "phone"): PHONE,
    ("caller", "number"): PHONE,
    ("first", "name"): "Jane",
    ("last", "name"): "Doe",
    ("full", "name"): "Jane Doe",
    ("birth", "date"): "1990-04-01",
    ("date", "of", "birth"): "1990-04-01",
    ("ip", "address"): "203.0.113.9",
}


def spellings(words: tuple[str, ...]) -> set[str]:
    first, rest = words[0], words[1:]
    return {
        "_".join(words),
        "-".join(words),
        " ".join(words),
        first + "".join(w.title() for w in rest),  # camelCase
        "".join(w.title() for w in words),  # PascalCase
        "_".join(words).upper(),
    }


CASES = [(key, value) for words, value in KEYS.items() for key in sorted(spellings(words))]


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    with empreinte.open(tmp_path_factory.mktemp("pii") / "ws") as workspace:
        yield workspace


def stored(ws: Workspace, message: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The event as the log keeps it, and as an admin reads it back (vault included)."""
    report = ws.ingest([message])
    assert report.stored == 1, report
    [plain] = ws.events(limit=1, message_id=message["messageId"])
    [raw] = ws.events(limit=1, message_id=message["messageId"], pii=True)
    return plain, raw


@pytest.mark.parametrize(("key", "value"), CASES)
def test_a_personal_key_in_any_spelling_is_pseudonymised(
    ws: Workspace, key: str, value: str
) -> None:
    where = {"traits": {key: value}} if "name" in key.lower() else {"properties": {key: value}}
    kind = "identify" if "traits" in where else "track"
    message = {"type": kind, "userId": "u-1", "messageId": f"m-{kind}-{key}", **where}
    if kind == "track":
        message["event"] = "Form Sent"
    plain, raw = stored(ws, message)
    column = next(iter(where))
    assert plain[column][key] != value, (key, plain[column])
    assert value not in orjson.dumps(plain).decode()
    assert raw[column][key] == value  # an admin, or the person's export, reads it back
    if column == "traits":
        assert is_personal_trait(key)


@pytest.mark.parametrize(
    ("value", "personal"),
    [
        ("jane.doe@example.com", True),
        ("+33 6 12 34 56 78", True),
        ("06.12.34.56.78", True),
        ("(415) 555-2671", False),  # a US number read in the workspace's region (FR): invalid
        ("20250312001", False),  # a bare run of digits is an id, not a phone
        ("A-123-456", False),
        ("not an e-mail @ all", False),
        ("Paris", False),
    ],
)
def test_e_mails_and_phones_are_found_by_their_value_under_any_key(
    ws: Workspace, value: str, personal: bool
) -> None:
    message = {
        "type": "track",
        "event": "Form Sent",
        "userId": "u-2",
        "messageId": f"m-value-{value}",
        "properties": {"contact": value, "name": "Refurbished phone"},
    }
    plain, raw = stored(ws, message)
    assert (plain["properties"]["contact"] != value) is personal
    assert raw["properties"]["contact"] == value
    # A product's name is not a person's: only traits carry a person's `name`.
    assert plain["properties"]["name"] == "Refurbished phone"


def test_the_same_e_mail_under_two_spellings_has_one_pseudonym(ws: Workspace) -> None:
    a, _ = stored(
        ws,
        {"type": "identify", "userId": "u-3", "messageId": "m-a", "traits": {"Email": EMAIL}},
    )
    b, _ = stored(
        ws,
        {
            "type": "track",
            "event": "Order Completed",
            "userId": "u-3",
            "messageId": "m-b",
            "properties": {"customer_email": EMAIL.lower()},
        },
    )
    assert a["traits"]["Email"] == b["properties"]["customer_email"]


def test_product_traits_of_a_group_keep_their_name(tmp_path: Path) -> None:
    with empreinte.open(tmp_path / "ws") as ws:
        plain, _ = stored(
            ws,
            {
                "type": "group",
                "userId": "u-4",
                "groupId": "g-1",
                "messageId": "m-g",
                "traits": {"name": "Acme", "contactEmail": EMAIL},
            },
        )
    assert plain["traits"]["name"] == "Acme"
    assert plain["traits"]["contactEmail"] != EMAIL


def test_a_workspace_names_its_own_personal_keys(tmp_path: Path) -> None:
    (tmp_path / "empreinte.toml").write_text(
        '[privacy]\npersonal_keys = ["IBAN", "loyalty number"]\n'
    )
    with empreinte.open(tmp_path) as ws:
        plain, raw = stored(
            ws,
            {
                "type": "identify",
                "userId": "u-5",
                "messageId": "m-own",
                "traits": {"iban": "FR7630006000011234567890189", "loyaltyNumber": "L-99"},
            },
        )
    assert plain["traits"]["iban"] != raw["traits"]["iban"] == "FR7630006000011234567890189"
    assert plain["traits"]["loyaltyNumber"] != "L-99"
    (tmp_path / "empreinte.toml").write_text('[privacy]\npersonal_keys = "iban"\n')
    with pytest.raises(ConfigError, match=r"\[privacy\] personal_keys must be a list"):
        empreinte.open(tmp_path)


def test_a_user_id_that_is_an_e_mail_is_kept_as_its_pseudonym(tmp_path: Path) -> None:
    with empreinte.open(tmp_path / "ws") as ws:
        plain, raw = stored(
            ws,
            {
                "type": "identify",
                "userId": EMAIL,
                "messageId": "m-uid",
                "traits": {"email": EMAIL, "plan": "gold"},
            },
        )
        assert EMAIL.lower() not in orjson.dumps(plain).decode().lower()
        assert plain["user_id"] == plain["traits"]["email"]  # one pseudonym for one address
        assert raw["user_id"] == EMAIL and raw["traits"]["email"] == EMAIL
        # Lookups and filters by the address find what was stored under its pseudonym.
        assert ws.count(user_id=EMAIL) == 1
        assert ws.count(user_id=EMAIL.upper()) == 1
        profile = ws.profiles.find("userId", EMAIL)
        assert profile is not None and profile == ws.profiles.find("email", EMAIL)
        # A userId without "@" is kept as sent.
        plain, _ = stored(ws, {"type": "identify", "userId": "u-42", "messageId": "m-plain"})
        assert plain["user_id"] == "u-42"
