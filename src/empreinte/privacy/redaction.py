"""Personal data in free text (survey comments, notes): found and masked before display.

Comments are the customer's own words and sometimes carry a phone number, an e-mail address
or a card number ("call me back at 06 12 34 56 78"). Phone numbers are found with
`phonenumbers`' matcher (any format of the workspace's region, or international), e-mail
addresses with a pattern, and card numbers as 13-19 digit runs that pass the Luhn check.
"""

from __future__ import annotations

import re

import phonenumbers

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
MASKS = {"email": "[email]", "phone": "[phone]", "card": "[card]"}


def _luhn(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char) * (2 if i % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return MASKS["card"] if _luhn(digits) else match.group()


def redact(text: str, region: str = "FR") -> str:
    """`text` with e-mail addresses, card numbers and phone numbers masked."""
    text = _EMAIL.sub(MASKS["email"], text)
    text = _CARD.sub(_card, text)
    spans = [
        (m.start, m.end)
        for m in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID)
    ]
    for start, end in reversed(spans):
        text = text[:start] + MASKS["phone"] + text[end:]
    return text
