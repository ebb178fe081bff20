"""What analytics need to know of a workspace besides its tables, as one frozen value.

The workspace builds it (`Workspace.analytics_settings()`), so analytics never import the
workspace: a report runs the same on any engine given a backend and these settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from empreinte.analytics.cx.settings import CxSettings
from empreinte.analytics.generations import Generations
from empreinte.profiles.traits import TraitPolicy
from empreinte.store.ownership import Ownership


@dataclass(frozen=True)
class AnalyticsSettings:
    """`timezone`: of report periods (IANA); `default_region`: how dates and phone numbers are
    read (day first except in the US); `generations`: their first birth years; `cx`: how
    answers are counted; `traits`: which source's trait wins; `ownership`: the identifier
    ranks and cut identifiers that decide which profile owns an event."""

    timezone: str = "UTC"
    default_region: str = "FR"
    generations: Generations = field(default_factory=lambda: Generations.from_mapping(None))
    cx: CxSettings = field(default_factory=CxSettings)
    traits: TraitPolicy = field(default_factory=TraitPolicy)
    ownership: Ownership = field(default_factory=lambda: Ownership({}))
