"""A workspace's settings, from the optional `empreinte.toml` in its directory.

```toml
default_region = "FR"        # how national phone numbers are read when nothing else says
timezone = "Europe/Paris"    # of report periods and of dates without an offset (default UTC)

[identity]                   # merge-protection rules, per identifier type
limits = { user_id = 1, email = 5 }
priority = ["user_id", "email", "phone", "loyalty_card", "external", "device_id", "anonymous_id"]

[profiles]                   # how traits from several sources are merged into one profile
source_priority = ["crm", "store", "web"]   # sources (or channels) trusted first; latest wins

[consent]                    # what silence means for non-marketing purposes (marketing: always no)
defaults = { analytics = false }
trusted_sources = ["crm"]    # may grant marketing and date their entries (docs/privacy.md)

[cx]                         # how survey answers are counted (see analytics/cx/settings.py)
min_n = 30

[generations]                # first birth year of each generation (default: Pew Research)
"Gen Z" = 1997

[icp]                        # the ideal B2B customer (analytics/know/icp.py)
industries = ["technology"]
employees = [10, 200]

[privacy]                    # keys of personal data besides the usual ones (docs/privacy.md)
personal_keys = ["iban", "loyalty number"]

[logins]                     # dashboard logins (docs/privacy.md): failures allowed per window
per_user = 5
per_address = 20
window_minutes = 15
concurrent = 2               # password checks at once (64 MiB of argon2 each)

[storage]                    # what the database may use (see store/settings.py)
memory_limit = "1GB"

[collector]                  # when the collector answers 429 (see collect/settings.py)
latency_budget = 2.0

[loyalty]                    # points and challenges (see activate/loyalty/settings.py)
daily_engagement_cap = 30
[partners]                   # partner insights (analytics/partners/settings.py)
k = 10

[analytics]                  # which engine runs reports (see store/engine_choice.py)
engine = "spark"
spark_master = "local[2]"

[offers]                     # next best offers (docs/offers.md)
ignore_after = 3             # impressions without a click after which an offer is gone
refresh_seconds = 300        # eligibility, consent, a newer model: refreshed this often
[voc]                        # voice of the customer: reasons, keywords, topics (voc/settings.py)
reasons = ["delivery", "refund", "payment", "other"]
[stories]                    # the year in review (activate/stories/settings.py)
emphasis = { FR = ["impact"], US = ["savings"] }

[voc.calls]                  # journeys before calls (voc/call_settings.py)
hours = 24
[voc.answers]                # reason -> the help pages that answer it
delivery = ["/help/delivery", "/suivi"]
```
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from empreinte.errors import ConfigError

CONFIG_FILE = "empreinte.toml"
_SECTIONS = (
    "identity",
    "profiles",
    "consent",
    "cx",
    "generations",
    "icp",
    "logins",
    "storage",
    "collector",
    "privacy",
    "analytics",
    "dashboard",
    "offers",
    "stories",
    "loyalty",
    "destinations",
    "partners",
    "voc",
    "publish",
)
_KNOWN = {"default_region", "timezone", *_SECTIONS}


@dataclass(frozen=True)
class WorkspaceConfig:
    default_region: str = "FR"
    timezone: str = "UTC"
    identity: dict[str, Any] = field(default_factory=dict)
    profiles: dict[str, Any] = field(default_factory=dict)
    consent: dict[str, Any] = field(default_factory=dict)
    cx: dict[str, Any] = field(default_factory=dict)
    generations: dict[str, Any] = field(default_factory=dict)
    icp: dict[str, Any] = field(default_factory=dict)
    logins: dict[str, Any] = field(default_factory=dict)
    privacy: dict[str, Any] = field(default_factory=dict)
    storage: dict[str, Any] = field(default_factory=dict)
    collector: dict[str, Any] = field(default_factory=dict)
    analytics: dict[str, Any] = field(default_factory=dict)
    dashboard: dict[str, Any] = field(default_factory=dict)
    offers: dict[str, Any] = field(default_factory=dict)
    stories: dict[str, Any] = field(default_factory=dict)
    loyalty: dict[str, Any] = field(default_factory=dict)
    destinations: dict[str, Any] = field(default_factory=dict)
    partners: dict[str, Any] = field(default_factory=dict)
    voc: dict[str, Any] = field(default_factory=dict)
    publish: dict[str, Any] = field(default_factory=dict)

    def local(self, moment: datetime) -> datetime:
        """`moment`, read in the workspace's time zone when it has no offset of its own."""
        return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(self.timezone))

    @classmethod
    def load(cls, directory: Path) -> WorkspaceConfig:
        """The settings in `directory`'s empreinte.toml (defaults when there is none). The
        top-level values are checked here; each section by the package that owns it
        (`config_sections.check`), which sits above every one of them."""
        path = directory / CONFIG_FILE
        if not path.exists():
            return cls()
        try:
            data = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: {exc}") from None
        unknown = sorted(set(data) - _KNOWN)
        if unknown:
            raise ConfigError(f"{path}: unknown setting(s) {', '.join(unknown)}")
        region = str(data.get("default_region", "FR")).upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ConfigError(f"{path}: default_region {region!r} is not an ISO country code")
        timezone = data.get("timezone", "UTC")
        try:
            ZoneInfo(timezone)
        except (TypeError, ValueError, ZoneInfoNotFoundError):
            raise ConfigError(
                f"{path}: timezone {timezone!r} is not an IANA time zone such as Europe/Paris"
            ) from None
        sections = {}
        for name in _SECTIONS:
            sections[name] = data.get(name, {})
            if not isinstance(sections[name], dict):
                raise ConfigError(f"{path}: [{name}] must be a table")
        return cls(default_region=region, timezone=timezone, **sections)
