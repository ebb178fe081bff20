"""IBANs, written in groups of four or in one piece ("FR76 3000 6000 0112 3456 7890 189",
"de89370400440532013000"), checked: the country's length and ISO 13616's mod-97.

From each token that starts with a country code and two digits, the following tokens (joined
by a space or a dash) are gathered up to the country's length: at most 34 characters, so
constant work per token.
"""

from __future__ import annotations

from collections.abc import Sequence

from empreinte.privacy.text_pii.model import Found
from empreinte.privacy.text_pii.tokens import Token

LENGTHS = {
    "AD": 24, "AE": 23, "AT": 20, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "CH": 21,
    "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "DZ": 26, "EE": 20, "EG": 29,
    "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
    "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MA": 28, "MC": 27, "MD": 24, "ME": 22,
    "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29,
    "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27,
    "TN": 24, "TR": 26, "UA": 29, "VA": 22, "XK": 20,
}  # fmt: skip


def valid_iban(compact: str) -> bool:
    """ISO 13616: the country's length, then (BBAN + country + check) read in base 36 is 1
    mod 97."""
    compact = compact.upper()
    if LENGTHS.get(compact[:2]) != len(compact) or not compact[2:4].isdigit():
        return False
    if not (compact.isascii() and compact.isalnum()):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def iban_spans(text: str, tokens: Sequence[Token]) -> list[Found]:
    out: list[Found] = []
    floor = 0
    for i, token in enumerate(tokens):
        head = token.text[:4]
        if i < floor or len(head) < 2 or not head[:2].isalpha():
            continue
        length = LENGTHS.get(head[:2].upper())
        if length is None:
            continue
        compact, j = "", i
        while j < len(tokens) and len(compact) < length:
            part = tokens[j]
            if not part.text.isalnum() or not part.text.isascii():
                break
            if j > i:
                gap = text[tokens[j - 1].end : part.start]
                if gap not in (" ", "-", "\u00a0", " - "):
                    break
            compact += part.text[: length + 1 - len(compact)]
            j += 1
        if len(compact) == length and valid_iban(compact):
            out.append(Found("IBAN", token.start, tokens[j - 1].end))
            floor = j
    return out
