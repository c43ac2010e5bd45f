"""``memory://`` — an in-process backend for tests and demos.

``memory://`` opens a private, empty data set. ``memory://NAME`` opens the
data set ``NAME`` shared by every store of this process that uses the same
name; it lives while at least one such store is open. Filters and ordering run
through the pure-Python evaluator; ``watch`` sees every write of the process
to the data set.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from .._collection import Collection
from .._errors import AlreadyExists, Conflict, NotFound
from .._filters import FilterNode, SortKey, matches, sort_records
from .._store import Store
from .._stored import ChangeHub, RawChange, Stored, Subscription, utc_now
from .._unique import check_unique

__all__ = ["MemoryCollection", "MemoryStore", "open_store"]


@dataclass
class _DataSet:
    collections: dict[str, dict[str, Stored]] = field(default_factory=dict)
    hub: ChangeHub = field(default_factory=ChangeHub)
    lock: threading.Lock = field(default_factory=threading.Lock)
    users: int = 0


_named: dict[str, _DataSet] = {}
_named_lock = threading.Lock()


def _copy(stored: Stored) -> Stored:
    # Records handed out must not alias the stored dicts.
    return replace(stored, data=copy.deepcopy(stored.data))


class MemoryCollection(Collection[Any]):
    """A collection of a :class:`MemoryStore`."""

    _store: MemoryStore

    @property
    def _rows(self) -> dict[str, Stored]:
        return self._store._data.collections.setdefault(self._name, {})

    def _publish(self, changes: list[RawChange]) -> None:
        self._store._data.hub.publish(changes)

    def _others(self, exclude: set[str]) -> list[tuple[str, dict[str, Any]]]:
        return [(k, s.data) for k, s in self._rows.items() if k not in exclude]

    async def _insert(self, docs: list[tuple[str, dict[str, Any]]]) -> list[Stored]:
        with self._store._data.lock:
            rows = self._rows
            keys: set[str] = set()
            for key, _ in docs:
                if key in rows or key in keys:
                    raise AlreadyExists(self._name, key)
                keys.add(key)
            check_unique(self._name, self._unique, docs, self._others(keys))
            now = utc_now()
            out = [Stored(key, doc, 1, now, now) for key, doc in docs]
            for stored in out:
                rows[stored.key] = stored
        self._publish([RawChange(self._name, "inserted", s.key, _copy(s), None) for s in out])
        return [_copy(s) for s in out]

    async def _get(self, key: str) -> Stored | None:
        with self._store._data.lock:
            stored = self._rows.get(key)
            return None if stored is None else _copy(stored)

    def _write(self, key: str, doc: dict[str, Any], merge: bool, if_version: int | None) -> Stored:
        with self._store._data.lock:
            rows = self._rows
            old = rows.get(key)
            if old is None:
                raise NotFound(self._name, key)
            if if_version is not None and old.version != if_version:
                raise Conflict(self._name, key, if_version, old.version)
            data = {**copy.deepcopy(old.data), **doc} if merge else doc
            check_unique(self._name, self._unique, [(key, data)], self._others({key}))
            new = Stored(key, data, old.version + 1, old.created_at, utc_now())
            rows[key] = new
        self._publish([RawChange(self._name, "updated", key, _copy(new), _copy(old))])
        return _copy(new)

    async def _update(self, key: str, changes: dict[str, Any], if_version: int | None) -> Stored:
        return self._write(key, changes, True, if_version)

    async def _replace(self, key: str, doc: dict[str, Any], if_version: int | None) -> Stored:
        return self._write(key, doc, False, if_version)

    async def _delete(self, key: str, if_version: int | None) -> bool:
        with self._store._data.lock:
            rows = self._rows
            old = rows.get(key)
            if old is None:
                return False
            if if_version is not None and old.version != if_version:
                raise Conflict(self._name, key, if_version, old.version)
            del rows[key]
        self._publish([RawChange(self._name, "deleted", key, None, _copy(old))])
        return True

    async def _find(
        self, where: FilterNode | None, order: tuple[SortKey, ...], limit: int | None, offset: int
    ) -> list[Stored]:
        with self._store._data.lock:
            hits = [s for s in self._rows.values() if matches(where, s.data)]
            ordered = sort_records(hits, order, lambda s: s.data, lambda s: s.key)
            end = None if limit is None else offset + limit
            return [_copy(s) for s in ordered[offset:end]]

    async def _count(self, where: FilterNode | None) -> int:
        with self._store._data.lock:
            return sum(1 for s in self._rows.values() if matches(where, s.data))

    async def _page(self, limit: int, after: str | None) -> list[Stored]:
        with self._store._data.lock:
            keys = sorted(k for k in self._rows if after is None or k > after)[:limit]
            return [_copy(self._rows[k]) for k in keys]

    async def _clear(self) -> int:
        with self._store._data.lock:
            rows = self._rows
            removed = list(rows.values())
            rows.clear()
        self._publish([RawChange(self._name, "deleted", s.key, None, s) for s in removed])
        return len(removed)

    async def _subscribe(self) -> Subscription:
        return self._store._data.hub.subscribe(self._name)


class MemoryStore(Store):
    """A store over an in-process data set (see the module docstring)."""

    def __init__(self, url: str, data: _DataSet, name: str | None) -> None:
        super().__init__(url)
        self._data = data
        self._shared_name = name

    def _make_collection(
        self,
        name: str,
        model: type[Any] | None,
        indexes: tuple[str, ...],
        unique: tuple[str, ...],
    ) -> Collection[Any]:
        return MemoryCollection(self, name, model, indexes, unique)

    async def _collections(self) -> list[str]:
        with self._data.lock:
            return [name for name, rows in self._data.collections.items() if rows]

    async def _drop(self, name: str) -> bool:
        with self._data.lock:
            rows = self._data.collections.pop(name, {})
        return bool(rows)

    async def _close(self) -> None:
        if self._shared_name is None:
            return
        with _named_lock:
            self._data.users -= 1
            if self._data.users == 0:
                _named.pop(self._shared_name, None)


async def open_store(url: str, **options: Any) -> Store:
    """Open a ``memory://`` or ``memory://NAME`` store (no options)."""
    if options:
        raise TypeError(f"memory:// takes no options, got {sorted(options)}")
    parts = urlsplit(url)
    name = (parts.netloc + parts.path).strip("/") or None
    if name is None:
        return MemoryStore(url, _DataSet(), None)
    with _named_lock:
        data = _named.setdefault(name, _DataSet())
        data.users += 1
    return MemoryStore(url, data, name)
