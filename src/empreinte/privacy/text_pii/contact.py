"""E-mail addresses, written ("jean.dupont@gmail.com") or said ("jean point dupont arobase
gmail point com", "john dot smith at gmail dot com").

Written ones are found by privacy/redaction.py's linear scan. Said ones are read on tokens:
from each "arobase"/"at"/"@", a domain to the right (labels joined by "point"/"dot", ending
in a known top-level domain) and a local part to the left (labels joined by "point", "tiret",
"underscore"…). Each side reads at most `_MAX_LABELS` labels: constant work per "at".
"""

from __future__ import annotations

from collections.abc import Sequence

from empreinte.privacy.redaction import _email_spans
from empreinte.privacy.text_pii.model import Found
from empreinte.privacy.text_pii.tokens import Token

_AT = {"@", "arobase", "arobas", "at", "arrobase"}
_DOT = {".", "point", "dot"}
_JOINERS = _DOT | {"-", "_", "tiret", "underscore", "dash", "hyphen", "bas"}
_TLDS = {
    "com", "fr", "net", "org", "eu", "io", "co", "uk", "de", "be", "ch", "es", "it", "info",
    "biz", "me", "ca", "us", "nl", "lu", "re", "gp", "mq", "gf", "yt", "nc", "pf", "edu", "gov",
    "app", "dev", "shop", "online", "store", "pt", "pl", "ie", "dk", "se", "no", "fi", "ai",
    # the names reserved for examples and tests (RFC 2606, RFC 6761): what demos and test
    # data say, "jean point dupont arobase mail point example"
    "example", "test", "invalid",
}  # fmt: skip
_MAX_LABELS = 6


def _is_label(token: Token) -> bool:
    return token.is_word and token.low not in _AT and token.low not in _JOINERS


def spoken_email_spans(tokens: Sequence[Token]) -> list[tuple[int, int]]:
    """[start, end) of each e-mail address said in words, in character offsets."""
    out: list[tuple[int, int]] = []
    floor = 0  # the token after the last address found
    for i, token in enumerate(tokens):
        if token.low not in _AT or i < floor or i == 0 or i + 1 >= len(tokens):
            continue
        # Right: label (joiner label)*, with at least one dot, ending in a known TLD.
        j, last, dots = i + 1, None, 0
        for _ in range(_MAX_LABELS):
            if j >= len(tokens) or not _is_label(tokens[j]):
                break
            if dots and tokens[j].low in _TLDS:
                last = j
            k = j + 1
            if k < len(tokens) and tokens[k].low in _DOT:
                dots += 1
                j = k + 1
            else:
                break
        if last is None or (tokens[i].text == "@" and tokens[i - 1].end == tokens[i].start):
            continue  # no domain said, or a written address (the scan below finds it)
        # Left: label ((joiner)+ label)*, back to the previous address.
        k = i - 1
        if not _is_label(tokens[k]) or k < floor:
            continue
        first = k
        for _ in range(_MAX_LABELS):
            m = first - 1
            while m >= floor and m > first - 3 and tokens[m].low in _JOINERS:
                m -= 1
            if m == first - 1 or m < floor or not _is_label(tokens[m]):
                break
            first = m
        out.append((tokens[first].start, tokens[last].end))
        floor = last + 1
    return out


def email_spans(text: str, tokens: Sequence[Token]) -> list[Found]:
    spans = list(_email_spans(text)) + spoken_email_spans(tokens)
    return [Found("EMAIL", a, b) for a, b in spans]
