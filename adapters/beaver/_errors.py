"""The error tree of the BeaverDB remote client.

Every error the client raises derives from :class:`BeaverError` (itself an
``adapters.AdapterError``). Where BeaverDB's
local API raises a builtin exception, the remote error also subclasses that
builtin, so code written against the local API keeps working::

    BeaverError
    ├── AuthError                 401: missing or wrong API key
    ├── NotSupportedRemotely      the REST server has no route for this feature
    │                             (also beaver's ``LocalOnlyError`` once beaver is imported)
    ├── InvalidName (ValueError)  a structure name or key the server cannot address
    ├── BadRequest (ValueError)   400: the server refused an argument
    ├── UnsupportedValue (TypeError)  a value local BeaverDB's ``json.dumps`` refuses too
    ├── InvalidValue (ValueError) NaN or an infinity, which the server cannot send back
    ├── DecodeError (ValueError)  a stored value does not fit the ``model=``
    ├── KeyNotFound (KeyError)    dict key missing or expired
    ├── IndexOutOfRange (IndexError)  list index out of range
    ├── QueueEmpty (IndexError)   non-blocking ``queue.get`` on an empty queue
    ├── RemoteTimeout (TimeoutError)  blocking ``queue.get`` timed out, or the
    │                             server could not take its write lock
    ├── ConnectionFailed (ConnectionError)  network failure, server unreachable
    ├── ClientClosed (RuntimeError)  the client was closed
    └── ServerError               any other error response (``.status``, ``.error``)

Messages never contain the API key; URLs in messages are stripped of credentials.
"""

from __future__ import annotations

import sys
from typing import Any

from adapters._errors import AdapterError

__all__ = [
    "AuthError",
    "BadRequest",
    "BeaverError",
    "ClientClosed",
    "ConnectionFailed",
    "DecodeError",
    "IndexOutOfRange",
    "InvalidName",
    "InvalidValue",
    "KeyNotFound",
    "NotSupportedRemotely",
    "QueueEmpty",
    "RemoteTimeout",
    "ServerError",
    "UnsupportedValue",
]


class BeaverError(AdapterError):
    """Base class of every error raised by the BeaverDB remote client.

    It is an :class:`adapters.AdapterError`, so ``except adapters.AdapterError``
    also catches the client's errors.
    """


class AuthError(BeaverError):
    """The server refused the request: the API key is missing or wrong (HTTP 401)."""


class NotSupportedRemotely(BeaverError):
    """The feature exists in BeaverDB's local API but the REST server does not expose it.

    When beaver-db itself has been imported in the process, every instance is also
    a ``beaver.LocalOnlyError`` (beaver's own error for local-only features), so
    ``except LocalOnlyError:`` clauses written for beaver's client keep working.

    Attributes:
        feature: The name of the missing feature, for example ``"dict.keys()"``.
        hint: What to do instead, or ``""``.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> NotSupportedRemotely:
        if cls is NotSupportedRemotely:
            cls = _with_local_only()
        return super().__new__(cls, *args, **kwargs)

    def __init__(self, feature: str, hint: str = "") -> None:
        self.feature = feature
        self.hint = hint
        message = f"{feature} is not available over BeaverDB's REST API"
        super().__init__(f"{message}; {hint}" if hint else message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (NotSupportedRemotely, (self.feature, self.hint))


_local_only: dict[type[BaseException], type[NotSupportedRemotely]] = {}


def _with_local_only() -> type[NotSupportedRemotely]:
    """``NotSupportedRemotely``, or its blend with beaver's ``LocalOnlyError`` if loaded.

    beaver-db is never imported here (it is heavy, and optional): code that catches
    its ``LocalOnlyError`` has necessarily imported it already.
    """
    module = sys.modules.get("beaver.errors")
    local = getattr(module, "LocalOnlyError", None)
    if not (isinstance(local, type) and issubclass(local, Exception)):
        return NotSupportedRemotely
    blend = _local_only.get(local)
    if blend is None:
        namespace = {"__module__": __name__, "__qualname__": "NotSupportedRemotely"}
        blend = type("NotSupportedRemotely", (NotSupportedRemotely, local), namespace)
        _local_only[local] = blend
    return blend


class InvalidName(BeaverError, ValueError):
    """A structure name or key that cannot be used over REST (for example an empty one)."""


class BadRequest(BeaverError, ValueError):
    """The server rejected an argument (HTTP 400).

    Attributes:
        error: The exception name the server reported, for example ``"JSONDecodeError"``.
    """

    def __init__(self, message: str, error: str = "ValueError") -> None:
        self.error = error
        super().__init__(message)


class UnsupportedValue(BeaverError, TypeError):
    """A value cannot be encoded as JSON for the server."""


class InvalidValue(BeaverError, ValueError):
    """A value the server could store but never send back: NaN or an infinity.

    Local BeaverDB keeps them, but the REST server refuses to encode them in a
    reply, so the client refuses them before writing rather than change them.
    """


class DecodeError(BeaverError, ValueError):
    """A value read from the server does not match the structure's ``model=``."""


class KeyNotFound(BeaverError, KeyError):
    """A dict key is missing or has expired.

    Attributes:
        key: The key that was looked up.
        name: The dict's name.
    """

    def __init__(self, key: str, name: str) -> None:
        self.key = key
        self.name = name
        super().__init__(key)

    def __str__(self) -> str:
        return f"key {self.key!r} not found in dict {self.name!r}"


class IndexOutOfRange(BeaverError, IndexError):
    """A list index is out of range."""


class QueueEmpty(BeaverError, IndexError):
    """A non-blocking ``get`` found the queue empty."""


class RemoteTimeout(BeaverError, TimeoutError):
    """A blocking ``queue.get`` timed out, or the server timed out taking its write lock."""


class ConnectionFailed(BeaverError, ConnectionError):
    """The server could not be reached, or the connection failed mid-request."""


class ClientClosed(BeaverError, RuntimeError):
    """The client (or the structure's client) was closed."""


class ServerError(BeaverError):
    """Any other error response.

    Attributes:
        status: The HTTP status code.
        error: The exception name the server reported (``""`` when the body had none).
    """

    def __init__(self, message: str, *, status: int, error: str = "") -> None:
        self.status = status
        self.error = error
        super().__init__(message)
