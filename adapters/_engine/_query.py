"""Filter, order, offset and limit over a row set (pure).

Rows are anything with a ``key`` and a JSON ``data`` document (stored rows, or a
mirror's entries), so every backend that evaluates filters in Python answers
``find``, ``count`` and ``page`` the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import attrgetter
from typing import Any, Protocol, TypeVar

from .._filters import FilterNode, SortKey, matches, sort_records

__all__ = ["Row", "count", "page", "select"]


class Row(Protocol):
    """A row as the queries read it."""

    @property
    def key(self) -> str: ...

    @property
    def data(self) -> dict[str, Any]: ...


R = TypeVar("R", bound=Row)

_by_key = attrgetter("key")


def select(
    rows: Iterable[R],
    where: FilterNode | None,
    order: tuple[SortKey, ...],
    limit: int | None,
    offset: int,
    *,
    in_key_order: bool = False,
) -> list[R]:
    """The rows matching ``where``, ordered by ``order`` (ties and default: key), sliced.

    Without ``order`` the rows are walked in key order and the walk stops once
    the requested slice is full; ``in_key_order`` says they come sorted already
    (a lazy walk then reads only as many rows as the slice needs).
    """
    end = None if limit is None else offset + limit
    if order:
        hits = [row for row in rows if matches(where, row.data)]
        return sort_records(hits, order, attrgetter("data"), _by_key)[offset:end]
    found: list[R] = []
    for row in rows if in_key_order else sorted(rows, key=_by_key):
        if matches(where, row.data):
            found.append(row)
            if end is not None and len(found) >= end:
                break
    return found[offset:]


def count(rows: Iterable[Row], where: FilterNode | None) -> int:
    """How many rows match ``where``."""
    if where is None:
        return sum(1 for _ in rows)
    return sum(1 for row in rows if matches(where, row.data))


def page(rows: Iterable[R], limit: int, after: str | None) -> list[R]:
    """Up to ``limit`` rows with a key greater than ``after``, in key order."""
    later = rows if after is None else (row for row in rows if row.key > after)
    return sorted(later, key=_by_key)[:limit]
