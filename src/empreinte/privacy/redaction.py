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
_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,}\d(?!\d)")
MASKS = {"email": "[email]", "phone": "[phone]", "card": "[card]"}


def _luhn(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char) * (2 if i % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    """Mask the longest Luhn-valid card number (13-19 digits) made of whole digit groups: a
    card may sit beside other numbers ("4111 1111 1111 1111 12/27", "order 123 4111…")."""
    text = match.group()
    groups = [(m.start(), m.end()) for m in re.finditer(r"\d+", text)]
    best: tuple[int, int] | None = None
    for first in range(len(groups)):
        for last in range(first, len(groups)):
            digits = "".join(text[a:b] for a, b in groups[first : last + 1])
            if len(digits) > 19:
                break
            span = (groups[first][0], groups[last][1])
            longer = best is None or span[1] - span[0] > best[1] - best[0]
            if len(digits) >= 13 and longer and _luhn(digits):
                best = span
    if best is None:
        return text
    return text[: best[0]] + MASKS["card"] + text[best[1] :]


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
