"""empreinte — an open-source customer data and experience platform."""

from empreinte.errors import (
    AuthError,
    ConfigError,
    EmpreinteError,
    ImportFailed,
    InvalidMessage,
    Overloaded,
    StorageError,
    WorkspaceLocked,
    WorkspaceNotFound,
)
from empreinte.workspace import IngestReport, Rejected, Workspace, open

__version__ = "0.1.0"

__all__ = [
    "AuthError",
    "ConfigError",
    "EmpreinteError",
    "ImportFailed",
    "IngestReport",
    "InvalidMessage",
    "Overloaded",
    "Rejected",
    "StorageError",
    "Workspace",
    "WorkspaceLocked",
    "WorkspaceNotFound",
    "__version__",
    "open",
]
