"""The one error tree of ``noex_client``.

::

    NoexClientError (code, message, details)
    ├── ParseError                  PARSE_ERROR
    ├── InvalidRequestError         INVALID_REQUEST
    ├── UnknownOperationError       UNKNOWN_OPERATION
    ├── ValidationError             VALIDATION_ERROR
    ├── NotFoundError               NOT_FOUND
    ├── AlreadyExistsError          ALREADY_EXISTS
    ├── ConflictError               CONFLICT
    ├── UnauthorizedError           UNAUTHORIZED
    ├── ForbiddenError              FORBIDDEN
    ├── RateLimitedError            RATE_LIMITED      (.retry_after_ms)
    ├── BackpressureError           BACKPRESSURE      (also raised locally when a limit is hit)
    ├── InternalServerError         INTERNAL_ERROR
    ├── BucketNotDefinedError       BUCKET_NOT_DEFINED
    ├── QueryNotDefinedError        QUERY_NOT_DEFINED
    ├── RulesNotAvailableError      RULES_NOT_AVAILABLE
    ├── LogicNotAvailableError      LOGIC_NOT_AVAILABLE
    ├── SessionRevokedError         SESSION_REVOKED
    ├── RequestTimeoutError         TIMEOUT           (also a builtin ``TimeoutError``)
    │   └── ConnectTimeoutError     CONNECT_TIMEOUT   (also a builtin ``ConnectionError``)
    ├── DisconnectedError           DISCONNECTED
    │   └── ConnectError            CONNECT_FAILED    (also a builtin ``ConnectionError``)
    │       └── ConnectRefusedError CONNECT_FAILED    (also a builtin ``ConnectionRefusedError``)
    └── ProtocolError               PROTOCOL_ERROR    (a frame the client cannot decode)

Constructors are the published client's: ``NoexClientError(code, message,
details=None)``; the errors the client raises itself take the message first
(``RequestTimeoutError(message)``, ``DisconnectedError(message="Not
connected")``) and carry their fixed code. ``str(err)`` is the message alone.

Server error codes are registered with :func:`register_error`; an unknown code
becomes a plain :class:`NoexClientError` carrying that code.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self, TypeVar

__all__ = [
    "AlreadyExistsError",
    "BackpressureError",
    "BucketNotDefinedError",
    "ClientSideError",
    "ConflictError",
    "ConnectError",
    "ConnectRefusedError",
    "ConnectTimeoutError",
    "DisconnectedError",
    "ForbiddenError",
    "InternalServerError",
    "InvalidRequestError",
    "LogicNotAvailableError",
    "NoexClientError",
    "NotFoundError",
    "ParseError",
    "ProtocolError",
    "QueryNotDefinedError",
    "RateLimitedError",
    "RequestTimeoutError",
    "RulesNotAvailableError",
    "SessionRevokedError",
    "UnauthorizedError",
    "UnknownOperationError",
    "ValidationError",
    "error_from_server",
    "register_error",
]

_E = TypeVar("_E", bound="type[NoexClientError]")
_REGISTRY: dict[str, type[NoexClientError]] = {}


class NoexClientError(Exception):
    """Base class of every error raised by ``noex_client``.

    Attributes:
        code: Machine-readable code (the server's ``code`` or a client code
            such as ``TIMEOUT``).
        message: Human-readable text; never contains tokens or passwords.
        details: The server's ``details`` payload, or ``None``.
    """

    default_code: ClassVar[str] = "UNKNOWN"

    def __init__(self, code: str | None = None, message: str = "", details: Any = None) -> None:
        self.code = code if code is not None else self.default_code
        self.message = message
        self.details = details
        super().__init__(message)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.code, self.message, self.details))

    @classmethod
    def from_server(cls, code: str, message: str, details: Any = None) -> Self:
        """The error for a server ``error`` frame with this class's code."""
        return cls(code, message, details)


class ClientSideError(NoexClientError):
    """Base of the errors the client raises itself: the first argument is the message.

    Args:
        message: Human-readable text (default: the class's ``default_message``).
        details: Extra data (e.g. ``{"closeCode", "reason"}``), or ``None``.
    """

    default_message: ClassVar[str] = ""

    def __init__(self, message: str | None = None, details: Any = None) -> None:
        text = self.default_message if message is None else message
        super().__init__(self.default_code, text, details)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message, self.details), {"code": self.code})

    @classmethod
    def from_server(cls, code: str, message: str, details: Any = None) -> Self:
        error = cls(message, details)
        error.code = code
        return error


def register_error(code: str) -> Any:
    """Class decorator registering ``cls`` as the error raised for ``code``."""

    def decorate(cls: _E) -> _E:
        cls.default_code = code
        _REGISTRY[code] = cls
        return cls

    return decorate


def error_from_server(code: str, message: str, details: Any = None) -> NoexClientError:
    """Build the registered error for a server ``code`` (fallback: base class)."""
    cls = _REGISTRY.get(code, NoexClientError)
    return cls.from_server(code, message, details)


@register_error("PARSE_ERROR")
class ParseError(NoexClientError):
    """The server could not parse a frame the client sent."""


@register_error("INVALID_REQUEST")
class InvalidRequestError(NoexClientError):
    """The frame was JSON but not a valid request."""


@register_error("UNKNOWN_OPERATION")
class UnknownOperationError(NoexClientError):
    """The operation (or its module) is unknown or not configured on the server."""


@register_error("VALIDATION_ERROR")
class ValidationError(NoexClientError):
    """A request field or a record failed validation; ``details`` says which."""


@register_error("NOT_FOUND")
class NotFoundError(NoexClientError):
    """The addressed resource does not exist."""


@register_error("ALREADY_EXISTS")
class AlreadyExistsError(NoexClientError):
    """The resource exists already (or a unique field clashes)."""


@register_error("CONFLICT")
class ConflictError(NoexClientError):
    """A transaction conflicted with a concurrent change."""


@register_error("UNAUTHORIZED")
class UnauthorizedError(NoexClientError):
    """Authentication is required, failed, or expired."""


@register_error("FORBIDDEN")
class ForbiddenError(NoexClientError):
    """The session lacks the permission for the operation."""


@register_error("RATE_LIMITED")
class RateLimitedError(NoexClientError):
    """A rate or subscription limit was hit.

    Attributes:
        retry_after_ms: The server's ``details.retryAfterMs``, or ``None``.
    """

    @property
    def retry_after_ms(self) -> int | None:
        value = self.details.get("retryAfterMs") if isinstance(self.details, dict) else None
        return int(value) if isinstance(value, int | float) else None


@register_error("BACKPRESSURE")
class BackpressureError(ClientSideError):
    """Too much is in flight; raised by the client when a documented limit is hit."""


@register_error("INTERNAL_ERROR")
class InternalServerError(NoexClientError):
    """The server failed while handling the request."""


@register_error("BUCKET_NOT_DEFINED")
class BucketNotDefinedError(NoexClientError):
    """The bucket is not defined on the server."""


@register_error("QUERY_NOT_DEFINED")
class QueryNotDefinedError(NoexClientError):
    """The query is not defined on the server."""


@register_error("RULES_NOT_AVAILABLE")
class RulesNotAvailableError(NoexClientError):
    """The server has no (running) rule engine."""


@register_error("LOGIC_NOT_AVAILABLE")
class LogicNotAvailableError(NoexClientError):
    """The server has no logic engine (``LocalServer`` without ``logic=True``).

    A noex-server without the logic module answers ``logic.*`` with
    :class:`UnknownOperationError` instead.
    """


@register_error("SESSION_REVOKED")
class SessionRevokedError(NoexClientError):
    """The session was revoked by the server administrator."""


@register_error("TIMEOUT")
class RequestTimeoutError(ClientSideError, TimeoutError):
    """No response arrived within the request timeout: ``RequestTimeoutError(message)``."""


@register_error("CONNECT_TIMEOUT")
class ConnectTimeoutError(RequestTimeoutError, ConnectionError):
    """The connection or the server's welcome did not arrive in time."""


@register_error("DISCONNECTED")
class DisconnectedError(ClientSideError):
    """The client is not connected, or the connection dropped mid-request:
    ``DisconnectedError(message="Not connected")``."""

    default_message = "Not connected"


@register_error("CONNECT_FAILED")
class ConnectError(DisconnectedError, ConnectionError):
    """Opening the connection failed (refused, handshake error, closed before welcome)."""


class ConnectRefusedError(ConnectError, ConnectionRefusedError):
    """Nothing accepted the TCP connection (no server listens at the URL)."""


@register_error("PROTOCOL_ERROR")
class ProtocolError(ClientSideError):
    """A frame received from the server is not valid protocol 1.0.0."""
