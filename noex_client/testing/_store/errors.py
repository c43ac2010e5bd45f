"""Errors raised by the in-memory store, each tagged with its wire code.

The mapping follows noex-server's store module: the store's own error classes
keep their codes; anything else (a missing record, a bad definition, a
transaction touching an unknown bucket) is an ``INTERNAL_ERROR`` that keeps the
original message.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "BucketAlreadyExistsError",
    "BucketNotDefinedError",
    "QueryAlreadyDefinedError",
    "QueryNotDefinedError",
    "StoreError",
    "TransactionConflictError",
    "UniqueConstraintError",
    "ValidationFailedError",
]

_ABSENT: Any = object()


class StoreError(Exception):
    """A store failure; ``code`` is the wire error code it maps to.

    Attributes:
        code: The noex error code (``INTERNAL_ERROR`` unless a subclass says otherwise).
        message: The message sent on the wire.
        details: The ``details`` value, or the private absent marker.
    """

    code: ClassVar[str] = "INTERNAL_ERROR"

    def __init__(self, message: str, details: Any = _ABSENT) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    @property
    def has_details(self) -> bool:
        """Whether the error carries a ``details`` value."""
        return self.details is not _ABSENT


class BucketAlreadyExistsError(StoreError):
    """``defineBucket`` of a name that exists."""

    code = "ALREADY_EXISTS"


class BucketNotDefinedError(StoreError):
    """A data or admin operation named an unknown bucket."""

    code = "BUCKET_NOT_DEFINED"


class ValidationFailedError(StoreError):
    """A record failed its bucket schema; details are the issue list."""

    code = "VALIDATION_ERROR"


class UniqueConstraintError(StoreError):
    """A unique field clash; details are ``{bucket, field, value}``."""

    code = "ALREADY_EXISTS"


class TransactionConflictError(StoreError):
    """A transaction commit conflict; details are ``{bucket, key}``."""

    code = "CONFLICT"


class QueryAlreadyDefinedError(StoreError):
    """``defineQuery`` of a name that exists."""

    code = "ALREADY_EXISTS"


class QueryNotDefinedError(StoreError):
    """Subscribe to, or undefine, an unknown query."""

    code = "QUERY_NOT_DEFINED"
