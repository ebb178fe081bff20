"""The `[voc]` settings of a workspace: the reasons for calling and their keywords, the topics.

```toml
[voc]
reasons = ["delivery", "refund", "payment", "product_question", "complaint", "account", "other"]
keywords = { delivery = ["colis", "parcel"], warranty = ["garantie", "warranty"] }
topics = 0            # 0: k chosen by coherence over topics_min..topics_max; else that many
topics_min = 4
topics_max = 12
```

`keywords` adds to (or, for a reason of its own, defines) the rules of voc/reasons.py; a
reason the shipped examples do not know is found by its rules only. "other" is always a
reason: what nothing else explains.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from empreinte.errors import ConfigError

DEFAULT_REASONS = (
    "delivery",
    "refund",
    "payment",
    "product_question",
    "complaint",
    "account",
    "other",
)
_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
# `calls` and `answers` are the tables of voc/call_settings.py (the journeys before calls).
_KEYS = {"reasons", "keywords", "topics", "topics_min", "topics_max", "calls", "answers"}
MAX_KEYWORDS = 200


def _whole(section: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"[voc] {key} must be a whole number from {low} to {high}, got {value!r}")
    return value


@dataclass(frozen=True)
class VocSettings:
    reasons: tuple[str, ...] = DEFAULT_REASONS
    keywords: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    topics: int = 0
    topics_min: int = 4
    topics_max: int = 12

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any] | None) -> VocSettings:
        section = dict(section or {})
        unknown = sorted(set(section) - _KEYS)
        if unknown:
            raise ConfigError(f"[voc] unknown setting(s) {', '.join(unknown)}")
        reasons = section.get("reasons", list(DEFAULT_REASONS))
        if not isinstance(reasons, list) or not all(
            isinstance(r, str) and _NAME.fullmatch(r) for r in reasons
        ):
            raise ConfigError(
                "[voc] reasons must be a list of names (lower case letters, digits, _)"
            )
        names = tuple(dict.fromkeys([*reasons, "other"]))
        if len(names) > 50:
            raise ConfigError("[voc] reasons: at most 50")
        keywords = section.get("keywords", {})
        if not isinstance(keywords, dict):
            raise ConfigError("[voc] keywords must be a table of reason = [words]")
        checked: dict[str, tuple[str, ...]] = {}
        for reason, words in keywords.items():
            if reason not in names:
                raise ConfigError(f"[voc] keywords.{reason}: not one of the reasons")
            if (
                not isinstance(words, list)
                or len(words) > MAX_KEYWORDS
                or not all(isinstance(w, str) and 0 < len(w.strip()) <= 60 for w in words)
            ):
                raise ConfigError(
                    f"[voc] keywords.{reason} must be a list of up to {MAX_KEYWORDS} words or "
                    "phrases of 1 to 60 characters"
                )
            checked[reason] = tuple(words)
        topics = _whole(section, "topics", 0, 0, 50)
        low = _whole(section, "topics_min", 4, 2, 50)
        high = _whole(section, "topics_max", 12, 2, 50)
        if low > high:
            raise ConfigError("[voc] topics_min must not exceed topics_max")
        return cls(names, checked, topics, low, high)
