"""The value types handed to users: ``Record``, ``Change`` and ``Page``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Literal, TypeVar

__all__ = ["Change", "ChangeKind", "Page", "Record"]

T = TypeVar("T")

ChangeKind = Literal["inserted", "updated", "deleted"]


@dataclass(frozen=True, slots=True)
class Record(Generic[T]):
    """One stored document. Immutable.

    Attributes:
        key: The record key, unique within its collection.
        data: The document: a ``dict`` in untyped collections, the model instance in typed ones.
        version: Starts at 1 and grows by 1 on every write; used for compare-and-set.
        created_at: When the record was inserted (timezone-aware UTC).
        updated_at: When the record was last written (timezone-aware UTC).
    """

    key: str
    data: T
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Change(Generic[T]):
    """One change delivered by ``Collection.watch``.

    Attributes:
        kind: ``"inserted"``, ``"updated"`` or ``"deleted"``.
        key: The key of the changed record.
        record: The record after the change (``None`` for ``"deleted"``).
        old: The record before the change, when the backend knows it (``None`` otherwise).
    """

    kind: ChangeKind
    key: str
    record: Record[T] | None
    old: Record[T] | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of records in stable key order.

    Attributes:
        records: The records of this page.
        next_cursor: Pass as ``after=`` to get the next page; ``None`` on the last page.
        has_more: Whether records follow this page.
    """

    records: Sequence[Record[T]]
    next_cursor: str | None
    has_more: bool
