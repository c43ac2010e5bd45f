"""Backend errors to the ``adapters`` error tree: one registry for every backend.

Each backend reports failures in its own vocabulary: PostgreSQL a SQLSTATE,
SQLite a result code, noex-server an error code, JetStream an API error code,
a REST server an HTTP status. The tables below say what each of those *means*
(an :class:`ErrorKind`); :func:`error_for` turns a kind into the error raised.
Anything not registered falls back to the backend's default kind, and the
default is never :attr:`ErrorKind.UNAVAILABLE` for what is a refusal or a bug:
only connection trouble makes :class:`~adapters.BackendUnavailable`.

======================= ===================================================
kind                    raised as
======================= ===================================================
``UNAVAILABLE``         :class:`~adapters.BackendUnavailable` (unreachable,
                        lost, timed out, credentials or permission refused)
``CONTENTION``          :class:`~adapters.Conflict` (serialisation failure,
                        deadlock, busy lock, lost compare-and-set)
``EXISTS``              :class:`~adapters.AlreadyExists` (needs the key)
``NOT_FOUND``           :class:`~adapters.NotFound` (needs the key)
``REFUSED``             :class:`~adapters.BackendError` with the code
======================= ===================================================

This module imports no driver: backends read the code off their exception
and look it up here.
"""

from __future__ import annotations

import enum
from typing import Final

from ._errors import (
    AdapterError,
    AlreadyExists,
    BackendError,
    BackendUnavailable,
    Conflict,
    NotFound,
)

__all__ = [
    "HTTP_STATUS",
    "NATS_API",
    "NOEX_CODES",
    "SQLITE_CODES",
    "SQLSTATE",
    "ErrorKind",
    "error_for",
    "http_kind",
    "nats_kind",
    "noex_kind",
    "sqlite_kind",
    "sqlstate_kind",
]


class ErrorKind(enum.Enum):
    """What a backend error means for the caller."""

    UNAVAILABLE = "unavailable"
    CONTENTION = "contention"
    EXISTS = "exists"
    NOT_FOUND = "not_found"
    REFUSED = "refused"


U, C, E, N = (
    ErrorKind.UNAVAILABLE,
    ErrorKind.CONTENTION,
    ErrorKind.EXISTS,
    ErrorKind.NOT_FOUND,
)

SQLSTATE: Final[dict[str, ErrorKind]] = {
    # Whole classes (the first two characters) ...
    "08": U,  # connection exception
    "28": U,  # invalid authorization specification
    "40": C,  # transaction rollback: serialization failure, deadlock
    "53": U,  # insufficient resources (too many connections, disk full)
    "57": U,  # operator intervention: shutdown, statement timeout
    "58": U,  # system error (I/O)
    # ... and single codes, which win over their class.
    "23505": E,  # unique_violation
    "42501": U,  # insufficient_privilege
    "55P03": C,  # lock_not_available
}
"""PostgreSQL SQLSTATE codes and classes (fallback: ``REFUSED``)."""

SQLITE_CODES: Final[dict[int, ErrorKind]] = {
    3: U,  # SQLITE_PERM
    5: C,  # SQLITE_BUSY: another connection holds the write lock
    6: C,  # SQLITE_LOCKED
    8: U,  # SQLITE_READONLY
    10: U,  # SQLITE_IOERR
    11: U,  # SQLITE_CORRUPT
    13: U,  # SQLITE_FULL
    14: U,  # SQLITE_CANTOPEN
    15: U,  # SQLITE_PROTOCOL
    19: E,  # SQLITE_CONSTRAINT
    26: U,  # SQLITE_NOTADB
}
"""SQLite primary result codes (fallback: ``REFUSED``, e.g. misuse or ``SQLITE_TOOBIG``)."""

NOEX_CODES: Final[dict[str, ErrorKind]] = {
    "DISCONNECTED": U,
    "CONNECT_FAILED": U,
    "TIMEOUT": U,
    "CONNECT_TIMEOUT": U,
    "UNAUTHORIZED": U,
    "FORBIDDEN": U,
    "SESSION_REVOKED": U,
    "RATE_LIMITED": U,
    "BACKPRESSURE": U,
    "CONFLICT": C,
    "ALREADY_EXISTS": E,
    "NOT_FOUND": N,
    "BUCKET_NOT_DEFINED": N,
    "QUERY_NOT_DEFINED": N,
}
"""noex-server error codes (fallback: ``REFUSED``, e.g. ``VALIDATION_ERROR``, ``INTERNAL_ERROR``)."""

NATS_API: Final[dict[int, ErrorKind]] = {
    10071: C,  # JSStreamWrongLastSequenceErr: a compare-and-set lost
    408: U,  # request timeout
    503: U,  # JetStream not available (no responders)
}
"""JetStream API error codes (``err_code``), then HTTP-like codes (fallback: ``REFUSED``)."""

HTTP_STATUS: Final[dict[int, ErrorKind]] = {
    401: U,
    403: U,
    404: N,
    408: U,
    409: C,
    423: C,
    429: U,
    502: U,
    503: U,
    504: U,
}
"""HTTP statuses of REST backends (fallback: ``REFUSED``)."""


def sqlstate_kind(sqlstate: str | None, default: ErrorKind = ErrorKind.REFUSED) -> ErrorKind:
    """The kind of a SQLSTATE: its own entry, else its class's, else ``default``."""
    if not sqlstate:
        return default
    return SQLSTATE.get(sqlstate) or SQLSTATE.get(sqlstate[:2]) or ErrorKind.REFUSED


def sqlite_kind(code: int | None, default: ErrorKind = ErrorKind.REFUSED) -> ErrorKind:
    """The kind of a SQLite (extended) result code; ``default`` when there is none."""
    if code is None:
        return default
    return SQLITE_CODES.get(code & 0xFF, ErrorKind.REFUSED)


def noex_kind(code: str) -> ErrorKind:
    """The kind of a noex-server (or ``noex_client``) error code."""
    return NOEX_CODES.get(code, ErrorKind.REFUSED)


def nats_kind(err_code: int | None, code: int | None) -> ErrorKind:
    """The kind of a JetStream API error: by ``err_code``, then by ``code``."""
    for value in (err_code, code):
        if value is not None and value in NATS_API:
            return NATS_API[value]
    return ErrorKind.REFUSED


def http_kind(status: int) -> ErrorKind:
    """The kind of an HTTP error status."""
    return HTTP_STATUS.get(status, ErrorKind.REFUSED)


def error_for(
    kind: ErrorKind,
    *,
    backend: str,
    code: str | int | None,
    url: str,
    reason: str,
    collection: str = "",
    key: str | None = None,
) -> AdapterError:
    """The error to raise for a backend error of ``kind``.

    Args:
        backend: ``"postgres"``, ``"sqlite"``, ``"noex"``, ``"nats"`` or ``"beaver"``.
        code: The backend's code (kept on :class:`~adapters.BackendError`).
        url: The store URL without credentials.
        reason: What the backend said (must not hold secrets).
        collection, key: The record concerned, when known; ``EXISTS`` and
            ``NOT_FOUND`` without a key are reported as ``REFUSED``.
    """
    if kind is ErrorKind.UNAVAILABLE:
        return BackendUnavailable(url, reason)
    if kind is ErrorKind.CONTENTION:
        return Conflict(collection, key or "", None, None, reason=reason)
    if kind is ErrorKind.EXISTS and key is not None:
        return AlreadyExists(collection, key)
    if kind is ErrorKind.NOT_FOUND and key is not None:
        return NotFound(collection, key)
    return BackendError(backend, code, reason)
