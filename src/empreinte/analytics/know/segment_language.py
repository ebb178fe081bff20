"""The segment language: a small, readable expression of who is in a segment.

    country = "FR" and generation = "Gen Z"
        and did("Order Completed", within="90d", count>=2)
        and not consented("marketing_email")

An expression is conditions joined by `and`, `or`, `not` and parentheses (`not` binds
tightest, then `and`, then `or`). A condition is a comparison of a field with a value
(`= != < <= > >=`), `field in [v, …]`, `field not in [v, …]`, `field is null`,
`field is not null`, or a function call (`did`, `did_not`, `consented`, `in_segment`). Values
are strings (double or single quotes, backslash escapes), numbers and `true`/`false`. Keywords
are case-insensitive. The fields and functions are compiled by segment_compile.py.

The expression comes from users over HTTP, so it is read defensively: at most
`MAX_EXPRESSION` characters, parsed by an LALR(1) parser (linear in the text, no
backtracking), parentheses and lists nested at most `MAX_DEPTH` deep and at most `MAX_NOTS`
`not`s, both checked on the tokens before the parse; chains of `and`/`or` are flat lists, so
nothing later recurses deeper than a few hundred frames. Every error names the line and column
of the mistake and shows it with a caret.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import (
    LarkError,
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)

# The errors live in errors.py with every other; re-exported here beside the language.
from empreinte.errors import SegmentExists as SegmentExists
from empreinte.errors import SegmentExpressionError as SegmentExpressionError
from empreinte.errors import SegmentNotFound as SegmentNotFound

MAX_EXPRESSION = 4096
MAX_DEPTH = 32
MAX_NOTS = 32
MAX_LIST = 1000
MAX_NUMBER_TEXT = 40

GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr (OR and_expr)+          -> or_
        | and_expr
?and_expr: not_expr (AND not_expr)+         -> and_
         | not_expr
?not_expr: NOT not_expr                     -> not_
         | atom
?atom: LPAR or_expr RPAR                    -> group
     | field COMP value                     -> compare
     | field IN list                        -> in_list
     | field NOT IN list                    -> not_in_list
     | field IS NULL                        -> is_null
     | field IS NOT NULL                    -> is_not_null
     | NAME LPAR [arg (COMMA arg)*] RPAR    -> call
field: NAME (DOT NAME)*
arg: value                                  -> positional
   | NAME COMP value                        -> named
list: LSQB [value (COMMA value)*] RSQB
value: STRING | NUMBER | TRUE | FALSE

OR.2: /or\b/i
AND.2: /and\b/i
NOT.2: /not\b/i
IN.2: /in\b/i
IS.2: /is\b/i
NULL.2: /null\b/i
TRUE.2: /true\b/i
FALSE.2: /false\b/i
NAME: /[A-Za-z_][A-Za-z0-9_]*/
STRING: /"(?:[^"\\\n]|\\.)*"/ | /'(?:[^'\\\n]|\\.)*'/
NUMBER: /-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/
COMP: "==" | "!=" | "<=" | ">=" | "=" | "<" | ">"
LPAR: "("
RPAR: ")"
LSQB: "["
RSQB: "]"
COMMA: ","
DOT: "."
%ignore /[ \t\r\n]+/
"""

_TOKEN_WORDS = {
    "OR": "or",
    "AND": "and",
    "NOT": "not",
    "IN": "in",
    "IS": "is",
    "NULL": "null",
    "TRUE": "true",
    "FALSE": "false",
    "NAME": "a field or function name",
    "STRING": "a string",
    "NUMBER": "a number",
    "COMP": "a comparison (= != < <= > >=)",
    "LPAR": "(",
    "RPAR": ")",
    "LSQB": "[",
    "RSQB": "]",
    "COMMA": ",",
    "DOT": ".",
    "$END": "the end",
}

Value = str | int | float | bool


class Pos(NamedTuple):
    """Where something is in the expression: 1-based line and column."""

    line: int
    column: int


# -- the tree -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    name: str  # dotted: "country", "traits.city"
    pos: Pos


@dataclass(frozen=True)
class Literal:
    value: Value
    pos: Pos


@dataclass(frozen=True)
class Compare:
    field: Field
    op: str  # = != < <= > >=
    value: Literal


@dataclass(frozen=True)
class InList:
    field: Field
    values: tuple[Literal, ...]
    negated: bool


@dataclass(frozen=True)
class IsNull:
    field: Field
    negated: bool


@dataclass(frozen=True)
class Arg:
    """A function argument: positional (`name` None), `name=value` or `name>=value`."""

    name: str | None
    op: str
    value: Literal
    pos: Pos


@dataclass(frozen=True)
class Call:
    function: str
    args: tuple[Arg, ...]
    pos: Pos


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Node, ...]


Node = Compare | InList | IsNull | Call | Not | And | Or
Condition = Compare | InList | IsNull | Call


def conditions(node: Node) -> Iterable[Condition]:
    """The conditions of a tree, left to right."""
    if isinstance(node, Not):
        yield from conditions(node.operand)
    elif isinstance(node, And | Or):
        for operand in node.operands:
            yield from conditions(operand)
    else:
        yield node


# -- parsing --------------------------------------------------------------------------------


def _pos(token: Token) -> Pos:
    return Pos(int(token.line or 1), int(token.column or 1))


_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "/": "/", "n": "\n", "t": "\t", "r": "\r"}


def _string(token: Token) -> str:
    body = str(token)[1:-1]
    if "\\" not in body:
        return body
    out: list[str] = []
    chars = iter(enumerate(body))
    for offset, char in chars:
        if char != "\\":
            out.append(char)
            continue
        _, escaped = next(chars)
        if escaped not in _ESCAPES:
            column = Pos(_pos(token).line, _pos(token).column + offset + 1)
            raise SegmentExpressionError(f"unknown escape \\{escaped} in a string", position=column)
        out.append(_ESCAPES[escaped])
    return "".join(out)


def _number(token: Token) -> int | float:
    text = str(token)
    if len(text) > MAX_NUMBER_TEXT:
        raise SegmentExpressionError(
            f"a number is at most {MAX_NUMBER_TEXT} characters", position=_pos(token)
        )
    if "." in text or "e" in text or "E" in text:
        number = float(text)
        if number != number or number in (float("inf"), float("-inf")):
            raise SegmentExpressionError(f"{text} is not a finite number", position=_pos(token))
        return number
    return int(text)


@v_args(inline=True)
class _Tree(Transformer[Token, Node]):
    def or_(self, *items: Node | Token) -> Node:
        return Or(tuple(item for item in items if not isinstance(item, Token)))

    def and_(self, *items: Node | Token) -> Node:
        return And(tuple(item for item in items if not isinstance(item, Token)))

    def not_(self, _: Token, operand: Node) -> Node:
        return Not(operand)

    def group(self, _: Token, inner: Node, __: Token) -> Node:
        return inner

    def compare(self, field: Field, op: Token, value: Literal) -> Node:
        return Compare(field, "=" if op == "==" else str(op), value)

    def in_list(self, field: Field, _: Token, values: tuple[Literal, ...]) -> Node:
        return InList(field, values, negated=False)

    def not_in_list(self, field: Field, _: Token, __: Token, values: tuple[Literal, ...]) -> Node:
        return InList(field, values, negated=True)

    def is_null(self, field: Field, _: Token, __: Token) -> Node:
        return IsNull(field, negated=False)

    def is_not_null(self, field: Field, _: Token, __: Token, ___: Token) -> Node:
        return IsNull(field, negated=True)

    def call(self, name: Token, *rest: Any) -> Node:
        args = tuple(item for item in rest if isinstance(item, Arg))
        return Call(str(name), args, _pos(name))

    def field(self, *parts: Token) -> Field:
        names = [str(p) for p in parts if p.type == "NAME"]
        return Field(".".join(names), _pos(parts[0]))

    def positional(self, value: Literal) -> Arg:
        return Arg(None, "=", value, value.pos)

    def named(self, name: Token, op: Token, value: Literal) -> Arg:
        return Arg(str(name), "=" if op == "==" else str(op), value, _pos(name))

    def list(self, *items: Any) -> tuple[Literal, ...]:
        values = tuple(item for item in items if isinstance(item, Literal))
        if len(values) > MAX_LIST:
            raise SegmentExpressionError(
                f"a list holds at most {MAX_LIST} values", position=values[MAX_LIST].pos
            )
        return values

    def value(self, token: Token) -> Literal:
        pos = _pos(token)
        if token.type == "STRING":
            return Literal(_string(token), pos)
        if token.type == "NUMBER":
            return Literal(_number(token), pos)
        return Literal(token.type == "TRUE", pos)


@cache
def _parser() -> Lark:
    return Lark(GRAMMAR, parser="lalr", lexer="basic", maybe_placeholders=False)


def _expected(names: Iterable[str]) -> str:
    words = sorted({_TOKEN_WORDS.get(name, name) for name in names})
    return ", ".join(words)


def _check_shape(tokens: Sequence[Token], expression: str) -> None:
    """The caps on nesting and size, on the tokens: before any tree is built."""
    depth = nots = 0
    for token in tokens:
        if token.type in ("LPAR", "LSQB"):
            depth += 1
            if depth > MAX_DEPTH:
                raise SegmentExpressionError(
                    f"parentheses nested more than {MAX_DEPTH} deep", expression, _pos(token)
                )
        elif token.type in ("RPAR", "RSQB"):
            depth -= 1
        elif token.type == "NOT":
            nots += 1
            if nots > MAX_NOTS:
                raise SegmentExpressionError(
                    f"more than {MAX_NOTS} 'not' in one expression", expression, _pos(token)
                )


def parse(expression: str) -> Node:
    """The tree of a segment expression; `SegmentExpressionError` pointing at the mistake."""
    if not isinstance(expression, str):
        raise SegmentExpressionError("a segment expression is text")
    if len(expression) > MAX_EXPRESSION:
        raise SegmentExpressionError(
            f"a segment expression is at most {MAX_EXPRESSION} characters, not {len(expression)}"
        )
    if not expression.strip():
        raise SegmentExpressionError("the segment expression is empty")
    parser = _parser()
    try:
        _check_shape(list(parser.lex(expression)), expression)
        tree = parser.parse(expression)
        node: Node = _Tree().transform(tree)
    except UnexpectedCharacters as exc:
        where = Pos(exc.line, exc.column)
        char = expression[exc.pos_in_stream] if exc.pos_in_stream is not None else "?"
        if char in "\"'":
            raise SegmentExpressionError("this string is not closed", expression, where) from None
        raise SegmentExpressionError(f"unexpected character {char!r}", expression, where) from None
    except UnexpectedEOF as exc:
        end = _end(expression)
        raise SegmentExpressionError(
            f"the expression ends too soon: expected {_expected(exc.expected)}", expression, end
        ) from None
    except UnexpectedToken as exc:
        token = exc.token
        if token.type == "$END":
            raise SegmentExpressionError(
                f"the expression ends too soon: expected {_expected(exc.expected)}",
                expression,
                _end(expression),
            ) from None
        raise SegmentExpressionError(
            f"unexpected {str(token)!r}: expected {_expected(exc.expected)}",
            expression,
            _pos(token),
        ) from None
    except VisitError as exc:
        inner = exc.orig_exc
        if isinstance(inner, SegmentExpressionError):
            raise SegmentExpressionError(inner.reason, expression, inner.position) from None
        raise
    except (UnexpectedInput, LarkError) as exc:  # pragma: no cover - lark's other errors
        raise SegmentExpressionError(f"cannot read the expression: {exc}") from None
    return node


def _end(expression: str) -> Pos:
    lines = expression.split("\n")
    return Pos(len(lines), len(lines[-1]) + 1)


def suggestion(name: str, known: Iterable[str]) -> str:
    """ " (did you mean 'x'?)" when a known name is close to `name`, else ""."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""
