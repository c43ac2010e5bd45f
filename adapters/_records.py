"""The value types handed to users: ``Record``, ``Change`` and ``Page``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

__all__ = ["Change", "ChangeKind", "Page", "Record", "make_record"]

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


# The slot setters of Record. A frozen dataclass __init__ goes through
# object.__setattr__ by attribute name for every field; calling the slot
# descriptors directly fills the same slots in about half the time, which
# matters when a batch turns thousands of stored rows into records.
_new = object.__new__
_set_key = Record.__dict__["key"].__set__
_set_data = Record.__dict__["data"].__set__
_set_version = Record.__dict__["version"].__set__
_set_created_at = Record.__dict__["created_at"].__set__
_set_updated_at = Record.__dict__["updated_at"].__set__


def make_record(
    key: str, data: T, version: int, created_at: datetime, updated_at: datetime
) -> Record[T]:
    """Build a :class:`Record` exactly as ``Record(...)`` would, only faster."""
    record: Record[Any] = _new(Record)
    _set_key(record, key)
    _set_data(record, data)
    _set_version(record, version)
    _set_created_at(record, created_at)
    _set_updated_at(record, updated_at)
    return record


@dataclass(frozen=True, slots=True)
class Change(Generic[T]):
    """One change delivered by ``Collection.watch``.

    Attributes:
        kind: ``"inserted"``, ``"updated"`` or ``"deleted"``.
        key: The key of the changed record.
        record: The record after the change (``None`` for ``"deleted"``).
        old: The record before the change, when the backend knows it (``None`` otherwise).
        cursor: Where this change sits in the collection's feed: an opaque string,
            totally ordered per collection (later changes have greater cursors).
            ``watch(since=cursor)`` resumes right after this change.
    """

    kind: ChangeKind
    key: str
    record: Record[T] | None
    old: Record[T] | None = None
    cursor: str = field(kw_only=True)


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
