"""Personal data removed from conversation texts before they are stored (voice of the customer).

Call transcripts, chat logs, reviews and survey comments are the customer's own words; they
carry card numbers read aloud, IBANs, social-security numbers, phone numbers, e-mail and postal
addresses and names. Every such text is redacted here, at ingestion, before it is written
anywhere: each span found is replaced by a typed placeholder (`PLACEHOLDERS`).

This module is the contract the collector, the importers and the analyses code against:
`redact_text` for one text, `redact_turns` for a conversation. Every step is linear in its
input and bounded (the write key is public: a text may be 32 KB built to hurt).

This first version finds e-mail addresses, Luhn-checked card numbers and phone numbers with
the linear scans of privacy/redaction.py, each turn alone; IBANs, NIRs, addresses, names,
numbers said in words and a card read over two turns come with the Presidio/spaCy version
(issue 16), behind the same signatures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from empreinte.privacy.redaction import _card_spans, _email_spans, _phone_spans

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


def _replace(text: str, found: Sequence[Found]) -> str:
    parts: list[str] = []
    done = 0
    for span in sorted(found, key=lambda f: f.start):
        if span.start < done:
            continue
        parts += (text[done : span.start], PLACEHOLDERS[span.kind])
        done = span.end
    parts.append(text[done:])
    return "".join(parts)


def redact_text(text: str, *, language: str | None = None, region: str = "FR") -> Redacted:
    """`text` with its personal data replaced by placeholders. `region` reads national phone
    numbers; `language` ("fr", "en" or None) is part of the contract, unused by this version."""
    found = [Found("EMAIL", a, b) for a, b in _email_spans(text)]
    found += [Found("CARD", a, b) for a, b in _card_spans(text)]
    found += [Found("PHONE", a, b) for a, b in _phone_spans(text, region)]
    return Redacted(_replace(text, found), tuple(found))


def redact_turns(
    turns: Sequence[Mapping[str, Any]], *, language: str | None = None, region: str = "FR"
) -> list[dict[str, Any]]:
    """Each turn (`{speaker, text, start, end}`) with its `text` redacted; other keys kept."""
    out = []
    for turn in turns:
        copy = dict(turn)
        if isinstance(turn.get("text"), str):
            copy["text"] = redact_text(turn["text"], language=language, region=region).text
        out.append(copy)
    return out


def redact_many(
    texts: Sequence[str], *, language: str | None = None, region: str = "FR"
) -> list[Redacted]:
    """`redact_text` of each text, in order (a batch: the same results as one by one)."""
    return [redact_text(text, language=language, region=region) for text in texts]


# Language detection reads at most this many characters: enough to tell French from English,
# and bounded whatever the text's length.
_DETECT_CHARS = 2_000


@lru_cache(maxsize=1)
def _detector() -> Any:
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(Language.FRENCH, Language.ENGLISH).build()


def detect_language(text: str) -> str | None:
    """ "fr", "en", or None when the text says too little (empty, digits only)."""
    sample = text[:_DETECT_CHARS]
    if sum(c.isalpha() for c in sample) < 3:
        return None
    from lingua import Language

    found = _detector().detect_language_of(sample)
    return {Language.FRENCH: "fr", Language.ENGLISH: "en"}.get(found)


def warm() -> None:
    """Load the models now (the first text otherwise pays for it)."""
    detect_language("bonjour, je voudrais changer mon adresse")
