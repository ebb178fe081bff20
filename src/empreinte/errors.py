"""The one exception hierarchy of empreinte.

Every error carries a message a user can act on. HTTP handlers and the CLI turn these into
clear answers (a 4xx body, a CLI line) instead of stack traces.
"""

from __future__ import annotations


class EmpreinteError(Exception):
    """Root of every error empreinte raises on purpose."""


class ConfigError(EmpreinteError):
    """The workspace or its configuration is missing or wrong."""


class WorkspaceNotFound(ConfigError):
    """No workspace at the given path."""


class InvalidMessage(EmpreinteError):
    """A message breaks the Segment tracking spec or a limit.

    `field` names the offending field (dotted path) when there is one.
    """

    def __init__(self, reason: str, field: str | None = None, code: str = "invalid_message"):
        self.reason = reason
        self.field = field
        self.code = code
        super().__init__(f"{field}: {reason}" if field else reason)


class AuthError(EmpreinteError):
    """Missing or unknown credentials."""


class StorageError(EmpreinteError):
    """The event log could not durably store or read events."""


class Overloaded(EmpreinteError):
    """The collector cannot accept more work right now; the client should retry later."""

    def __init__(self, message: str, retry_after: int = 1):
        self.retry_after = retry_after
        super().__init__(message)


class ImportFailed(EmpreinteError):
    """An import file cannot be read at all (missing, wrong format, bad mapping)."""


class WorkspaceLocked(ConfigError):
    """Another process holds the workspace's database open for writing."""
