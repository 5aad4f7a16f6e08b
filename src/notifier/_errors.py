"""The exception tree: one root, split by who is at fault.

Local faults (bad configuration, an illegal transition, misuse of a lifecycle object) sit beside remote ones
(the Kubernetes API said no). The `KubeApiError` family is what every `KubeApi` implementation raises, so the
controller cannot tell the official client from the fake API server by the errors it sees.
"""

from __future__ import annotations

from typing import Any

#: Remote bodies quoted in messages are cut to this many characters.
MAX_REMOTE_TEXT = 256


class NotifierError(Exception):
    """The root of every error this project raises on purpose."""


class ConfigError(NotifierError):
    """Configuration given to the controller is missing or invalid."""


class LifecycleError(NotifierError):
    """A lifecycle object was used out of order (started twice, used after stop)."""


class ForeignAwaitError(NotifierError):
    """Controller code awaited something that did not come from its Runtime."""


class KubeApiError(NotifierError):
    """The Kubernetes API answered with an error (or not at all).

    Attributes:
        code: the HTTP status code, 0 when no answer arrived.
        reason: the `Status` reason (`NotFound`, `Conflict`, ...), or a short word of ours.
        message: the server's message, cut to 256 characters.
        full_message: the message whole (what a server answering with this error sends).
        details: the `Status` details, as sent.
    """

    default_code = 500
    default_reason = "InternalError"

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.code = self.default_code if code is None else code
        self.reason = self.default_reason if reason is None else reason
        self.message = message[:MAX_REMOTE_TEXT]
        self.full_message = message
        self.details = details or {}
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code}, reason={self.reason!r}, message={self.message!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self.code, self.reason, self.details))

    def causes(self) -> list[dict[str, Any]]:
        """The field-level causes of the `Status` details (`field`, `reason`, `message`)."""
        causes = self.details.get("causes", [])
        return list(causes) if isinstance(causes, list) else []


def _rebuild(
    cls: type[KubeApiError], message: str, code: int, reason: str, details: dict[str, Any]
) -> KubeApiError:
    return cls(message, code=code, reason=reason, details=details)


class NotFoundError(KubeApiError):
    default_code = 404
    default_reason = "NotFound"


class AlreadyExistsError(KubeApiError):
    default_code = 409
    default_reason = "AlreadyExists"


class ConflictError(KubeApiError):
    """A compare-and-swap lost: the object changed since it was read."""

    default_code = 409
    default_reason = "Conflict"


class InvalidError(KubeApiError):
    """The object failed validation; `causes()` names the fields."""

    default_code = 422
    default_reason = "Invalid"


class GoneError(KubeApiError):
    """The resourceVersion asked for is older than the server keeps (410)."""

    default_code = 410
    default_reason = "Expired"


class ForbiddenError(KubeApiError):
    default_code = 403
    default_reason = "Forbidden"


class BadRequestError(KubeApiError):
    default_code = 400
    default_reason = "BadRequest"


class TooManyRequestsError(KubeApiError):
    """The server shed the request unprocessed (max-in-flight, API Priority and Fairness): ask again after
    `retry_after` seconds (its `Retry-After`)."""

    default_code = 429
    default_reason = "TooManyRequests"


class KubeTimeoutError(KubeApiError):
    """No answer arrived in time: the request may or may not have been applied."""

    default_code = 0
    default_reason = "Timeout"


class KubeUnavailableError(KubeApiError):
    """The API server could not be reached, or answered 5xx."""

    default_code = 503
    default_reason = "ServiceUnavailable"


_BY_REASON: dict[str, type[KubeApiError]] = {
    "NotFound": NotFoundError,
    "AlreadyExists": AlreadyExistsError,
    "Conflict": ConflictError,
    "Invalid": InvalidError,
    "Gone": GoneError,
    "Expired": GoneError,
    "Forbidden": ForbiddenError,
    "BadRequest": BadRequestError,
    "Timeout": KubeTimeoutError,
    "ServiceUnavailable": KubeUnavailableError,
    "TooManyRequests": TooManyRequestsError,
}

_BY_CODE: dict[int, type[KubeApiError]] = {
    400: BadRequestError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    410: GoneError,
    422: InvalidError,
    429: TooManyRequestsError,
    503: KubeUnavailableError,
    504: KubeTimeoutError,
}


def error_from_status(status: dict[str, Any], *, code: int | None = None) -> KubeApiError:
    """Build the port exception for a Kubernetes `Status` body (reason first, then code).

    Args:
        status: the decoded `Status` object; fields may be missing.
        code: the HTTP status, when the body does not carry one.
    """
    raw_code = status.get("code", code)
    status_code = raw_code if isinstance(raw_code, int) else (code or 500)
    reason = str(status.get("reason") or "")
    message = str(status.get("message") or reason or f"HTTP {status_code}")
    cls = _BY_REASON.get(reason) or _BY_CODE.get(status_code)
    if cls is None:
        cls = KubeUnavailableError if status_code >= 500 else KubeApiError
    details = status.get("details")
    return cls(
        message,
        code=status_code,
        reason=reason or cls.default_reason,
        details=details if isinstance(details, dict) else None,
    )


class IllegalTransition(NotifierError):
    """A phase change the state machine does not allow; names both phases."""

    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"invalid phase transition from {current or '(none)'!r} to {wanted!r}")
        self.current = current
        self.wanted = wanted

    def __reduce__(self) -> tuple[Any, ...]:
        return (IllegalTransition, (self.current, self.wanted))


class BackendError(NotifierError):
    """A channel's backend refused or failed a delivery.

    Attributes:
        status: the HTTP status, 0 when there was no answer.
        retry_after: the backend's Retry-After in seconds, when it sent one (recorded, not obeyed).
    """

    retryable = False

    def __init__(self, message: str, *, status: int = 0, retry_after: float | None = None) -> None:
        super().__init__(message[:1024])
        self.status = status
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_backend, (type(self), str(self), self.status, self.retry_after))


def _rebuild_backend(cls: type[BackendError], message: str, status: int, retry_after: float | None) -> BackendError:
    return cls(message, status=status, retry_after=retry_after)


class BackendRejectedError(BackendError):
    """A permanent failure: 4xx (but 429), TLS, an unregistered channel, a bad payload. Never retried."""


class BackendUnavailableError(BackendError):
    """A retryable failure: 5xx, 429, a refused connection, a file write that failed."""

    retryable = True


class BackendOutcomeUnknownError(BackendUnavailableError):
    """The request went out and no answer came back (a read timeout): it may or may not have landed.

    Recorded as an `unknown` outcome; at-least-once channels send it again as a redelivery.
    """


class AttemptClaimedError(NotifierError):
    """A write-ahead intent lost: the same attempt (uid, channel, number) is already recorded."""
