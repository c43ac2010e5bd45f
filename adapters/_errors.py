"""The one error tree of the ``adapters`` package.

::

    AdapterError
    ├── NotFound             the record does not exist
    ├── AlreadyExists        the key, or a unique field value, is taken
    ├── Conflict             ``if_version`` did not match, or concurrent writers kept a write out
    ├── FilterError          a ``where`` filter is malformed (also a ValueError)
    ├── BackendUnavailable   the backend cannot be reached (also a ConnectionError)
    ├── MissingExtra         the backend's optional driver is not installed (also an ImportError)
    ├── ValidationError      a document does not fit the typed model (also a ValueError)
    ├── InvalidValue         a value JSON cannot hold as it is: NaN, Infinity (also a ValueError)
    ├── CursorExpired        a ``watch(since=...)`` cursor is older than the retained changes
    ├── BackendError         the backend refused the operation for another reason (``.code``)
    ├── LockTimeout          ``store.lock(timeout=...)`` expired first (also a TimeoutError)
    └── LockLost             a held lock could not be kept for the whole block

Backend exceptions never leak: they are translated at the boundary with
``raise ... from exc`` so the original stays available as ``__cause__``; which
backend error becomes which class is registered in ``adapters._translate``.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AdapterError",
    "AlreadyExists",
    "BackendError",
    "BackendUnavailable",
    "Conflict",
    "CursorExpired",
    "FilterError",
    "InvalidValue",
    "LockLost",
    "LockTimeout",
    "MissingExtra",
    "NotFound",
    "ValidationError",
]


class AdapterError(Exception):
    """Base class of every error raised by ``adapters``."""


class NotFound(AdapterError, KeyError):
    """The record with the given key does not exist.

    Attributes:
        collection: The collection name.
        key: The missing key.
    """

    def __init__(self, collection: str, key: str) -> None:
        super().__init__(f"no record {key!r} in collection {collection!r}")
        self.collection = collection
        self.key = key

    def __str__(self) -> str:
        # KeyError quotes its argument; keep the plain message.
        return str(self.args[0])


class AlreadyExists(AdapterError):
    """A record with this key exists, or a unique field already holds this value.

    Attributes:
        collection: The collection name.
        key: The key that clashed (for a unique clash: the key being written).
        field: The unique field that clashed, ``None`` for a key clash.
        value: The clashing value of ``field`` (``None`` for a key clash).
    """

    def __init__(
        self, collection: str, key: str, *, field: str | None = None, value: Any = None
    ) -> None:
        if field is None:
            message = f"record {key!r} already exists in collection {collection!r}"
        else:
            message = (
                f"unique field {field!r} already holds value {value!r} "
                f"in collection {collection!r} (writing {key!r})"
            )
        super().__init__(message)
        self.collection = collection
        self.key = key
        self.field = field
        self.value = value


class Conflict(AdapterError):
    """A compare-and-set write found another version than ``if_version``, or lost to contention.

    Contention: concurrent writers (or a lock held by another writer) kept the
    write from landing; ``expected`` is then ``None`` and nothing was written.

    Attributes:
        collection: The collection name (``""`` when the backend did not say).
        key: The record key (``""`` when the backend did not say).
        expected: The version the caller expected; ``None`` for contention.
        actual: The stored version, when the backend reports it.
    """

    def __init__(
        self,
        collection: str,
        key: str,
        expected: int | None,
        actual: int | None,
        *,
        reason: str = "",
    ) -> None:
        if expected is not None:
            found = "unknown" if actual is None else str(actual)
            message = (
                f"record {key!r} in collection {collection!r} is at version {found}, "
                f"expected {expected}"
            )
        else:
            target = f"record {key!r} in collection {collection!r}" if key else "the write"
            message = f"{target} lost to concurrent writers ({reason or 'contention'})"
        super().__init__(message)
        self.collection = collection
        self.key = key
        self.expected = expected
        self.actual = actual


class FilterError(AdapterError, ValueError):
    """A ``where`` filter or ``order_by`` is malformed; raised before any I/O.

    Attributes:
        path: The dotted field path (or operator position) that is wrong.
    """

    def __init__(self, message: str, *, path: str = "") -> None:
        super().__init__(message)
        self.path = path


class BackendUnavailable(AdapterError, ConnectionError):
    """The backend could not be reached, or the connection was lost.

    Attributes:
        url: The backend URL with credentials removed.
    """

    def __init__(self, url: str, reason: str = "") -> None:
        message = f"backend unavailable: {url}"
        if reason:
            message = f"{message} ({reason})"
        super().__init__(message)
        self.url = url


class MissingExtra(AdapterError, ImportError):
    """The optional driver of a backend is not installed.

    Attributes:
        extra: The name of the extra to install (``pip install noex-client[extra]``).
    """

    def __init__(self, extra: str, scheme: str) -> None:
        super().__init__(
            f"the {scheme!r} backend needs an optional dependency: "
            f"pip install 'noex-client[{extra}]'"
        )
        self.extra = extra


class ValidationError(AdapterError, ValueError):
    """A document does not fit the collection's typed model.

    Attributes:
        collection: The collection name.
        key: The record key (``None`` for a document not yet stored).
        field: The dotted field path that failed (empty when the whole document failed).
    """

    def __init__(self, collection: str, key: str | None, field: str, detail: str) -> None:
        where = f"field {field!r}" if field else "document"
        of = f"record {key!r}" if key is not None else "new document"
        super().__init__(f"{where} of {of} in collection {collection!r} is invalid: {detail}")
        self.collection = collection
        self.key = key
        self.field = field


class InvalidValue(AdapterError, ValueError):
    """A document holds a value that JSON cannot store as it is (NaN, Infinity, -Infinity).

    Raised before anything is written: storing it would silently change it
    (JSON has no such numbers; encoders write ``null``).

    Attributes:
        collection: The collection name.
        key: The record key (``None`` when not known yet).
        field: The dotted path of the value (list items as ``[i]``).
    """

    def __init__(self, collection: str, key: str | None, field: str, value: float) -> None:
        of = f"record {key!r}" if key is not None else "a new document"
        super().__init__(
            f"field {field!r} of {of} in collection {collection!r} holds {value!r}: "
            "JSON cannot store NaN or Infinity, so nothing was written"
        )
        self.collection = collection
        self.key = key
        self.field = field


class CursorExpired(AdapterError):
    """A ``watch(since=cursor)`` cursor points before the oldest change the backend retains.

    Changes after the cursor were pruned (retention), so the feed cannot resume
    without a gap: read the collection afresh and watch from now, or from a
    newer cursor.

    Attributes:
        collection: The collection name.
        cursor: The cursor that cannot be resumed from.
    """

    def __init__(self, collection: str, cursor: str, detail: str = "") -> None:
        reason = f" ({detail})" if detail else ""
        super().__init__(
            f"cursor {cursor!r} of collection {collection!r} is older than the changes "
            f"the backend retains{reason}"
        )
        self.collection = collection
        self.cursor = cursor


class BackendError(AdapterError):
    """The backend refused the operation for a reason no other class of the tree names.

    A limit was hit, a value cannot be stored, or the request itself was wrong
    (a bug: please report it). Never raised for an unreachable backend
    (:class:`BackendUnavailable`) or for contention (:class:`Conflict`).

    Attributes:
        backend: Which backend refused (``"postgres"``, ``"sqlite"``, ``"nats"``,
            ``"noex"``, ``"beaver"``).
        code: The backend's own error code (a SQLSTATE, a SQLite result code, a
            noex error code, a JetStream error code, an HTTP status), ``None``
            when it gave none.
    """

    def __init__(self, backend: str, code: str | int | None, detail: str) -> None:
        shown = "" if code is None else f" [{code}]"
        super().__init__(f"{backend} refused the operation{shown}: {detail}")
        self.backend = backend
        self.code = code


class LockTimeout(AdapterError, TimeoutError):
    """``store.lock(name, timeout=...)`` was not granted within ``timeout`` seconds.

    The waiter has left the queue when this is raised.

    Attributes:
        name: The lock name.
        timeout: The timeout that expired, in seconds.
    """

    def __init__(self, name: str, timeout: float) -> None:
        super().__init__(f"lock {name!r} was not acquired within {timeout:g} s")
        self.name = name
        self.timeout = timeout


class LockLost(AdapterError):
    """A held lock may have passed to another holder before its block ended.

    Raised when the ``async with store.lock(...)`` block exits after the lock
    could not be renewed within its ``ttl`` (the backend was unreachable, the
    process stalled) or was found taken over; the exception of the block, if
    any, is its ``__cause__``.

    Attributes:
        name: The lock name.
        reason: Why the lock was given up.
    """

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"lock {name!r} was lost while held: {reason}")
        self.name = name
        self.reason = reason
