"""The language of a text whose event does not say it.

The redaction's detector (`text_pii.detect_language`, lingua) when the installed text_pii has
one; otherwise a vote of the French and English function words of the text (voc/topics.py's
stop lists): enough for a sentence of a call, linear, and never a guess on no evidence.
"""

from __future__ import annotations

from empreinte.voc.text import words

MAX_CHARS = 2_000
#: Function words of one language and not the other (folded).
_FR = frozenset(
    [
        "le",
        "la",
        "les",
        "un",
        "une",
        "des",
        "du",
        "de",
        "et",
        "est",
        "je",
        "tu",
        "il",
        "elle",
        "nous",
        "vous",
        "ils",
        "mon",
        "ma",
        "mes",
        "ton",
        "ta",
        "votre",
        "vos",
        "pour",
        "pas",
        "que",
        "qui",
        "dans",
        "sur",
        "avec",
        "mais",
        "ou",
        "donc",
        "ce",
        "cette",
        "ces",
        "suis",
        "sont",
        "avez",
        "bonjour",
        "merci",
        "oui",
        "non",
        "tres",
        "aussi",
        "j",
        "c",
        "d",
        "l",
        "n",
        "qu",
    ]
)
_EN = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "is",
        "are",
        "i",
        "you",
        "he",
        "she",
        "we",
        "they",
        "my",
        "your",
        "our",
        "for",
        "not",
        "that",
        "which",
        "in",
        "on",
        "with",
        "but",
        "or",
        "so",
        "this",
        "these",
        "am",
        "was",
        "were",
        "have",
        "has",
        "hello",
        "thanks",
        "yes",
        "no",
        "very",
        "also",
        "it",
        "of",
        "to",
    ]
)


def detect(text: str) -> str | None:
    """ "fr", "en", or None when the text says too little."""
    from empreinte.privacy import text_pii

    detector = getattr(text_pii, "detect_language", None)
    if detector is not None:
        found = detector(text[:MAX_CHARS])
        return found if found in ("fr", "en") else None
    fr = en = 0
    for word in words(text[:MAX_CHARS]):
        fr += word in _FR
        en += word in _EN
    if fr == en:
        return None
    return "fr" if fr > en else "en"
