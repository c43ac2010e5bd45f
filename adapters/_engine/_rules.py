"""What a write does: an operation applied to the current rows of one collection (pure).

:func:`apply` is the one place where the write semantics of the Python-evaluated
backends live. It reads the rows it needs through a :class:`RowView`, raises the
contract's errors before anything changes, and returns the changes to persist
(``inserted``/``updated``/``deleted``, each with the new and the old row). The
backend persists them and hands them to its watchers; it decides nothing itself.

Resumable change feeds and cross-process locks fit around this: a backend
stamps a cursor on the changes it persists, and takes its lock around the
read-decide-persist step, without touching the rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol

from .._errors import AlreadyExists, Conflict, NotFound
from .._filters import MISSING, get_path, json_equal
from .._stored import RawChange, Stored

__all__ = [
    "CLEAR",
    "Clear",
    "Delete",
    "Insert",
    "Op",
    "RowView",
    "Write",
    "apply",
    "check_unique",
]


class RowView(Protocol):
    """The current rows of one collection, as the engine reads them while deciding.

    The backend holds whatever makes the decision atomic (a lock, a transaction)
    for as long as the view is in use.
    """

    def get(self, key: str) -> Stored | None:
        """The row stored under ``key``, or ``None``."""
        ...

    def taken(self, keys: Sequence[str]) -> str | None:
        """The first of ``keys`` that is stored already, or ``None``."""
        ...

    def rows(self) -> Iterable[Stored]:
        """Every row (read for unique checks and ``clear`` only)."""
        ...


@dataclass(frozen=True, slots=True)
class Insert:
    """New records, as one atomic batch."""

    docs: list[tuple[str, dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Write:
    """An update (``merge``: shallow merge of ``doc``) or a replace of one record."""

    key: str
    doc: dict[str, Any]
    merge: bool
    if_version: int | None


@dataclass(frozen=True, slots=True)
class Delete:
    """The deletion of one record."""

    key: str
    if_version: int | None


@dataclass(frozen=True, slots=True)
class Clear:
    """The deletion of every record."""


CLEAR: Final = Clear()

Op = Insert | Write | Delete | Clear
"""One write operation."""


def apply(
    collection: str, unique: Sequence[str], view: RowView, op: Op, now: datetime
) -> list[RawChange]:
    """Decide ``op`` against ``view``; return the changes to persist (in order).

    ``now`` stamps the written rows; an update never moves ``updated_at``
    backwards. A failed operation raises before any change and returns nothing.

    Raises:
        AlreadyExists: an inserted key exists (or repeats in the batch), or a
            unique field value is taken.
        NotFound: the record to update or replace does not exist.
        Conflict: ``if_version`` differs from the stored version.
    """
    if isinstance(op, Insert):
        return _insert(collection, unique, view, op.docs, now)
    if isinstance(op, Write):
        return [_write(collection, unique, view, op, now)]
    if isinstance(op, Delete):
        old = view.get(op.key)
        if old is None:
            return []
        _check_version(collection, op.key, op.if_version, old)
        return [RawChange(collection, "deleted", op.key, None, old)]
    return [RawChange(collection, "deleted", row.key, None, row) for row in view.rows()]


def _check_version(collection: str, key: str, expected: int | None, row: Stored) -> None:
    if expected is not None and row.version != expected:
        raise Conflict(collection, key, expected, row.version)


def _insert(
    collection: str,
    unique: Sequence[str],
    view: RowView,
    docs: list[tuple[str, dict[str, Any]]],
    now: datetime,
) -> list[RawChange]:
    keys = [key for key, _ in docs]
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            raise AlreadyExists(collection, key)
        seen.add(key)
    taken = view.taken(keys)
    if taken is not None:
        raise AlreadyExists(collection, taken)
    if unique:
        others = ((row.key, row.data) for row in view.rows() if row.key not in seen)
        check_unique(collection, unique, docs, others)
    return [
        RawChange(collection, "inserted", key, Stored(key, doc, 1, now, now), None)
        for key, doc in docs
    ]


def _write(
    collection: str, unique: Sequence[str], view: RowView, op: Write, now: datetime
) -> RawChange:
    key = op.key
    old = view.get(key)
    if old is None:
        raise NotFound(collection, key)
    _check_version(collection, key, op.if_version, old)
    data = {**old.data, **op.doc} if op.merge else op.doc
    if unique:
        others = ((row.key, row.data) for row in view.rows() if row.key != key)
        check_unique(collection, unique, [(key, data)], others)
    new = Stored(key, data, old.version + 1, old.created_at, max(now, old.updated_at))
    return RawChange(collection, "updated", key, new, old)


def check_unique(
    collection: str,
    unique: Sequence[str],
    writes: list[tuple[str, dict[str, Any]]],
    others: Iterable[tuple[str, dict[str, Any]]],
) -> None:
    """Raise ``AlreadyExists`` if ``writes`` clash on a unique field with each other or ``others``.

    Missing and ``null`` values never clash. ``others`` must exclude the keys being written.

    Raises:
        AlreadyExists: naming the field and the value.
    """
    if not unique:
        return
    paths = [(field, tuple(field.split("."))) for field in unique]
    seen: dict[str, list[Any]] = {field: [] for field in unique}
    for _, doc in others:
        for field, path in paths:
            value = get_path(doc, path)
            if value is not MISSING and value is not None:
                seen[field].append(value)
    for key, doc in writes:
        for field, path in paths:
            value = get_path(doc, path)
            if value is MISSING or value is None:
                continue
            if any(json_equal(value, taken) for taken in seen[field]):
                raise AlreadyExists(collection, key, field=field, value=value)
            seen[field].append(value)
