"""Segment expressions (segment_language.py) compiled into Ibis: one row per matching person.

Who can be a member: the profiles that allow `analytics` (the rule of every behavioural
report, analytics/cx/consented.py). Each condition becomes a table of the people for whom it
holds, left-joined to those profiles; `and`/`or`/`not` then combine the joined columns. A
condition on a value the person does not have is false (`country != "FR"` is false when the
country is unknown; `not country = "FR"` is true), so `not` is plain logic; `is null` tests a
missing value. Values are bound as Ibis literals: nothing of the text ever becomes SQL.

Fields (exact rules in docs/segments.md):

- profile facts (`profile_facts`): country, birth_year, age (in the year of evaluation),
  generation (the `[generations]` boundaries), preferred_channel;
- `traits.<path>`: the winning current value of a trait (analytics/current_traits.py), as text,
  or as a number when compared with one; personal traits are refused;
- behaviour from the person's touchpoints: orders (`Order Completed`), revenue (their `revenue`,
  else `total`, all currencies added), first_seen, last_seen, days_since_first_seen,
  days_since_last_seen, channels and channel_class (analytics/journeys/channels.py);
- model-computed traits: any `trait` of the `computed_traits` table (clv, churn_risk,
  rfm_segment…), a number or text as stored, the latest row per person.

Functions: `did(step, within="90d", count>=n)` (the step syntax of journeys/steps.py, durations
by `parse_duration`), `did_not(…)`, `consented("purpose")`, `in_segment("name")` (another saved
segment's expression, inlined; cycles refused).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import ibis
import ibis.expr.types as ir

from empreinte.analytics.attributes import facts_attribute
from empreinte.analytics.cx.consented import ANALYTICS_PURPOSE
from empreinte.analytics.journeys.steps import parse_step
from empreinte.analytics.journeys.touchpoints import JourneyScope, touchpoints
from empreinte.analytics.json import JsonDoc
from empreinte.analytics.know.purchases import order_value
from empreinte.analytics.know.segment_language import (
    And,
    Arg,
    Call,
    Compare,
    Condition,
    Field,
    InList,
    IsNull,
    Node,
    Not,
    Or,
    Pos,
    SegmentExpressionError,
    Value,
    parse,
    suggestion,
)
from empreinte.analytics.log import AnalyticsLog
from empreinte.durations import parse_duration
from empreinte.errors import AnalyticsError
from empreinte.privacy.pii import is_personal_trait

Kind = Literal["text", "number", "time"]
ORDER_STEP = "Order Completed"
MAX_SEGMENT_NESTING = 8

PROFILE_FIELDS: dict[str, Kind] = {
    "country": "text",
    "birth_year": "number",
    "age": "number",
    "generation": "text",
    "preferred_channel": "text",
}
BEHAVIOUR_FIELDS: dict[str, Kind] = {
    "orders": "number",
    "revenue": "number",
    "first_seen": "time",
    "last_seen": "time",
    "days_since_first_seen": "number",
    "days_since_last_seen": "number",
    "channels": "number",
    "channel_class": "text",
}
FUNCTIONS = ("did", "did_not", "consented", "in_segment")
#: Purposes `consented()` accepts (privacy/consent.py's list).
_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_ZERO_OPS = {"<": lambda n: n > 0, "<=": lambda n: n >= 0, "=": lambda n: n == 0}

Resolver = Callable[[str], str | None]


@dataclass(frozen=True)
class Context:
    """What an expression is evaluated against: the moment (`within`, `age`, `days_since_…`),
    how a date without an offset is read, and how another segment's expression is found."""

    as_of: datetime
    local: Callable[[datetime], datetime] = field(default=lambda moment: moment)
    resolve: Resolver | None = None
    purposes: tuple[str, ...] = ()


@dataclass
class _Atom:
    """One condition compiled. A comparison is a boolean column `holds` over its field's table
    (one row per person with a value), `missing` when the person has no row; a function is a
    table of `people` for whom it holds (`complement` False) or fails (`complement` True:
    `did(x, count<2)` holds for people with no `x` at all)."""

    field: str | None = None
    holds: ir.BooleanValue | None = None
    missing: bool = False
    people: ir.Table | None = None
    complement: bool = False


def _balanced(parts: list[ir.BooleanValue], both: bool) -> ir.BooleanValue:
    """`parts` joined by and (`both`) or or, as a balanced tree: a long chain stays shallow
    for the engines' compilers."""
    while len(parts) > 1:
        paired = [
            (parts[i] & parts[i + 1]) if both else (parts[i] | parts[i + 1])
            for i in range(0, len(parts) - 1, 2)
        ]
        parts = paired + ([parts[-1]] if len(parts) % 2 else [])
    return parts[0]


class SegmentCompiler:
    """Compiles one expression (and the saved segments it names) against one log; one
    compiler per expression."""

    def __init__(self, log: AnalyticsLog, context: Context):
        self.log = log
        self.ctx = context
        # Conditions by identity (two equal-looking nodes of two texts are two conditions).
        self._atoms: dict[int, int] = {}
        self._inlined: dict[int, Node] = {}
        self._list: list[_Atom] = []
        self._fields: dict[str, tuple[ir.Table, Kind]] = {}
        self._computed: dict[str, Kind] | None = None
        self._stack: list[str] = []

    # -- the whole expression --------------------------------------------------------------

    def members(self, expression: str, name: str | None = None) -> ir.Table:
        """One row per member: `profile_id`. `name` is the segment's own name when it is
        saved (so that `in_segment` of itself is a cycle)."""
        if name is not None:
            self._stack.append(name)
        tree = parse(expression)
        self._compile(tree, expression)
        state = self.log.derived("consent_state")
        base = state.filter((state.purpose == ANALYTICS_PURPOSE) & state.allowed)
        joined = base.select("profile_id").distinct()
        # One join per field (all its conditions as columns), one per function call.
        for number, (key, (table, _)) in enumerate(self._fields.items()):
            columns = {
                f"_c{i}": atom.holds
                for i, atom in enumerate(self._list)
                if atom.field == key and atom.holds is not None
            }
            if not columns:
                continue
            person = f"_f{number}"
            flags = table.select(**{person: table.profile_id}, **columns)
            joined = joined.left_join(flags, joined.profile_id == flags[person]).drop(person)
        for i, atom in enumerate(self._list):
            if atom.people is not None:
                key = f"_c{i}"
                people = atom.people.select(**{key: atom.people.profile_id}).distinct()
                joined = joined.left_join(people, joined.profile_id == people[key])
        predicate = self._predicate(tree, joined)
        return joined.filter(predicate).select("profile_id")

    def _compile(self, node: Node, expression: str) -> None:
        if isinstance(node, Not):
            self._compile(node.operand, expression)
        elif isinstance(node, And | Or):
            for operand in node.operands:
                self._compile(operand, expression)
        elif isinstance(node, Call) and node.function == "in_segment":
            name = self._segment_name(node, expression)
            self._inlined[id(node)] = self._inline(name, node.pos, expression)
        else:
            self._atoms[id(node)] = len(self._list)
            self._list.append(self._condition(node, expression))

    def _inline(self, name: str, pos: Pos, expression: str) -> Node:
        """The tree of saved segment `name`, its conditions compiled; its errors reported at
        the `in_segment` call."""
        if name in self._stack:
            cycle = " -> ".join([*self._stack, name])
            raise SegmentExpressionError(
                f"in_segment({name!r}) makes a cycle: {cycle}", expression, pos
            )
        if len(self._stack) >= MAX_SEGMENT_NESTING:
            raise SegmentExpressionError(
                f"segments nested more than {MAX_SEGMENT_NESTING} deep", expression, pos
            )
        found = self.ctx.resolve(name) if self.ctx.resolve is not None else None
        if found is None:
            raise SegmentExpressionError(f"no saved segment named {name!r}", expression, pos)
        self._stack.append(name)
        try:
            inner = parse(found)
            self._compile(inner, found)
        except SegmentExpressionError as exc:
            raise SegmentExpressionError(
                f"segment {name!r}: {exc.reason}", expression, pos
            ) from None
        finally:
            self._stack.pop()
        return inner

    def _predicate(self, node: Node, table: ir.Table) -> ir.BooleanValue:
        if isinstance(node, Not):
            return ~self._predicate(node.operand, table)
        if isinstance(node, And | Or):
            parts = [self._predicate(operand, table) for operand in node.operands]
            return _balanced(parts, isinstance(node, And))
        if id(node) in self._inlined:
            return self._predicate(self._inlined[id(node)], table)
        index = self._atoms[id(node)]
        atom = self._list[index]
        column = table[f"_c{index}"]
        if atom.people is None:
            holds: ir.BooleanValue = column.fill_null(atom.missing)
            return holds
        present: ir.BooleanValue = column.notnull()
        return ~present if atom.complement else present

    # -- conditions ------------------------------------------------------------------------

    def _condition(self, node: Condition, expression: str) -> _Atom:
        if isinstance(node, Call):
            return self._call(node, expression)
        if isinstance(node, Compare):
            numeric = _is_number(node.value.value)
        elif isinstance(node, InList):
            numeric = bool(node.values) and all(_is_number(v.value) for v in node.values)
        else:
            numeric = False
        key, values, kind = self._field(node.field, expression, numeric)
        if isinstance(node, IsNull):
            present = values.value.notnull()
            return _Atom(key, present if node.negated else ~present, missing=not node.negated)
        if isinstance(node, InList):
            literals = [
                self._literal(v.value, kind, node.field, v.pos, expression) for v in node.values
            ]
            if not literals:
                raise SegmentExpressionError(
                    "an empty list: give at least one value", expression, node.field.pos
                )
            test = values.value.isin(literals)
            return _Atom(key, (~test if node.negated else test).fill_null(False))
        literal = self._literal(node.value.value, kind, node.field, node.value.pos, expression)
        if kind == "text" and node.op not in ("=", "!="):
            raise SegmentExpressionError(
                f"{node.field.name} is text: compare it with = or != (or in […])",
                expression,
                node.field.pos,
            )
        test = _OPS[node.op](values.value, literal)
        return _Atom(key, test.fill_null(False))

    def _literal(self, value: Value, kind: Kind, fld: Field, pos: Pos, expression: str) -> Any:
        if kind == "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise SegmentExpressionError(
                    f"{fld.name} is a number: compare it with a number, not {_show(value)}",
                    expression,
                    pos,
                )
            return ibis.literal(float(value), "float64")
        if kind == "time":
            if not isinstance(value, str):
                raise SegmentExpressionError(
                    f'{fld.name} is a time: compare it with a date, e.g. "2026-01-31"',
                    expression,
                    pos,
                )
            try:
                moment = self.ctx.local(datetime.fromisoformat(value))
            except ValueError:
                raise SegmentExpressionError(
                    f"{value!r} is not a date (YYYY-MM-DD) or date-time", expression, pos
                ) from None
            return ibis.literal(moment.astimezone(UTC), "timestamp('UTC')")
        if isinstance(value, bool):
            return ibis.literal("true" if value else "false", "string")
        if not isinstance(value, str):
            raise SegmentExpressionError(
                f'{fld.name} is text: compare it with a string, e.g. {fld.name} = "…"',
                expression,
                pos,
            )
        return ibis.literal(value, "string")

    # -- fields: a table (profile_id, value) per field -------------------------------------

    def _field(self, fld: Field, expression: str, numeric: bool) -> tuple[str, ir.Table, Kind]:
        """(key, table of `profile_id`, `value`, its kind), computed once per field."""
        key = f"{fld.name}#number" if numeric and fld.name.startswith("traits.") else fld.name
        if key not in self._fields:
            self._fields[key] = self._field_table(fld, expression, numeric)
        table, kind = self._fields[key]
        return key, table, kind

    def _field_table(self, fld: Field, expression: str, numeric: bool) -> tuple[ir.Table, Kind]:
        name = fld.name
        if name in PROFILE_FIELDS:
            return self._profile_field(name), PROFILE_FIELDS[name]
        if name in BEHAVIOUR_FIELDS:
            return self._behaviour_field(name), BEHAVIOUR_FIELDS[name]
        if name.startswith("traits."):
            table = self._trait(fld, expression)
            if numeric:
                return table.select("profile_id", value=table.number), "number"
            return table.select("profile_id", value=table.text), "text"
        computed = self._computed_traits()
        if name in computed:
            table = self.log.table("computed_traits")
            rows = table.filter(table.trait == name)
            column = rows.number if computed[name] == "number" else rows.text
            latest = rows.group_by("profile_id").agg(value=column.argmax(rows.computed_at))
            return latest, computed[name]
        known = [*PROFILE_FIELDS, *BEHAVIOUR_FIELDS, *sorted(computed)]
        raise SegmentExpressionError(
            f"unknown field {name!r}{suggestion(name, known)}; known fields: "
            f"{', '.join(known)}, traits.<path>",
            expression,
            fld.pos,
        )

    def _computed_traits(self) -> dict[str, Kind]:
        """The traits in `computed_traits`: a number when any row holds one, else text."""
        if self._computed is not None:
            return self._computed
        table = self.log.table("computed_traits")
        frame = self.log.execute(table.group_by("trait").agg(numbers=table.number.count()))
        found: dict[str, Kind] = {
            str(t): ("number" if int(n) > 0 else "text")
            for t, n in zip(frame["trait"], frame["numbers"], strict=True)
        }
        self._computed = found
        return found

    def _profile_field(self, name: str) -> ir.Table:
        if name in ("age", "birth_year"):  # the generation: facts_attribute
            self.log.require_personal_values(f"a segment on {name}")
        facts = self.log.derived("profile_facts")
        if name == "age":
            value: ir.Value = (self.ctx.as_of.year - facts.birth_year).cast("float64")
        elif name == "birth_year":
            value = facts.birth_year.cast("float64")
        else:
            value = facts_attribute(self.log, facts, name)
        return facts.select("profile_id", value=value)

    def _behaviour_field(self, name: str) -> ir.Table:
        if name in ("channels", "channel_class"):
            from empreinte.analytics.journeys.channels import classes_table

            people = classes_table(self.log)
            value = people.channels.cast("float64") if name == "channels" else people.channel_class
            return people.select("profile_id", value=value)
        if name in ("orders", "revenue"):
            orders = touchpoints(self.log, steps=[ORDER_STEP])
            orders = orders.filter(orders.type == "track")
            amount = order_value(JsonDoc(self.log, orders.properties))
            per = orders.group_by("profile_id").agg(
                orders=orders.count().cast("float64"), revenue=amount.sum().fill_null(0.0)
            )
            return per.select("profile_id", value=per[name])
        seen = touchpoints(self.log)
        per = seen.group_by("profile_id").agg(first_seen=seen.at.min(), last_seen=seen.at.max())
        if name in ("first_seen", "last_seen"):
            return per.select("profile_id", value=per[name])
        moment = per[name.removeprefix("days_since_")]
        now = self.ctx.as_of.timestamp()
        days = (ibis.literal(now) - moment.epoch_seconds().cast("float64")) / 86400.0
        return per.select("profile_id", value=days)

    def _trait(self, fld: Field, expression: str) -> ir.Table:
        """`profile_id`, `text`, `number` (when the value reads as one): the winning current
        value of the trait, for the people who have one."""
        import pyarrow as pa

        from empreinte.analytics.current_traits import current_traits

        path = fld.name.removeprefix("traits.")
        if is_personal_trait(path):
            raise SegmentExpressionError(
                f"{fld.name} is personal data (pseudonymised in the log): a segment cannot read it",
                expression,
                fld.pos,
            )
        merged = current_traits(self.log, [path])
        ids, texts, numbers = [], [], []
        for profile_id, traits in sorted(merged.items()):
            found = traits.current.get(path)
            if found is None or found.value is None or isinstance(found.value, dict | list):
                continue
            value = found.value
            ids.append(profile_id)
            texts.append(("true" if value else "false") if isinstance(value, bool) else str(value))
            number: float | None = None
            if isinstance(value, int | float) and not isinstance(value, bool):
                number = float(value)
            elif isinstance(value, str):
                try:
                    number = float(value)
                except ValueError:
                    number = None
            numbers.append(number)
        table = ibis.memtable(
            pa.table(
                {
                    "profile_id": pa.array(ids, pa.string()),
                    "text": pa.array(texts, pa.string()),
                    "number": pa.array(numbers, pa.float64()),
                }
            )
        )
        return table

    # -- functions -------------------------------------------------------------------------

    def _segment_name(self, node: Call, expression: str) -> str:
        args = self._args(node, expression, positional=1, named={})
        value = args[0].value.value
        if not isinstance(value, str) or not value.strip():
            raise SegmentExpressionError(
                "in_segment takes a segment's name as a string", expression, args[0].pos
            )
        return value

    def _call(self, node: Call, expression: str) -> _Atom:
        if node.function == "consented":
            args = self._args(node, expression, positional=1, named={})
            purpose = args[0].value.value
            if purpose not in self.ctx.purposes:
                raise SegmentExpressionError(
                    f"unknown purpose {_show(purpose)}{suggestion(str(purpose), self.ctx.purposes)}"
                    f": use one of {', '.join(self.ctx.purposes)}",
                    expression,
                    args[0].pos,
                )
            state = self.log.derived("consent_state")
            allowed = state.filter((state.purpose == ibis.literal(purpose)) & state.allowed)
            return _Atom(people=allowed.select("profile_id"))
        if node.function in ("did", "did_not"):
            return self._did(node, expression)
        raise SegmentExpressionError(
            f"unknown function {node.function!r}{suggestion(node.function, FUNCTIONS)}: use "
            f"{', '.join(FUNCTIONS)}",
            expression,
            node.pos,
        )

    def _args(
        self, node: Call, expression: str, *, positional: int, named: dict[str, tuple[str, ...]]
    ) -> list[Arg]:
        """The call's arguments: exactly `positional` first, then the `named` ones (name →
        the operators each accepts), each at most once."""
        plain = [a for a in node.args if a.name is None]
        if len(plain) != positional or any(a.name is None for a in node.args[positional:]):
            raise SegmentExpressionError(
                f"{node.function}() takes {positional} value{'s' if positional > 1 else ''} "
                f"first{', then ' + ', '.join(named) if named else ''}",
                expression,
                node.pos,
            )
        seen: set[str] = set()
        for arg in node.args[positional:]:
            assert arg.name is not None
            if arg.name not in named:
                raise SegmentExpressionError(
                    f"{node.function}() has no argument {arg.name!r}"
                    f"{suggestion(arg.name, named)}"
                    + (f": use {', '.join(named)}" if named else ""),
                    expression,
                    arg.pos,
                )
            if arg.op not in named[arg.name]:
                raise SegmentExpressionError(
                    f"write {arg.name}{named[arg.name][0]}…", expression, arg.pos
                )
            if arg.name in seen:
                raise SegmentExpressionError(f"{arg.name} given twice", expression, arg.pos)
            seen.add(arg.name)
        return list(node.args)

    def _did(self, node: Call, expression: str) -> _Atom:
        args = self._args(
            node,
            expression,
            positional=1,
            named={"within": ("=",), "count": tuple(_OPS)},
        )
        step_arg = args[0]
        if not isinstance(step_arg.value.value, str):
            raise SegmentExpressionError(
                f'{node.function}() takes a step as a string, e.g. "Order Completed"',
                expression,
                step_arg.pos,
            )
        try:
            step = parse_step(step_arg.value.value)
        except AnalyticsError as exc:
            raise SegmentExpressionError(str(exc), expression, step_arg.pos) from None
        scope = JourneyScope()
        op, count = ">=", 1
        for arg in args[1:]:
            if arg.name == "within":
                if not isinstance(arg.value.value, str):
                    raise SegmentExpressionError(
                        'within takes a duration as a string, e.g. within="90d"',
                        expression,
                        arg.value.pos,
                    )
                try:
                    within = parse_duration(arg.value.value, "within")
                except AnalyticsError as exc:
                    raise SegmentExpressionError(str(exc), expression, arg.value.pos) from None
                scope = JourneyScope(since=self.ctx.as_of - within, until=self.ctx.as_of)
            else:
                value = arg.value.value
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise SegmentExpressionError(
                        "count takes a whole number, e.g. count>=2", expression, arg.value.pos
                    )
                op, count = arg.op, value
        table = touchpoints(self.log, scope, steps=[step.event])
        table = table.filter(step.matches(self.log, table))
        counts = table.group_by("profile_id").agg(n=table.count())
        # People with no such touchpoint have a count of 0: when 0 satisfies the test, the
        # condition holds for everyone but those whose count fails it.
        zero_holds = _OPS[op](0, count)
        test = _OPS[op](counts.n, count)
        people = counts.filter(~test if zero_holds else test).select("profile_id")
        complement = zero_holds
        if node.function == "did_not":
            complement = not complement
        return _Atom(people=people, complement=complement)


def _is_number(value: Value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value).lower()


def members_table(log: AnalyticsLog, expression: str, context: Context) -> ir.Table:
    """The members of `expression` (one row each, `profile_id`) as an Ibis table."""
    return SegmentCompiler(log, context).members(expression)


def default_context(
    as_of: datetime | None = None,
    local: Callable[[datetime], datetime] | None = None,
    resolve: Resolver | None = None,
) -> Context:
    from empreinte.privacy.consent import PURPOSES

    moment = as_of or datetime.now(UTC)
    if moment.tzinfo is None:
        raise AnalyticsError("as_of needs a time zone")
    return Context(
        moment, local or (lambda m: m if m.tzinfo else m.replace(tzinfo=UTC)), resolve, PURPOSES
    )
