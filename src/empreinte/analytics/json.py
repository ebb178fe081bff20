"""Reading the log's JSON columns through the engine, the same way on every engine.

The backend gives the JSON text at a key path and the string there (store/analytics.py); the
kind of a value and numbers are read from that text here, once, so DuckDB and Spark agree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir

if TYPE_CHECKING:
    from empreinte.analytics.log import AnalyticsLog


class JsonDoc:
    """One JSON column (`properties`, `context`, `traits`, the vault's `values`) of a table."""

    def __init__(self, log: AnalyticsLog, column: ir.Value):
        self._log = log
        self.column = column

    def at(self, *keys: str) -> ir.StringValue:
        """The JSON text of the value at `keys`; NULL when absent, 'null' for a JSON null."""
        return self._log.json_at(self.column, *keys)

    def present(self, *keys: str) -> ir.BooleanValue:
        return self.at(*keys).notnull()

    def string(self, *keys: str) -> ir.StringValue:
        """The string at `keys`; NULL when absent or not a string."""
        return self._log.json_string(self.column, *keys)

    def items(self, *keys: str) -> ir.ArrayValue:
        """The elements of the array at `keys`, each as JSON text (none when not an array)."""
        return self._log.json_items(self.column, *keys)

    def number(self, *keys: str) -> ir.FloatingValue:
        """The number at `keys`; NULL when absent or not a number."""
        text = self.at(*keys)
        number: ir.FloatingValue = ibis.ifelse(
            json_kind(text) == "number", text.try_cast("float64"), ibis.null("float64")
        )
        return number

    def text(self, *keys: str) -> ir.StringValue:
        """The value at `keys` as text for grouping: a string unquoted, numbers and booleans
        by their JSON text ("7", "true"); NULL when absent or a JSON null."""
        return self.string(*keys).fill_null(self.at(*keys).nullif("null"))


def json_kind(text: ir.StringValue) -> ir.StringValue:
    """object, array, string, boolean, null or number, from (minified) JSON text."""
    kind: ir.StringValue = text.left(1).cases(
        ("{", "object"),
        ("[", "array"),
        ('"', "string"),
        ("n", "null"),
        ("t", "boolean"),
        ("f", "boolean"),
        else_="number",
    )
    return kind
