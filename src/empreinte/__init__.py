"""empreinte — an open-source customer data and experience platform.

The public API: `open` a workspace, the `Workspace`, the results its methods return, and
every error (all subclasses of `EmpreinteError`). The CX report types are loaded on first
use (`empreinte.ScoreReport`…), not by `import empreinte`: they need Ibis and scipy, which
the collector and most commands never load.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from empreinte.collect.kano_vocabulary import UnknownKanoAnswer
from empreinte.errors import (
    AnalyticsError,
    AuthError,
    ChartError,
    ConfigError,
    Conflict,
    ConsentError,
    DestinationExists,
    DestinationNotFound,
    DriverInputError,
    EmpreinteError,
    ExperimentInputError,
    Forbidden,
    IdentityError,
    ImportFailed,
    InvalidBody,
    InvalidInput,
    InvalidMessage,
    MalformedCredentials,
    ManifestConflict,
    MatchFailed,
    MissingColumns,
    NoStory,
    NotFound,
    OriginalUnavailable,
    Overloaded,
    PrivacyError,
    ProfileNotFound,
    PublishError,
    RedactionUnavailable,
    ReviewNotFound,
    SegmentExists,
    SegmentExpressionError,
    SegmentNotFound,
    StorageError,
    TooManyAttempts,
    WorkspaceLocked,
    WorkspaceNotFound,
)
from empreinte.profiles import Profile, TimelinePage
from empreinte.workspace import IngestReport, Rejected, Workspace, open

if TYPE_CHECKING:
    from empreinte.analytics.cx.closed_loop import LowAnswer
    from empreinte.analytics.cx.driver_importance import DriverImportance, DriverReport
    from empreinte.analytics.cx.drivers import KeyDriverReport
    from empreinte.analytics.cx.experiments import (
        ExperimentResult,
        SampleRatioCheck,
        TreatmentComparison,
        VariantResult,
    )
    from empreinte.analytics.cx.exposures import ExperimentReport
    from empreinte.analytics.cx.kano import Category, FeatureResult
    from empreinte.analytics.cx.kano_answers import KanoGroup, KanoReport
    from empreinte.analytics.cx.score_stats import Difference
    from empreinte.analytics.cx.scores import ScoreReport, ScoreRow

__version__ = "0.1.0"

# Name → module, imported on first access (module `__getattr__`, PEP 562).
_LAZY = {
    "ScoreReport": "empreinte.analytics.cx.scores",
    "ScoreRow": "empreinte.analytics.cx.scores",
    "Difference": "empreinte.analytics.cx.score_stats",
    "KeyDriverReport": "empreinte.analytics.cx.drivers",
    "DriverReport": "empreinte.analytics.cx.driver_importance",
    "DriverImportance": "empreinte.analytics.cx.driver_importance",
    "LowAnswer": "empreinte.analytics.cx.closed_loop",
    "KanoReport": "empreinte.analytics.cx.kano_answers",
    "KanoGroup": "empreinte.analytics.cx.kano_answers",
    "FeatureResult": "empreinte.analytics.cx.kano",
    "Category": "empreinte.analytics.cx.kano",
    "ExperimentReport": "empreinte.analytics.cx.exposures",
    "ExperimentResult": "empreinte.analytics.cx.experiments",
    "VariantResult": "empreinte.analytics.cx.experiments",
    "TreatmentComparison": "empreinte.analytics.cx.experiments",
    "SampleRatioCheck": "empreinte.analytics.cx.experiments",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'empreinte' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # once loaded, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


# Sorted (ruff RUF022); tests/test_public_api.py checks that every error class is here.
__all__ = [
    "AnalyticsError",
    "AuthError",
    "Category",
    "ChartError",
    "ConfigError",
    "Conflict",
    "ConsentError",
    "DestinationExists",
    "DestinationNotFound",
    "Difference",
    "DriverImportance",
    "DriverInputError",
    "DriverReport",
    "EmpreinteError",
    "ExperimentInputError",
    "ExperimentReport",
    "ExperimentResult",
    "FeatureResult",
    "Forbidden",
    "IdentityError",
    "ImportFailed",
    "IngestReport",
    "InvalidBody",
    "InvalidInput",
    "InvalidMessage",
    "KanoGroup",
    "KanoReport",
    "KeyDriverReport",
    "LowAnswer",
    "MalformedCredentials",
    "ManifestConflict",
    "MatchFailed",
    "MissingColumns",
    "NoStory",
    "NotFound",
    "OriginalUnavailable",
    "Overloaded",
    "PrivacyError",
    "Profile",
    "ProfileNotFound",
    "PublishError",
    "RedactionUnavailable",
    "Rejected",
    "ReviewNotFound",
    "SampleRatioCheck",
    "ScoreReport",
    "ScoreRow",
    "SegmentExists",
    "SegmentExpressionError",
    "SegmentNotFound",
    "StorageError",
    "TimelinePage",
    "TooManyAttempts",
    "TreatmentComparison",
    "UnknownKanoAnswer",
    "VariantResult",
    "Workspace",
    "WorkspaceLocked",
    "WorkspaceNotFound",
    "__version__",
    "open",
]
