"""`[voc.calls]` and `[voc.answers]` of empreinte.toml: the window before a call and where the
answer to each reason for calling is published.

```toml
[voc.calls]
hours = 24          # web/app sessions attached to a call: those in the 24 h before it
repeat_days = 7     # a second call within 7 days is a repeated call

[voc.answers]       # reason -> the pages (paths or page names) that answer it
delivery = ["/help/delivery", "/suivi"]
refund = ["/help/returns"]
```

Only these two tables of `[voc]` are read here; the other settings of `[voc]` belong to the
parts that read them (docs/voc.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from empreinte.errors import ConfigError

DEFAULT_HOURS = 24
MAX_HOURS = 24 * 30
DEFAULT_REPEAT_DAYS = 7
MAX_REPEAT_DAYS = 90
_CALL_KEYS = {"hours", "repeat_days"}
#: Bounds of the answers map: it becomes `isin` lists in every report's query.
MAX_REASONS = 200
MAX_PAGES_PER_REASON = 50
MAX_NAME = 200


def _whole(section: Mapping[str, Any], key: str, default: int, top: int) -> int:
    value = section.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= top:
        raise ConfigError(f"[voc.calls] {key} must be a whole number from 1 to {top}")
    return value


def _name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_NAME:
        raise ConfigError(f"{where} must be a non-empty text of at most {MAX_NAME} characters")
    return value.strip()


@dataclass(frozen=True)
class CallSettings:
    """`hours`: the window before a call; `repeat_days`: what a repeated call is; `answers`:
    reason -> the pages answering it."""

    hours: int = DEFAULT_HOURS
    repeat_days: int = DEFAULT_REPEAT_DAYS
    answers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any]) -> CallSettings:
        """From the `[voc]` table (its `calls` and `answers` sub-tables)."""
        calls = section.get("calls", {})
        if not isinstance(calls, Mapping):
            raise ConfigError("[voc.calls] must be a table")
        unknown = sorted(set(calls) - _CALL_KEYS)
        if unknown:
            raise ConfigError(f"[voc.calls]: unknown setting(s) {', '.join(unknown)}")
        raw = section.get("answers", {})
        if not isinstance(raw, Mapping):
            raise ConfigError("[voc.answers] must be a table: reason = [pages]")
        if len(raw) > MAX_REASONS:
            raise ConfigError(f"[voc.answers] holds more than {MAX_REASONS} reasons")
        answers: dict[str, tuple[str, ...]] = {}
        for reason, pages in raw.items():
            where = f"[voc.answers] {reason}"
            _name(reason, "[voc.answers]: a reason")
            if isinstance(pages, str):
                pages = [pages]
            if not isinstance(pages, list) or not pages or len(pages) > MAX_PAGES_PER_REASON:
                raise ConfigError(
                    f"{where} must be a list of 1 to {MAX_PAGES_PER_REASON} pages "
                    '(paths or page names), e.g. ["/help/delivery"]'
                )
            answers[reason.strip()] = tuple(dict.fromkeys(_name(p, where) for p in pages))
        return cls(
            hours=_whole(calls, "hours", DEFAULT_HOURS, MAX_HOURS),
            repeat_days=_whole(calls, "repeat_days", DEFAULT_REPEAT_DAYS, MAX_REPEAT_DAYS),
            answers=answers,
        )
