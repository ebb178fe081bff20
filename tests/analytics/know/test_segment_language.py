"""The segment language's parser (analytics/know/segment_language.py): what it reads, the
caret it puts under mistakes, and its caps on hostile input. No workspace here: semantics are
in test_segments.py."""

from __future__ import annotations

import contextlib
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from empreinte.analytics.know.segment_language import (
    MAX_DEPTH,
    MAX_EXPRESSION,
    MAX_NOTS,
    And,
    Call,
    Compare,
    InList,
    IsNull,
    Not,
    Or,
    SegmentExpressionError,
    conditions,
    parse,
)
from empreinte.errors import AnalyticsError


def _error(expression: str) -> SegmentExpressionError:
    with pytest.raises(SegmentExpressionError) as caught:
        parse(expression)
    return caught.value


def test_the_issue_example_reads_as_four_conditions_joined_by_and() -> None:
    tree = parse(
        'country = "FR" and generation = "Gen Z" and '
        'did("Order Completed", within="90d", count>=2) and not consented("marketing_email")'
    )
    assert isinstance(tree, And) and len(tree.operands) == 4
    country, generation, did, negated = tree.operands
    assert isinstance(country, Compare) and country.field.name == "country"
    assert country.value.value == "FR"
    assert isinstance(generation, Compare) and generation.value.value == "Gen Z"
    assert isinstance(did, Call) and did.function == "did"
    assert [(a.name, a.op, a.value.value) for a in did.args] == [
        (None, "=", "Order Completed"),
        ("within", "=", "90d"),
        ("count", ">=", 2),
    ]
    assert isinstance(negated, Not) and isinstance(negated.operand, Call)
    assert negated.operand.function == "consented"


def test_not_binds_tighter_than_and_which_binds_tighter_than_or() -> None:
    tree = parse("a = 1 or not b = 2 and c = 3")
    assert isinstance(tree, Or)
    left, right = tree.operands
    assert isinstance(left, Compare) and left.field.name == "a"
    assert isinstance(right, And)
    assert isinstance(right.operands[0], Not) and isinstance(right.operands[1], Compare)


def test_parentheses_group() -> None:
    tree = parse("(a = 1 or b = 2) and c = 3")
    assert isinstance(tree, And) and isinstance(tree.operands[0], Or)


def test_every_comparison_list_and_null_test() -> None:
    ops = [parse(f"orders {op} 2") for op in ("=", "==", "!=", "<", "<=", ">", ">=")]
    assert [n.op for n in ops if isinstance(n, Compare)] == ["=", "=", "!=", "<", "<=", ">", ">="]
    listed = parse('country in ["FR", "DE"]')
    assert isinstance(listed, InList) and not listed.negated
    assert [v.value for v in listed.values] == ["FR", "DE"]
    excluded = parse("age not in [18, 19.5]")
    assert isinstance(excluded, InList) and excluded.negated
    assert [v.value for v in excluded.values] == [18, 19.5]
    null = parse("traits.city is null")
    assert isinstance(null, IsNull) and not null.negated
    nulls = parse("traits.city IS NOT NULL")
    assert isinstance(nulls, IsNull) and nulls.negated and nulls.field.name == "traits.city"


def test_keywords_are_case_insensitive_and_values_keep_their_type() -> None:
    tree = parse("NOT vip = TRUE AND score >= -1.5e2 Or name = 'O\\'Brien'")
    values = [c.value.value for c in conditions(tree) if isinstance(c, Compare)]
    assert values == [True, -150.0, "O'Brien"]
    assert isinstance(values[0], bool)


def test_names_that_start_with_a_keyword_are_names() -> None:
    tree = parse("orders >= 1 and notes_count = 2 and android = 1 and island = 2")
    assert [c.field.name for c in conditions(tree) if isinstance(c, Compare)] == [
        "orders",
        "notes_count",
        "android",
        "island",
    ]


def test_a_mistake_is_shown_with_a_caret_under_its_column() -> None:
    error = _error('country = "FR" and and orders > 1')
    assert error.position is not None and (error.position.line, error.position.column) == (1, 20)
    lines = str(error).splitlines()
    assert lines[0].startswith("line 1, column 20: unexpected 'and'")
    assert lines[1] == '  country = "FR" and and orders > 1'
    assert lines[2] == "  " + " " * 19 + "^"


def test_the_line_and_column_on_a_second_line() -> None:
    error = _error('country = "FR"\n  and orders >')
    assert error.position is not None
    assert (error.position.line, error.position.column) == (2, 15)
    assert "ends too soon" in str(error)
    assert str(error).splitlines()[1] == "    and orders >"


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ('country = "FR', "not closed"),
        ("country = FR", "unexpected 'FR'"),
        ("country = ", "ends too soon"),
        ("country $ 1", "unexpected character '$'"),
        ('x = "a\\q"', "unknown escape"),
        ("x in []", None),  # parsed; the compiler refuses an empty list
        ("x = 1" + "0" * 60, "at most 40 characters"),
        ("(x = 1", "ends too soon"),
        ("x = 1)", "unexpected ')'"),
    ],
)
def test_malformed_expressions_are_refused_by_name(expression: str, message: str | None) -> None:
    if message is None:
        parse(expression)
        return
    assert message in str(_error(expression))


def test_errors_are_analytics_errors_a_400_over_http() -> None:
    error = _error("x = ")
    assert isinstance(error, AnalyticsError) and error.status == 400


# -- hostile input ----------------------------------------------------------------------------


def test_an_expression_of_4_kb_is_read_and_one_byte_more_is_refused() -> None:
    clause = 'traits.plan = "pro" or '
    body = clause * ((MAX_EXPRESSION - 20) // len(clause))
    text = (body + "orders = 1").ljust(MAX_EXPRESSION)
    assert len(text) == MAX_EXPRESSION
    assert isinstance(parse(text), Or)
    assert f"at most {MAX_EXPRESSION} characters" in str(_error(text + " "))


def test_a_thousand_nested_parentheses_are_refused_at_once() -> None:
    started = time.process_time()
    error = _error("(" * 1000 + "x = 1" + ")" * 1000)
    assert f"nested more than {MAX_DEPTH} deep" in str(error)
    assert error.position is not None and error.position.column == MAX_DEPTH + 1
    assert time.process_time() - started < 5  # generous: refused before any tree is built
    # As deep as allowed is read.
    assert isinstance(parse("(" * MAX_DEPTH + "x = 1" + ")" * MAX_DEPTH), Compare)


def test_chains_of_not_are_capped_and_chains_of_and_are_flat() -> None:
    assert f"more than {MAX_NOTS} 'not'" in str(_error("not " * 1000 + "x = 1"))
    assert isinstance(parse("not " * MAX_NOTS + "x = 1"), Not)
    # and/or chains are flat, whatever their length.
    many = parse(" and ".join(["x = 1"] * 400))
    assert isinstance(many, And) and len(many.operands) == 400


@pytest.mark.parametrize(
    "value",
    ["'; drop table events; --", 'a"b', "Zoë – 東京 🎉", "\\", "line\nbreak", ""],
)
def test_any_text_is_one_string_value(value: str) -> None:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    tree = parse(f'traits.city = "{escaped}"')
    assert isinstance(tree, Compare) and tree.value.value == value


@given(st.text(max_size=300))
def test_any_text_is_read_or_refused_with_a_segment_error(text: str) -> None:
    with contextlib.suppress(SegmentExpressionError):
        parse(text)


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=50))
def test_escaped_strings_come_back_unchanged(value: str) -> None:
    escaped = (
        value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    )
    tree = parse(f'x = "{escaped}"')
    assert isinstance(tree, Compare) and tree.value.value == value


_PIECES = [*"()[]\",'=!<>.\\ \n", "and ", "or ", "not ", "in ", "is ", "null", "true", "x"]
_PIECES += ["traits.a", "1", "-2.5e3", "did", '"a"', "count>=", "within="]


@given(st.lists(st.sampled_from(_PIECES), max_size=40).map("".join))
def test_near_miss_expressions_are_read_or_refused_with_a_position(text: str) -> None:
    try:
        parse(text)
    except SegmentExpressionError as exc:
        if exc.position is not None:
            line, column = exc.position
            assert 1 <= line <= text.count("\n") + 1
            assert 1 <= column <= len(text.split("\n")[line - 1]) + 1
