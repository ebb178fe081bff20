"""The ideal customer profile of B2B accounts: `[icp]` in empreinte.toml, checked when a
workspace opens (so this module loads no analytics library), or built in Python. The fit
itself is analytics/know/icp.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from empreinte.errors import AnalyticsError, ConfigError

CRITERIA = ("industry", "employees", "country")


@dataclass(frozen=True)
class IdealCustomer:
    """The ideal customer profile: each criterion optional, at least one stated."""

    industries: tuple[str, ...] = ()
    employees: tuple[int, int] | None = None
    countries: tuple[str, ...] = ()
    weights: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.stated:
            raise ConfigError("[icp] states no criterion: give industries, employees or countries")
        unknown = sorted(set(self.weights) - set(CRITERIA))
        if unknown:
            raise ConfigError(
                f"[icp] weights: unknown criterion {', '.join(unknown)}; use {', '.join(CRITERIA)}"
            )
        for name, weight in self.weights.items():
            if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
                raise ConfigError(f"[icp] weights: {name} must be a number >= 0, not {weight!r}")
        if sum(self.weight(c) for c in self.stated) <= 0:
            raise ConfigError("[icp] weights: the stated criteria weigh nothing")

    @property
    def stated(self) -> tuple[str, ...]:
        given = {
            "industry": bool(self.industries),
            "employees": self.employees is not None,
            "country": bool(self.countries),
        }
        return tuple(c for c in CRITERIA if given[c])

    def weight(self, criterion: str) -> float:
        return float(self.weights.get(criterion, 1.0))

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any] | None) -> IdealCustomer | None:
        """From `[icp]`; None when the section is absent or empty."""
        if not section:
            return None
        unknown = sorted(set(section) - {"industries", "employees", "countries", "weights"})
        if unknown:
            raise ConfigError(
                f"[icp]: unknown setting {', '.join(unknown)};"
                " use industries, employees, countries, weights"
            )
        return cls(
            industries=_texts(section.get("industries", []), "industries"),
            employees=_range(section.get("employees")),
            countries=tuple(c.upper() for c in _texts(section.get("countries", []), "countries")),
            weights=_weights(section.get("weights", {})),
        )


def _texts(value: Any, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f'[icp] {name} must be a list of names, e.g. ["a", "b"]')
    return tuple(v.strip() for v in value)


def _range(value: Any) -> tuple[int, int] | None:
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)
        or value[0] > value[1]
    ):
        raise ConfigError(f"[icp] employees must be [least, most], e.g. [10, 200], not {value!r}")
    return int(value[0]), int(value[1])


def _weights(value: Any) -> dict[str, float]:
    if not isinstance(value, Mapping):
        raise ConfigError("[icp] weights must be a table, e.g. { industry = 2, country = 1 }")
    return dict(value)


def ideal_customer(
    *,
    industries: Sequence[str] = (),
    employees: tuple[int, int] | None = None,
    countries: Sequence[str] = (),
    weights: Mapping[str, float] | None = None,
) -> IdealCustomer:
    """An ideal customer profile in Python (the same checks as `[icp]`)."""
    section: dict[str, Any] = {
        "industries": list(industries),
        "countries": list(countries),
        "weights": dict(weights or {}),
    }
    if employees is not None:
        section["employees"] = list(employees)
    try:
        found = IdealCustomer.from_mapping(section)
    except ConfigError as exc:
        raise AnalyticsError(str(exc).replace("[icp] ", "ICP: ")) from None
    assert found is not None
    return found
