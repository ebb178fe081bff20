"""Personal data in free text masked before display (privacy/redaction.py): phone numbers in
the workspace's region or international, e-mail addresses, Luhn-valid card numbers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from empreinte.privacy.redaction import redact


def luhn_valid(digits: str) -> bool:
    """The Luhn check written from its definition: from the right, double every second digit,
    add the digits of the products, and the total must be a multiple of 10."""
    total = 0
    for position, char in enumerate(reversed(digits), start=1):
        value = int(char)
        if position % 2 == 0:
            value = sum(int(d) for d in str(2 * value))
        total += value
    return total % 10 == 0


@pytest.mark.parametrize(
    "number",
    [
        "06 12 34 56 78",
        "06.12.34.56.78",
        "0612345678",
        "+33 6 12 34 56 78",
        "+33 (0)6 12 34 56 78",
        "01 42 68 53 00",
        "+1 650-253-0000",  # international: whatever the region
        "+44 20 7946 0958",
    ],
)
def test_french_and_international_phones(number: str) -> None:
    assert redact(f"Rappelez-moi au {number} demain", "FR") == "Rappelez-moi au [phone] demain"


@pytest.mark.parametrize("number", ["(202) 456-1111", "650.253.0000", "+1 650-253-0000"])
def test_us_phones(number: str) -> None:
    assert redact(f"call me at {number} please", "US") == "call me at [phone] please"


@pytest.mark.parametrize(
    "email", ["jane.doe+cx@example.co.uk", "JOHN_SMITH@sub.example.fr", "a-b@c-d.io"]
)
def test_emails(email: str) -> None:
    assert redact(f"write to {email}, thanks", "FR") == "write to [email], thanks"


@pytest.mark.parametrize(
    "card",
    [
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111111111111111",
        "5555 5555 5555 4444",
        "3782 822463 10005",  # American Express, 15 digits
    ],
)
def test_luhn_valid_cards(card: str) -> None:
    assert luhn_valid(card.replace(" ", "").replace("-", ""))
    assert redact(f"ma carte {card} a été débitée", "FR") == "ma carte [card] a été débitée"


def test_an_order_number_that_fails_luhn_is_kept() -> None:
    assert not luhn_valid("1234567812345678")
    text = "commande 1234567812345678 livrée"
    assert redact(text, "FR") == text


@pytest.mark.parametrize(
    "text",
    [
        "livré le 12/05/2026 pour 149,99 €",
        "commande CMD-2026-000123",
        "colis 1Z999AA10123456784",
        "ref 20260512",
        "no personal data here",
    ],
)
def test_other_numbers_are_kept(text: str) -> None:
    assert redact(text, "FR") == text


def test_everything_in_one_comment() -> None:
    text = "Jane (jane@example.com, 06 12 34 56 78) paid with 4111 1111 1111 1111."
    assert redact(text, "FR") == "Jane ([email], [phone]) paid with [card]."


@given(st.text(alphabet="abcdefghij XYZ,.!?éà", max_size=60))
def test_text_without_digits_or_at_signs_is_unchanged(text: str) -> None:
    assert redact(text, "FR") == text


@given(st.from_regex(r"4[0-9]{15}", fullmatch=True))
def test_sixteen_digit_runs_are_masked_exactly_when_luhn_valid(number: str) -> None:
    masked = redact(f"n° {number} ok", "FR")
    assert masked == ("n° [card] ok" if luhn_valid(number) else f"n° {number} ok")


@pytest.mark.parametrize("after", ["12/27", "123"])
def test_a_card_followed_by_more_digits_is_still_masked(after: str) -> None:
    masked = redact(f"carte 4111 1111 1111 1111 {after}", "FR")
    assert "4111" not in masked
