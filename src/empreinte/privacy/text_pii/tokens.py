"""Words with their offsets, and numbers said in words, read in one linear pass.

Every recogniser of this package reads tokens rather than running patterns over the text:
a token is a run of letters and digits or one other visible character, found by a regex of
single character classes (each repetition ends at the first character outside it, so no
backtracking whatever the text). Numbers said aloud ("quatre-vingt-dix-sept", "forty two",
"double six", "quatre mille neuf cent soixante-dix") become digit strings here, so that a
card, a phone number or a NIR reads the same written or spoken.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

_TOKEN = re.compile(r"[^\W_]+|\S")


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    start: int
    end: int
    low: str  # lower case, accents removed: what word lists compare with

    @property
    def is_word(self) -> bool:
        return self.text[0].isalnum()


def fold(word: str) -> str:
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# A token longer than this is no word of any language: it is kept, but never folded whole.
MAX_WORD = 64


def tokenize(text: str) -> list[Token]:
    out = []
    for match in _TOKEN.finditer(text):
        word = match.group()
        low = fold(word) if len(word) <= MAX_WORD else word[:MAX_WORD].lower()
        out.append(Token(word, match.start(), match.end(), low))
    return out


# -- numbers said in words --------------------------------------------------------------------

UNITS = {
    # French
    "zero": 0, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6,
    "sept": 7, "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13,
    "quatorze": 14, "quinze": 15, "seize": 16,
    # English
    "oh": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}  # fmt: skip
TENS = {
    "vingt": 20, "vingts": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60,
    "septante": 70, "huitante": 80, "octante": 80, "nonante": 90,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_EN_TENS = {"twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"}
REPEAT = {"double": 2, "triple": 3}
# Words that may sit between the digits of a number read aloud without ending it.
FILLERS = {"euh", "heu", "hum", "hmm", "uh", "um", "erm", "er", "ah", "alors", "so"}
_JOIN = {"-", "et", "and"}


@dataclass(frozen=True, slots=True)
class Atom:
    """A group of digits as written or said ("4970", "quatre-vingt-dix-sept" = "97"): where it
    sits (token indexes [first, last]) and its digits. `spoken` when said in words."""

    digits: str
    first: int
    last: int
    spoken: bool


_SCALES = ((1000, {"mille", "thousand"}), (100, {"cent", "cents", "hundred"}))


def _word_value(tokens: list[Token], i: int) -> tuple[int, int] | None:
    """The number 0-9999 said in words from token i: (value, index of its last token).
    "quatre mille neuf cent soixante-dix" = 4970, "mille douze" = 1012, "nine hundred" = 900.
    At most a dozen tokens are read."""
    n = len(tokens)
    total, last, j = 0, None, i

    def past(k: int) -> int:  # the token after k, past a joining "-" or "and"
        k += 1
        return k + 1 if k < n and tokens[k].low in ("-", "and") else k

    for scale, words in _SCALES:
        if j >= n:
            break
        if tokens[j].low in words:  # "mille", "cent" alone: one thousand, one hundred
            total, last, j = total + scale, j, past(j)
            continue
        small = _below_100(tokens, j)
        if small is None or not (1 < small[0] < (100 if scale == 1000 else 10)):
            continue
        k = (
            past(small[1])
            if small[1] + 1 < n and tokens[small[1] + 1].text == "-"
            else small[1] + 1
        )
        if k < n and tokens[k].low in words:
            total, last, j = total + small[0] * scale, k, past(k)
    if last is None:
        return _below_100(tokens, i)
    if j < n:
        small = _below_100(tokens, j)
        if small is not None:
            total, last = total + small[0], small[1]
    return total, last


def _below_100(tokens: list[Token], i: int) -> tuple[int, int] | None:
    """The number 0-99 said in words from token i: (value, index of its last token). French
    compounds are joined as written ("soixante-quatre", "vingt et un"): "soixante quatre" is
    two numbers, as a digit-by-digit reading would say them; English ones may be spaced
    ("forty two")."""
    low = tokens[i].low
    n = len(tokens)
    english = low in _EN_TENS

    def after(j: int) -> int | None:  # the next token past one joining "-", "et", "and"
        k = j + 1
        if k < n and tokens[k].low in _JOIN:
            return k + 1 if k + 1 < n else None
        return k if english and k < n else None

    if low == "quatre":  # quatre-vingt(s)[-dix-sept]
        k = after(i)
        if k is not None and tokens[k].low in ("vingt", "vingts"):
            rest = _tail(tokens, k, after) if tokens[k].low == "vingt" else None
            return (80 + rest[0], rest[1]) if rest else (80, k)
    if low in TENS:
        base = TENS[low]
        if base == 60 and not english:  # soixante-douze, soixante-dix-sept
            tail = _tail(tokens, i, after)
            return (60 + tail[0], tail[1]) if tail else (60, i)
        k = after(i)
        if k is not None:
            unit = UNITS.get(tokens[k].low)
            if unit is not None and 0 < unit < 10 and tokens[k].low != "oh":
                return base + unit, k
        return base, i
    if low == "dix":
        k = after(i)
        if k is not None and tokens[k].low in ("sept", "huit", "neuf"):
            return 10 + UNITS[tokens[k].low], k
    if low in UNITS:
        return UNITS[low], i
    return None


def _tail(
    tokens: list[Token], k: int, after: Callable[[int], int | None]
) -> tuple[int, int] | None:
    """After "quatre-vingt" or "soixante": the 1-19 that may follow ("-dix-sept")."""
    j = after(k)
    if j is None:
        return None
    low = tokens[j].low
    if low == "dix":
        m = after(j)
        if m is not None and tokens[m].low in ("sept", "huit", "neuf"):
            return 10 + UNITS[tokens[m].low], m
        return 10, j
    unit = UNITS.get(low)
    if unit is not None and 0 < unit <= 16 and low != "oh":
        return unit, j
    return None


def atoms(tokens: list[Token]) -> list[Atom]:
    """The groups of digits in `tokens`, written or said, in order. Linear: each token is read
    a bounded number of times (a number in words is at most six tokens)."""
    out: list[Atom] = []
    i, n = 0, len(tokens)
    while i < n:
        token = tokens[i]
        if token.low in ("2a", "2b"):  # Corsica's departments, in a NIR
            out.append(Atom(token.text.upper(), i, i, False))
            i += 1
            continue
        if len(token.low) == 15 and token.low[5:7] in ("2a", "2b") and token.text.isalnum():
            out.append(Atom(token.text.upper(), i, i, False))  # a NIR born in Corsica
            i += 1
            continue
        if token.text.isdigit():  # isdigit: also other scripts' digits, never ASCII only
            if token.text.isascii():
                out.append(Atom(token.text, i, i, False))
            i += 1
            continue
        if token.low in REPEAT and i + 1 < n:
            value = _word_value(tokens, i + 1)
            digit = tokens[i + 1].text if tokens[i + 1].text.isdigit() else None
            if value is not None and value[0] < 10:
                out.append(Atom(str(value[0]) * REPEAT[token.low], i, value[1], True))
                i = value[1] + 1
                continue
            if digit is not None and len(digit) == 1 and digit.isascii():
                out.append(Atom(digit * REPEAT[token.low], i, i + 1, True))
                i += 2
                continue
        value = _word_value(tokens, i) if token.is_word and token.low[0].isalpha() else None
        if value is not None:
            number, last = value
            # "zéro six" is two atoms of one digit, "douze" one of two.
            digits = str(number)
            out.append(Atom(digits, i, last, True))
            i = last + 1
            continue
        i += 1
    return out
