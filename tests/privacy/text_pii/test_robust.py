"""Any text, built from the pieces the recognisers look for, is redacted without an error:
spans inside the text, merged spans apart, the text around them kept."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from empreinte.privacy.text_pii import PLACEHOLDERS, redact_text, redact_turns
from empreinte.privacy.text_pii.redact import merge

PIECES = [
    "4970", "1012", "3456", "7893", "0", "06", "12", "+", "+33", "plus", "00", "quatre", "vingt",
    "vingts", "dix", "sept", "et", "soixante", "-", "double", "oh", "forty", "two", "2A", "2b",
    "FR76", "3000", "GB29", "NWBK", "rue", "de", "la", "Street", "221B", "75002", "Paris",
    "bis", "arobase", "at", "point", "dot", "com", "fr", "@", ".", ",", "'", "’", "je", "m",
    "appelle", "Madame", "M", "Mr", "c", "est", "my", "name", "is", "D", "U", "P", "O", "N",
    "T", "euh", "oui", "cryptogramme", "cvv", "123", "é", "😀", "\u00a0", "\n", "commande",
]  # fmt: skip

_PLACEHOLDER = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS.values()))
texts = st.lists(st.sampled_from(PIECES), max_size=60).map(
    lambda parts: "".join(p + (" " if i % 3 else "") for i, p in enumerate(parts))
)


@settings(max_examples=settings.default.max_examples * 5)
@given(texts, st.sampled_from(["fr", "en", None]))
def test_any_text_is_redacted_cleanly(text: str, language: str | None) -> None:
    result = redact_text(text, language=language)
    spans = list(result.found)
    assert spans == merge(spans)  # sorted, apart
    assert all(0 <= f.start < f.end <= len(text) for f in spans)
    # The text outside the spans is kept, in order, around the placeholders.
    rebuilt, done = "", 0
    for f in spans:
        rebuilt += text[done : f.start] + PLACEHOLDERS[f.kind]
        done = f.end
    assert result.text == rebuilt + text[done:]


@settings(max_examples=settings.default.max_examples)
@given(st.lists(st.tuples(st.sampled_from(["agent", "customer"]), texts), max_size=8))
def test_any_conversation_is_redacted_cleanly(turns: list[tuple[str, str]]) -> None:
    given_turns = [{"speaker": s, "text": t, "start": i} for i, (s, t) in enumerate(turns)]
    out = redact_turns(given_turns, language="fr")
    assert [t["start"] for t in out] == list(range(len(turns)))
    for before, after in zip(given_turns, out, strict=True):
        # What is left between the placeholders is the text given, in order.
        done = 0
        for piece in _PLACEHOLDER.split(after["text"]):
            found = before["text"].find(piece, done)
            assert found != -1, (before["text"], after["text"])
            done = found + len(piece)
