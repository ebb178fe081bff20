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


class MissingColumns(ImportFailed):
    """A file lacks columns that the requested work needs; nothing was done.

    `missing` names them all.
    """

    def __init__(self, message: str, missing: list[str]):
        self.missing = missing
        super().__init__(message)


class MatchFailed(EmpreinteError):
    """Probabilistic matching cannot proceed (too little data to train, a bad setting)."""


class ReviewNotFound(MatchFailed):
    """No match review has this id."""


class IdentityError(EmpreinteError):
    """An identity operation cannot be done as asked (e.g. cutting an identifier out of a
    profile that does not hold it)."""


class ProfileNotFound(IdentityError):
    """No profile has, or ever had, this id (or its founding identifier was blocked)."""


class PrivacyError(EmpreinteError):
    """A privacy request (consent, erasure, export, login) cannot be done as asked. `field`
    names the offending input when there is one."""

    def __init__(self, message: str, field: str | None = None):
        self.field = field
        super().__init__(message)


class ConsentError(PrivacyError):
    """A consent entry or confirmation is invalid: unknown purpose, missing wording version,
    an unknown, used, expired or withdrawn confirmation token."""


class AnalyticsError(EmpreinteError):
    """A report cannot be computed as asked (an unknown attribute or period, a missing
    experiment, too little data for the method)."""
