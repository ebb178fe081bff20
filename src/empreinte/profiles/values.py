"""Loosely typed values as people and files give them: a cell as text, a birth date.

Shared by profiles (a birth year from a `birthday` trait) and record matching (CRM cells).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_SLASH_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_YEAR = re.compile(r"(\d{4})")


def cell_text(value: Any) -> str | None:
    """A cell as stripped text; None for empty, null, NaN or a boolean."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        if value != value:  # NaN from a pandas frame
            return None
        if value.is_integer():
            value = int(value)
    text = str(value).strip()
    return text or None


def birth(value: Any, day_first: bool = True) -> tuple[str | None, int | None]:
    """(date as YYYY-MM-DD or None, year or None) of a birth date, or of a bare year.

    Reads ISO dates, YYYYMMDD, DD/MM/YYYY (MM/DD/YYYY when `day_first` is false), a year
    alone, and date objects. A typed date with an impossible day is kept as written (a typo
    still resembles the truth), but a year outside 1880–2030 is dropped.
    """
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat(), value.year
    text = cell_text(value)
    if text is None:
        return None, None
    year: int
    day_month: tuple[int, int] | None = None
    if (m := _ISO_DATE.fullmatch(text[:10])) or (m := _COMPACT_DATE.fullmatch(text)):
        year, day_month = int(m[1]), (int(m[3]), int(m[2]))
    elif m := _SLASH_DATE.fullmatch(text):
        a, b = int(m[1]), int(m[2])
        year, day_month = int(m[3]), ((a, b) if day_first else (b, a))
    elif m := _YEAR.fullmatch(text):
        year = int(m[1])
    else:
        return None, None
    if not 1880 <= year <= 2030:
        return None, None
    if day_month is None:
        return None, year
    day, month = day_month
    return f"{year:04d}-{month:02d}-{day:02d}", year
