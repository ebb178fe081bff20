"""Personal data in free text (survey comments, notes): found and masked before display.

Comments are the customer's own words and sometimes carry a phone number, an e-mail address
or a card number ("call me back at 06 12 34 56 78"). E-mail addresses and card numbers
(13-19 digit runs that pass the Luhn check) are found by hand-written scans, phone numbers
with `phonenumbers`' matcher (any format of the workspace's region, or international).

Every step is linear in the text and runs at ingestion, on the request thread: a comment
may be 32 KB of whatever a sender chooses. So there is no backtracking pattern here (the
e-mail and card patterns this replaces took seconds on 30,000 digits), and the phone matcher,
which costs several microseconds a character, reads only the runs of digits and phone
punctuation that could be one or two numbers. A longer run (over `MAX_PHONE_RUN` characters:
no one writes a number that way) is masked whole as `[phone]`; the text as written stays in
the vault, so nothing is lost.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import phonenumbers

MASKS = {"email": "[email]", "phone": "[phone]", "card": "[card]"}
MAX_PHONE_RUN = 48  # "+33 (0)6 12 34 56 78 / +33 (0)7 12 34 56 78" is 43
_MIN_PHONE_DIGITS = 7  # below this no region's number is valid (FR needs 9)

_Span = tuple[int, int]
# Linear: single character classes, each repetition ends at the first character outside it.
_DIGITS = re.compile(r"\d+")
_PHONE_RUN = re.compile(r"[\d+(][\d()+./\- \u00a0]*")


def _is_local(char: str) -> bool:  # `[\w.+-]`, the local part of an address
    return char.isalnum() or char in "_.+-"


def _is_label(char: str) -> bool:  # `[\w-]`, a label of a domain
    return char.isalnum() or char in "_-"


def _email_spans(text: str) -> Iterator[_Span]:
    """What `[\\w.+-]+@[\\w-]+(?:\\.[\\w-]+)+` finds, scanning each character at most twice:
    left of each `@` back to the previous match, right of it up to the next `@`."""
    floor = 0  # the end of the last match: a search resumes there
    at = text.find("@")
    while at != -1:
        start = at
        while start > floor and _is_local(text[start - 1]):
            start -= 1
        end, labels, i = at + 1, 0, at + 1
        while True:  # one label, then `.label` as often as they follow
            j = i
            while j < len(text) and _is_label(text[j]):
                j += 1
            if j == i:
                break
            end, labels = j, labels + 1
            if j + 1 < len(text) and text[j] == "." and _is_label(text[j + 1]):
                i = j + 1
            else:
                break
        if start < at and labels >= 2:
            yield start, end
            floor = end
        at = text.find("@", max(at + 1, floor))


_DOUBLED = [0, 2, 4, 6, 8, 1, 3, 5, 7, 9]  # the digit sum of 2 × d
_MIN_CARD_GROUP = 3  # printed cards group digits by 3 to 6 ("6011 0000 0000 0000 004")


def _card_runs(text: str) -> Iterator[list[_Span]]:
    """Runs of digit groups of at least `_MIN_CARD_GROUP` digits joined by one space or dash."""
    run: list[_Span] = []
    for group in _DIGITS.finditer(text):
        a, b = group.span()
        if b - a < _MIN_CARD_GROUP:
            if run:
                yield run
            run = []
            continue
        if run and not (a - run[-1][1] == 1 and text[a - 1] in " -"):
            yield run
            run = []
        run.append((a, b))
    if run:
        yield run


def _card_spans(text: str) -> Iterator[_Span]:
    """Card numbers: 13-19 digits in whole groups joined by single spaces or dashes
    ("4111 1111 1111 1111", "3782 822463 10005"), passing the Luhn check. From each group,
    the longest such number starting there; a number found is skipped past.

    Linear: prefix sums give the Luhn total of any window in O(1), and a window holds at most
    19 digits, so at most 6 groups of 3."""
    for run in _card_runs(text):
        digits = [int(char) for a, b in run for char in text[a:b]]
        # Luhn doubles every second digit counted from the right end of the number. Keep
        # the prefix sums with even indexes doubled and with odd ones doubled.
        sums = ([0], [0])
        for index, digit in enumerate(digits):
            for parity in (0, 1):
                value = _DOUBLED[digit] if index % 2 == parity else digit
                sums[parity].append(sums[parity][-1] + value)
        offsets = [0]
        for a, b in run:
            offsets.append(offsets[-1] + b - a)
        first = 0
        while first < len(run):
            best = None
            for last in range(first, len(run)):
                i, j = offsets[first], offsets[last + 1]
                if j - i > 19:
                    break
                # Of the digits i..j-1, those doubled have the index parity of j.
                total = sums[j % 2][j] - sums[j % 2][i]
                if j - i >= 13 and total % 10 == 0:
                    best = last
            if best is None:
                first += 1
            else:
                yield run[first][0], run[best][1]
                first = best + 1


def _phone_spans(text: str, region: str, possible: bool = False) -> Iterator[_Span]:
    """Phone numbers, read by `phonenumbers`' matcher in each run of digits and phone
    punctuation long enough to hold one (with a character around it: the matcher refuses a
    number glued to a word); runs too long to be one or two numbers, whole. `possible`: a run
    that starts with a trunk or international prefix ("06 97…", "+596…") and has a possible
    number's length is one too, even in a range `phonenumbers` does not know as allocated
    (overseas mobiles, new ranges): conversations read numbers out, and a miss is a leak."""
    for run in _PHONE_RUN.finditer(text):
        start, end = run.start(), run.end()
        while end > start and text[end - 1] in ". -\u00a0/(":  # the run's trailing punctuation
            end -= 1
        if sum(char.isdigit() for char in text[start:end]) < _MIN_PHONE_DIGITS:
            continue
        if end - start > MAX_PHONE_RUN:
            yield start, end
            continue
        left, right = max(start - 1, 0), min(end + 1, len(text))
        matched = False
        for found in phonenumbers.PhoneNumberMatcher(
            text[left:right], region, leniency=phonenumbers.Leniency.VALID
        ):
            matched = True
            yield left + found.start, left + found.end
        if not matched and possible and text[start] in "0+":
            for found in phonenumbers.PhoneNumberMatcher(
                text[left:right], region, leniency=phonenumbers.Leniency.POSSIBLE
            ):
                yield left + found.start, left + found.end


def _mask(text: str, spans: Callable[[str], Iterator[_Span]], mask: str) -> str:
    """`text` with each span (in order, not overlapping) replaced by `mask`, in one pass."""
    parts: list[str] = []
    done = 0
    for start, end in spans(text):
        parts += (text[done:start], mask)
        done = end
    if not parts:
        return text
    parts.append(text[done:])
    return "".join(parts)


def redact(text: str, region: str = "FR") -> str:
    """`text` with e-mail addresses, card numbers and phone numbers masked."""
    text = _mask(text, _email_spans, MASKS["email"])
    text = _mask(text, _card_spans, MASKS["card"])
    return _mask(text, lambda t: _phone_spans(t, region), MASKS["phone"])


def mask_where(text: str, region: str, erased: Callable[[str, str], bool], mask: str) -> str:
    """`text` with the e-mail addresses and phone numbers for which `erased(kind, found)`
    holds replaced by `mask` (erasure: an erased person's address in someone else's words)."""

    def emails(t: str) -> Iterator[_Span]:
        return (s for s in _email_spans(t) if erased("email", t[s[0] : s[1]]))

    def phones(t: str) -> Iterator[_Span]:
        return (s for s in _phone_spans(t, region) if erased("phone", t[s[0] : s[1]]))

    return _mask(_mask(text, emails, mask), phones, mask)
