"""The scan that decides whether a body must be read again with integers kept exact."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from empreinte.collect.exact_json import has_long_digits

# The rule as first written: nineteen ASCII digits in a row.
_RULE = re.compile(rb"[0-9]{19}")

# Bodies made mostly of digits, with the bytes that border them in JSON and some that only
# look like digits (non-ASCII digits in UTF-8, the bytes around "0" and "9").
_PIECES = st.sampled_from(
    [b"0", b"1", b"5", b"9", b"/", b":", b",", b"-", b".", b"e", b'"', b" ", "٣".encode()]
)


@given(st.lists(_PIECES, max_size=80).map(b"".join))
def test_the_scan_finds_nineteen_digits_in_a_row_exactly_when_the_rule_does(
    body: bytes,
) -> None:
    assert has_long_digits(body) == (_RULE.search(body) is not None)


@given(st.binary(max_size=200))
def test_the_scan_agrees_with_the_rule_on_any_bytes(body: bytes) -> None:
    assert has_long_digits(body) == (_RULE.search(body) is not None)


def test_eighteen_digits_are_not_enough_and_nineteen_are() -> None:
    assert not has_long_digits(b'{"n": 123456789012345678}')
    assert has_long_digits(b'{"n": 1234567890123456789}')
    assert has_long_digits(b'{"id": "x9999999999999999999y"}')  # in a string: read again, no harm
