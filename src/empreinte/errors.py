"""The one exception hierarchy of empreinte.

Every error carries a message a user can act on. Each class also says how it answers over
HTTP: a `status`, a stable machine-readable `code`, and `to_json()` giving the
`{"code", "message", ...}` body. The web app has one handler for the whole tree
(`web/errors.py`); the CLI prints the message.

A server-side error (status 5xx: storage, configuration) answers with its class's generic
`public_message`, never its own text: that text may name files (DuckDB's messages name the
database and its WAL) or other internals, which stay in the operator's log.
"""

from __future__ import annotations

from typing import Any


class EmpreinteError(Exception):
    """Root of every error empreinte raises on purpose."""

    status: int = 500
    code: str = "internal_error"
    public_message: str = "an unexpected error occurred; it was logged"
    # Seconds a client should wait before retrying (a `Retry-After` header), when it should.
    retry_after: int | None = None

    @property
    def exposed(self) -> bool:
        """Whether the caller may read this error's own message (a 4xx is about the request;
        a 5xx is about the server, whose details are not the caller's business)."""
        return self.status < 500

    def details(self) -> dict[str, Any]:
        """Fields of the HTTP body beyond code and message (`field`, `missing`…)."""
        return {}

    def to_json(self) -> dict[str, Any]:
        """The HTTP body of this error."""
        if not self.exposed:
            return {"code": self.code, "message": self.public_message}
        return {"code": self.code, "message": str(self), **self.details()}

    def headers(self) -> dict[str, str]:
        """The HTTP headers of this error's answer."""
        return {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}


# -- the workspace and its settings ---------------------------------------------------------


class ConfigError(EmpreinteError):
    """The workspace or its configuration is missing or wrong."""

    code = "configuration_error"
    public_message = "the workspace's configuration cannot be used; the operator's log says why"


class WorkspaceNotFound(ConfigError):
    """No workspace at the given path."""

    code = "workspace_not_found"


class WorkspaceLocked(ConfigError):
    """Another process holds the workspace's database open for writing."""

    status = 503
    code = "workspace_locked"
    public_message = "the workspace is held by another process; retry later"
    retry_after = 5


# -- what a caller sends --------------------------------------------------------------------


class InvalidMessage(EmpreinteError):
    """A message breaks the Segment tracking spec or a limit.

    `field` names the offending field (dotted path) when there is one; `code` may be more
    precise than `invalid_message` (`invalid_timestamp`, `request_too_large`…).
    """

    status = 400
    code = "invalid_message"

    def __init__(self, reason: str, field: str | None = None, code: str = "invalid_message"):
        self.reason = reason
        self.field = field
        self.code = code
        super().__init__(f"{field}: {reason}" if field else reason)

    def details(self) -> dict[str, Any]:
        return {} if self.field is None else {"field": self.field}


class InvalidInput(EmpreinteError):
    """A value that cannot be used as asked: a query parameter or a body field that is
    malformed, out of bounds or unknown, a lookup that can never be an identifier (an e-mail
    without @, an empty id), a bad page cursor. `field` names the parameter."""

    status = 400
    code = "invalid_request"

    def __init__(self, field: str, reason: str):
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")

    def details(self) -> dict[str, Any]:
        return {"field": self.field}


class InvalidBody(InvalidInput):
    """A request body that is not what the route reads: not JSON, not an object, too large."""

    code = "invalid_body"

    def __init__(self, reason: str):
        self.field = "body"
        self.reason = reason
        EmpreinteError.__init__(self, reason)  # the message needs no "body: " prefix


class AuthError(EmpreinteError):
    """Missing or unknown credentials."""

    status = 401
    code = "unauthorized"


class TooManyAttempts(EmpreinteError):
    """Too many failed logins for this user or from this address, or too many password checks
    at once: wait `retry_after` seconds."""

    status = 429
    code = "too_many_attempts"

    def __init__(self, message: str, retry_after: int = 1):
        self.retry_after = retry_after
        super().__init__(message)


class MalformedCredentials(AuthError):
    """An authorization header that cannot even be read (bad Base64, not text)."""

    code = "invalid_auth"


class Forbidden(AuthError):
    """The caller is known but its role does not allow this."""

    status = 403
    code = "forbidden"


class NotFound(EmpreinteError):
    """What the request names does not exist (a write key's settings, a resource)."""

    status = 404
    code = "not_found"


class Conflict(EmpreinteError):
    """The request cannot be done in the present state (a name taken, a balance too low, a
    budget spent): doing it again will not help until that state changes."""

    status = 409
    code = "conflict"


# -- the collector and its storage ------------------------------------------------------------


class StorageError(EmpreinteError):
    """The event log could not durably store or read events."""

    status = 503
    code = "storage_unavailable"
    public_message = "the event log cannot be read or written right now; retry later"
    retry_after = 5

    def __init__(self, message: str, retry_after: int | None = None):
        if retry_after is not None:
            self.retry_after = retry_after
        super().__init__(message)


class PublishError(EmpreinteError):
    """The published Parquet log (publish/) could not be reached or written."""

    status = 503
    code = "publish_failed"
    public_message = "the published log cannot be read or written right now; retry later"


class ManifestConflict(PublishError):
    """Another publisher committed the manifest version this one meant to (re-read and
    retry), or kept doing so past the retries."""

    code = "manifest_conflict"


class Overloaded(EmpreinteError):
    """The collector cannot accept more work right now; the client should retry later."""

    status = 429
    code = "overloaded"

    def __init__(self, message: str, retry_after: int = 1):
        self.retry_after = retry_after
        super().__init__(message)


class RedactionUnavailable(EmpreinteError):
    """Personal data could not be removed from a text (the redaction itself failed): the
    message is refused rather than stored unredacted; the client should retry later."""

    status = 503
    code = "redaction_unavailable"
    public_message = "a text could not be redacted right now; nothing was stored; retry later"
    retry_after = 5


class OriginalUnavailable(NotFound):
    """An original text cannot be read: none was kept for that event, or its key expired
    (crypto-shredded)."""

    code = "original_unavailable"


# -- imports and matching -------------------------------------------------------------------


class ImportFailed(EmpreinteError):
    """An import file cannot be read at all (missing, wrong format, bad mapping)."""

    status = 400
    code = "import_failed"


class MissingColumns(ImportFailed):
    """A file lacks columns that the requested work needs; nothing was done.

    `missing` names them all.
    """

    code = "missing_columns"

    def __init__(self, message: str, missing: list[str]):
        self.missing = missing
        super().__init__(message)

    def details(self) -> dict[str, Any]:
        return {"missing": list(self.missing)}


class MatchFailed(EmpreinteError):
    """Probabilistic matching cannot proceed (too little data to train, a bad setting)."""

    status = 400
    code = "match_failed"


class ReviewNotFound(MatchFailed):
    """No match review has this id."""

    status = 404
    code = "not_found"


# -- identity and privacy -------------------------------------------------------------------


class IdentityError(EmpreinteError):
    """An identity operation cannot be done as asked (e.g. cutting an identifier out of a
    profile that does not hold it)."""

    status = 409
    code = "identity_error"


class ProfileNotFound(IdentityError):
    """No profile has, or ever had, this id (or its founding identifier was blocked)."""

    status = 404
    code = "not_found"


class PrivacyError(EmpreinteError):
    """A privacy request (consent, erasure, export, login) cannot be done as asked. `field`
    names the offending input when there is one."""

    status = 400
    code = "invalid_request"

    def __init__(self, message: str, field: str | None = None):
        self.field = field
        super().__init__(message)

    def details(self) -> dict[str, Any]:
        return {} if self.field is None else {"field": self.field}


class ConsentError(PrivacyError):
    """A consent entry or confirmation is invalid: unknown purpose, missing wording version,
    an unknown, used, expired or withdrawn confirmation token."""


# -- reports --------------------------------------------------------------------------------


class AnalyticsError(EmpreinteError):
    """A report cannot be computed as asked (an unknown attribute or period, a missing
    experiment, too little data for the method)."""

    status = 400
    code = "invalid_request"


class SegmentExpressionError(AnalyticsError):
    """A segment expression that cannot be read or compiled (docs/segments.md): the message
    names the line and column of the mistake and shows the expression with a caret under it;
    over HTTP the body carries them too."""

    def __init__(
        self,
        message: str,
        expression: str | None = None,
        position: tuple[int, int] | None = None,
    ):
        self.reason = message
        self.position = position
        if expression is not None and position is not None:
            line, column = position
            lines = expression.split("\n")
            text = lines[min(line, len(lines)) - 1]
            message = f"line {line}, column {column}: {message}\n  {text}\n  {' ' * (column - 1)}^"
        super().__init__(message)

    def details(self) -> dict[str, Any]:
        if self.position is None:
            return {"field": "expression", "reason": self.reason}
        line, column = self.position
        return {"field": "expression", "reason": self.reason, "line": line, "column": column}


class NoStory(NotFound):
    """A person without a year-in-review story: `reason` is "unknown" (no such profile),
    "consent" (does not allow personalisation), "analytics" (does not allow analytics, which
    the figures are) or "no_purchase" (no order that year)."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


class DestinationNotFound(NotFound):
    """No destination has this name."""


class DestinationExists(InvalidInput):
    """A destination of this name exists already."""

    status = 409
    code = "conflict"


class SegmentNotFound(AnalyticsError):
    """No saved segment has this name."""

    status = 404
    code = "not_found"


class SegmentExists(AnalyticsError):
    """A segment of this name is saved already."""

    status = 409
    code = "conflict"


class DriverInputError(AnalyticsError):
    """The data given to a key-driver analysis cannot be analysed as given."""

    code = "insufficient_data"


class ExperimentInputError(AnalyticsError):
    """The counts given to an experiment analysis are impossible or incomplete."""

    code = "invalid_experiment"

    def __init__(self, reason: str, variant: str | None = None):
        self.reason = reason
        self.variant = variant
        super().__init__(f"variant {variant!r}: {reason}" if variant is not None else reason)

    def details(self) -> dict[str, Any]:
        return {} if self.variant is None else {"variant": self.variant}


class ChartError(AnalyticsError):
    """A chart cannot be drawn or written as asked (bad suffix, no data, mismatched inputs)."""

    code = "chart_error"
