"""Words of a text as the analyses compare them: lower case, accents folded, letters and
digits only. One linear pass (a compiled character class, no backtracking)."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[a-z0-9]+")
#: Placeholders of redacted spans (`<CARD>`, `<PERSON>`…) are not words of the customer.
_PLACEHOLDER = re.compile(r"<[A-Z]{2,10}>")


def fold(text: str) -> str:
    """`text` in lower case without accents ("Déçu" → "decu"); œ/æ spelt out."""
    text = _PLACEHOLDER.sub(" ", text).lower().replace("œ", "oe").replace("æ", "ae")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The folded words of `text`."""
    return _WORD.findall(fold(text))
