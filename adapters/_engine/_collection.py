"""``EngineCollection``: the Collection primitives of the backends that evaluate in Python.

A backend subclass says how it stores rows, in four methods:

* ``_commit(op)``: run :func:`~adapters._engine.apply` atomically against the
  stored rows (under the backend's lock or transaction), persist the changes it
  returns, and return them (their rows detached from any row set it keeps);
* ``_query(where, fn)``: call ``fn`` with the stored rows (at least those
  matching ``where``; the engine filters again) and return its result;
* ``_get(key)`` and ``_subscribe()``, as for every Collection.

Optional: ``_publish(changes)`` wakes this process's change feeds after a commit,
``_detach(row)`` copies rows a query returns when they belong to a row set the
backend keeps in memory, and ``_count``/``_page`` may be overridden where the
backend answers them more cheaply than a full read.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, TypeVar

from .._collection import Collection
from .._filters import FilterNode, SortKey
from .._stored import RawChange, Stored
from ._query import count, page, select
from ._rowmap import copy_row
from ._rules import CLEAR, Delete, Insert, Op, Write

__all__ = ["EngineCollection"]

R = TypeVar("R")


class EngineCollection(Collection[Any]):
    """A collection whose write and query semantics come from the row engine."""

    # -- what the backend provides ------------------------------------------

    @abc.abstractmethod
    async def _commit(self, op: Op) -> list[RawChange]:
        """Decide ``op`` with ``apply`` against the stored rows, persist, return the changes."""

    @abc.abstractmethod
    async def _query(self, where: FilterNode | None, fn: Callable[[Iterable[Stored]], R]) -> R:
        """Return ``fn(rows)`` over the stored rows (a superset of those matching ``where``)."""

    def _publish(self, changes: list[RawChange]) -> None:
        """Hand committed changes to this process's watchers (default: none to tell)."""

    def _detach(self, row: Stored) -> Stored:
        """A row returned by ``_query`` as the caller may own it (default: as it is)."""
        return row

    # -- the Collection primitives ---------------------------------------------

    async def _run(self, op: Op) -> list[RawChange]:
        changes = await self._commit(op)
        if changes:
            self._publish(changes)
        return changes

    @staticmethod
    def _written(changes: list[RawChange]) -> list[Stored]:
        # Watchers hold the published rows: the caller gets its own copies.
        return [copy_row(change.new) for change in changes if change.new is not None]

    async def _insert(self, docs: list[tuple[str, dict[str, Any]]]) -> list[Stored]:
        return self._written(await self._run(Insert(docs)))

    async def _update(self, key: str, changes: dict[str, Any], if_version: int | None) -> Stored:
        (row,) = self._written(await self._run(Write(key, changes, True, if_version)))
        return row

    async def _replace(self, key: str, doc: dict[str, Any], if_version: int | None) -> Stored:
        (row,) = self._written(await self._run(Write(key, doc, False, if_version)))
        return row

    async def _delete(self, key: str, if_version: int | None) -> bool:
        return bool(await self._run(Delete(key, if_version)))

    async def _clear(self) -> int:
        return len(await self._run(CLEAR))

    async def _find(
        self, where: FilterNode | None, order: tuple[SortKey, ...], limit: int | None, offset: int
    ) -> list[Stored]:
        rows = await self._query(where, partial(_select, where, order, limit, offset))
        return [self._detach(row) for row in rows]

    async def _count(self, where: FilterNode | None) -> int:
        return await self._query(where, partial(_count, where))

    async def _page(self, limit: int, after: str | None) -> list[Stored]:
        rows = await self._query(None, partial(_page, limit, after))
        return [self._detach(row) for row in rows]


def _select(
    where: FilterNode | None,
    order: tuple[SortKey, ...],
    limit: int | None,
    offset: int,
    rows: Iterable[Stored],
) -> list[Stored]:
    return select(rows, where, order, limit, offset)


def _count(where: FilterNode | None, rows: Iterable[Stored]) -> int:
    return count(rows, where)


def _page(limit: int, after: str | None, rows: Iterable[Stored]) -> list[Stored]:
    return page(rows, limit, after)
