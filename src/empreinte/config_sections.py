"""Each section of empreinte.toml checked by the package that reads it, when a workspace opens,
so that a wrong setting stops `open` with a clear message rather than the first report.

`config.py` sits at the bottom of the layers and parses the file; this module sits above the
packages whose rules it asks (identity, profiles, privacy, analytics, store, collect).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from empreinte.config import CONFIG_FILE, WorkspaceConfig
from empreinte.errors import ConfigError


def check(config: WorkspaceConfig, directory: Path) -> WorkspaceConfig:
    """`config`, once each of its sections has been read by its owner; `ConfigError` naming
    the file and the setting otherwise."""
    from empreinte.activate.destinations.settings import DestinationSettings
    from empreinte.activate.loyalty.settings import LoyaltySettings
    from empreinte.activate.offers.settings import OfferSettings
    from empreinte.activate.stories.settings import StorySettings
    from empreinte.analytics.cx.settings import CxSettings
    from empreinte.analytics.generations import Generations
    from empreinte.analytics.know.icp_profile import IdealCustomer
    from empreinte.analytics.partners.settings import PartnerSettings
    from empreinte.collect.settings import CollectorSettings
    from empreinte.identity.rules import MergeRules
    from empreinte.privacy.consent import ConsentPolicy
    from empreinte.privacy.login_throttle import LoginThrottle
    from empreinte.privacy.pii import personal_keys
    from empreinte.profiles.traits import TraitPolicy
    from empreinte.publish.settings import PublishSettings
    from empreinte.store.engine_choice import AnalyticsEngine
    from empreinte.store.settings import StorageSettings
    from empreinte.voc.call_settings import CallSettings
    from empreinte.voc.settings import VocSettings

    checks: dict[str, Callable[[Mapping[str, Any]], object]] = {
        "identity": MergeRules.from_mapping,
        "profiles": TraitPolicy.from_mapping,
        "consent": ConsentPolicy.from_mapping,
        "cx": CxSettings.from_mapping,
        "generations": Generations.from_mapping,
        "icp": IdealCustomer.from_mapping,
        "logins": LoginThrottle.from_mapping,
        "privacy": personal_keys,
        "storage": StorageSettings.from_mapping,
        "collector": CollectorSettings.from_mapping,
        "analytics": AnalyticsEngine.from_mapping,
        "dashboard": dashboard_settings,
        "offers": OfferSettings.from_mapping,
        "stories": StorySettings.from_mapping,
        "loyalty": LoyaltySettings.from_mapping,
        "destinations": DestinationSettings.from_mapping,
        "partners": PartnerSettings.from_mapping,
        "publish": PublishSettings.from_mapping,
        "voc": lambda section: (
            VocSettings.from_mapping(section),
            CallSettings.from_mapping(section),
        ),
    }
    for name, parse in checks.items():
        try:
            parse(getattr(config, name))
        except ConfigError as exc:
            raise ConfigError(f"{directory / CONFIG_FILE}: {exc}") from None
    return config


#: `[dashboard]` (read by web/dashboard, which sits above the workspace: checked here).
DASHBOARD_DEFAULTS = {"report_cache_seconds": 60}


def dashboard_settings(section: Mapping[str, Any]) -> dict[str, int]:
    """`report_cache_seconds`: how long the dashboard reuses an aggregate report (0: never)."""
    unknown = sorted(set(section) - set(DASHBOARD_DEFAULTS))
    if unknown:
        raise ConfigError(f"[dashboard]: unknown setting(s) {', '.join(unknown)}")
    seconds = section.get("report_cache_seconds", DASHBOARD_DEFAULTS["report_cache_seconds"])
    if not isinstance(seconds, int) or isinstance(seconds, bool) or not 0 <= seconds <= 3600:
        raise ConfigError("[dashboard] report_cache_seconds must be a whole number from 0 to 3600")
    return {"report_cache_seconds": seconds}
