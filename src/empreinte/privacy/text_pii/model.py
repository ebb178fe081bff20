"""The words of text redaction: the kinds of personal data, their placeholders, a span found."""

from __future__ import annotations

from dataclasses import dataclass

#: The typed placeholder of each kind of personal data.
PLACEHOLDERS: dict[str, str] = {
    "CARD": "<CARD>",
    "IBAN": "<IBAN>",
    "NIR": "<NIR>",
    "PHONE": "<PHONE>",
    "EMAIL": "<EMAIL>",
    "ADDRESS": "<ADDRESS>",
    "PERSON": "<PERSON>",
}
#: Languages understood (spaCy models installed from the package index).
LANGUAGES = ("fr", "en")


@dataclass(frozen=True)
class Found:
    """One span of personal data in the text as given: [start, end), of `kind` (a key of
    PLACEHOLDERS)."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class Redacted:
    """A text with its personal data replaced by placeholders, and what was found (offsets
    in the original: they never leave the process)."""

    text: str
    found: tuple[Found, ...]
