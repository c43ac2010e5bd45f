"""``NatsCollection``: the Collection primitives over the mirror and CAS writes."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, Any

import nats.errors
import nats.js.errors

from ..._collection import Collection
from ..._errors import (
    AdapterError,
    AlreadyExists,
    BackendUnavailable,
    Conflict,
    NotFound,
)
from ..._filters import MISSING, FilterNode, SortKey, get_path, matches, sort_records
from ..._stored import Stored, Subscription
from ._batch import insert_chunked
from ._core import CollectionCore
from ._kv import KVUnavailable, KVWriteError, WrongRevision
from ._lookups import MirrorLookups
from ._mirror import Entry, index_value
from ._unique import Claims, unique_values

if TYPE_CHECKING:
    from ._store import NatsStore

__all__ = ["NatsCollection"]

logger = logging.getLogger("adapters")

_MAX_RACES = 50


class NatsCollection(MirrorLookups, Collection[Any]):
    """A collection kept in brainlessdb's bucket layout, read from an in-memory mirror.

    Besides the Collection API it offers brainlessdb-style callbacks
    (:meth:`on_change`, :meth:`on_delete`, :meth:`on_property_change`), fired
    from the KV watch for changes made by other processes (and for this
    process's own writes with ``trigger_local=True``) once the collection is
    loaded (first operation, or :meth:`load`), and synchronous index lookups
    served from the mirror (:meth:`lookup`, :meth:`lookup_one`).
    """

    _store: NatsStore

    def __init__(
        self,
        store: NatsStore,
        name: str,
        model: type[Any] | None,
        indexes: Sequence[str],
        unique: Sequence[str],
        core: CollectionCore,
    ) -> None:
        super().__init__(store, name, model, indexes, unique)
        self._core = core
        self._callbacks: list[tuple[str, bool, Callable[..., Any], str]] = []
        core.mirror.listeners.append(self._dispatch)

    # -- plumbing ---------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _guard(self) -> AsyncIterator[None]:
        """Translate NATS failures into the adapters error tree."""
        try:
            yield
        except AdapterError:
            raise
        except KVUnavailable as exc:
            raise BackendUnavailable(self._store.url, str(exc)) from exc
        except KVWriteError as exc:
            raise AdapterError(f"NATS rejected a write to {self._name!r}: {exc}") from exc
        except (nats.errors.Error, nats.js.errors.Error, OSError, TimeoutError) as exc:
            raise BackendUnavailable(self._store.url, type(exc).__name__) from exc

    async def _ready(self, read: bool = False) -> CollectionCore:
        self._store._check_open()
        fresh = self._store._conn.options.reads == "fresh"
        if self._core.loaded and not (read and fresh):
            return self._core  # hot path: memory reads need no I/O
        async with self._guard():
            await self._core.ensure_open()
            if read and fresh:
                await self._core.catch_up()
        return self._core

    async def load(self) -> None:
        """Load the collection now (otherwise its first operation does).

        Raises:
            BackendUnavailable: NATS cannot be reached.
        """
        await self._ready()

    def _check_unique(self, key: str, doc: dict[str, Any]) -> None:
        mirror = self._core.mirror
        for name in self._core.layout.unique_fields:
            value = get_path(doc, tuple(name.split(".")))
            if value is MISSING or value is None:
                continue
            for other in mirror.holders(name, value):
                if other != key and mirror.get(other) is not None:
                    raise AlreadyExists(self._name, key, field=name, value=value)

    # -- primitives ---------------------------------------------------------------

    async def _insert(self, docs: list[tuple[str, dict[str, Any]]]) -> list[Stored]:
        with self._store._op():
            return await self._insert_all(docs)

    async def _insert_all(self, docs: list[tuple[str, dict[str, Any]]]) -> list[Stored]:
        core = await self._ready(read=True)
        seen: set[str] = set()
        values: dict[tuple[str, Any], str] = {}
        for key, doc in docs:
            if key in seen or core.mirror.get(key) is not None:
                raise AlreadyExists(self._name, key)
            seen.add(key)
            self._check_unique(key, doc)
            for name in core.layout.unique_fields:
                value = get_path(doc, tuple(name.split(".")))
                if value is MISSING or value is None:
                    continue
                if (name, index_value(value)) in values:
                    raise AlreadyExists(self._name, key, field=name, value=value)
                values[(name, index_value(value))] = key
        async with self._guard():
            results: list[Entry | BaseException]
            if len(docs) == 1:
                results = list(
                    await asyncio.gather(self._insert_one(core, *docs[0]), return_exceptions=True)
                )
            else:
                async with core.locked_many([key for key, _ in docs]):
                    results = await insert_chunked(self, core, docs)
            failed = [r for r in results if isinstance(r, BaseException)]
            if failed:
                # Nothing half-written: undo the inserts that did land.
                done = [r for r in results if isinstance(r, Entry)]
                await asyncio.gather(*(self._undo(core, e) for e in done), return_exceptions=True)
                raise failed[0]
        return [r.stored() for r in results if isinstance(r, Entry)]

    async def _undo(self, core: CollectionCore, entry: Entry) -> None:
        async with core.locked(entry.key):
            await core.remove(entry.key, entry.revision)

    async def _insert_one(self, core: CollectionCore, key: str, doc: dict[str, Any]) -> Entry:
        async with core.locked(key):
            return await self._insert_unlocked(core, key, doc)

    async def _insert_unlocked(self, core: CollectionCore, key: str, doc: dict[str, Any]) -> Entry:
        for _ in range(_MAX_RACES):
            if core.mirror.get(key) is not None:
                raise AlreadyExists(self._name, key)
            self._check_unique(key, doc)
            claims = Claims(core, self._name)
            taken = await claims.acquire(key, list(unique_values(core, doc).items()))
            try:
                return await core.write(key, doc, core.mirror.revision_of(key), None)
            except WrongRevision:
                await claims.release(key, taken)
                await core.refresh(key)
            except BaseException:
                await claims.release(key, taken)
                raise
        raise BackendUnavailable(self._store.url, f"insert of {key!r} kept racing")

    async def _get(self, key: str) -> Stored | None:
        core = await self._ready(read=True)
        entry = core.mirror.get(key)
        return None if entry is None else entry.stored()

    async def _write(
        self, key: str, doc: dict[str, Any], merge: bool, if_version: int | None
    ) -> Stored:
        core = await self._ready(read=True)
        async with self._guard(), core.locked(key):
            for _ in range(_MAX_RACES):
                entry = core.mirror.get(key)
                if entry is None:
                    raise NotFound(self._name, key)
                if if_version is not None and entry.version != if_version:
                    raise Conflict(self._name, key, if_version, entry.version)
                new_doc = {**entry.doc, **doc} if merge else doc
                self._check_unique(key, new_doc)
                claims = Claims(core, self._name)
                take, drop = claims.changed(
                    unique_values(core, entry.doc), unique_values(core, new_doc)
                )
                taken = await claims.acquire(key, take)
                try:
                    written = await core.write(key, new_doc, entry.revision, entry)
                except WrongRevision:
                    await claims.release(key, taken)
                    await core.refresh(key)
                    continue
                except BaseException:
                    await claims.release(key, taken)
                    raise
                await claims.release(key, drop)
                return written.stored()
        raise BackendUnavailable(self._store.url, f"write of {key!r} kept racing")

    async def _update(self, key: str, changes: dict[str, Any], if_version: int | None) -> Stored:
        with self._store._op():
            return await self._write(key, changes, True, if_version)

    async def _replace(self, key: str, doc: dict[str, Any], if_version: int | None) -> Stored:
        with self._store._op():
            return await self._write(key, doc, False, if_version)

    async def _delete(self, key: str, if_version: int | None) -> bool:
        with self._store._op():
            return await self._remove(key, if_version)

    async def _remove(self, key: str, if_version: int | None) -> bool:
        core = await self._ready(read=True)
        async with self._guard(), core.locked(key):
            for _ in range(_MAX_RACES):
                entry = core.mirror.get(key)
                if entry is None:
                    return False
                if if_version is not None and entry.version != if_version:
                    raise Conflict(self._name, key, if_version, entry.version)
                try:
                    await core.remove(key, entry.revision)
                except WrongRevision:
                    await core.refresh(key)
                    continue
                held = list(unique_values(core, entry.doc).items())
                await Claims(core, self._name).release(key, held)
                return True
        raise BackendUnavailable(self._store.url, f"delete of {key!r} kept racing")

    def _matching(self, where: FilterNode | None) -> list[Entry]:
        return [e for e in self._core.mirror.candidates(where) if matches(where, e.doc)]

    async def _find(
        self, where: FilterNode | None, order: tuple[SortKey, ...], limit: int | None, offset: int
    ) -> list[Stored]:
        await self._ready(read=True)
        end = None if limit is None else offset + limit
        if order:
            ordered = sort_records(self._matching(where), order, lambda e: e.doc, lambda e: e.key)
            return [e.stored() for e in ordered[offset:end]]
        # Key order: sort the candidate keys only, stop as soon as the page is full.
        mirror = self._core.mirror
        found: list[Entry] = []
        for key in sorted(mirror.candidate_keys(where)):
            entry = mirror.get(key)
            if entry is not None and matches(where, entry.doc):
                found.append(entry)
                if end is not None and len(found) >= end:
                    break
        return [e.stored() for e in found[offset:end]]

    async def _count(self, where: FilterNode | None) -> int:
        await self._ready(read=True)
        if where is None:
            return len(list(self._core.mirror.candidates(None)))
        return len(self._matching(where))

    async def _page(self, limit: int, after: str | None) -> list[Stored]:
        await self._ready(read=True)
        entries = self._core.mirror.candidates(None)
        page = sorted((e for e in entries if after is None or e.key > after), key=lambda e: e.key)
        return [e.stored() for e in page[:limit]]

    async def _clear(self) -> int:
        core = await self._ready(read=True)
        keys = [e.key for e in core.mirror.candidates(None)]
        results = await asyncio.gather(*(self._delete(k, None) for k in keys))
        return sum(1 for r in results if r)

    async def _subscribe(self) -> Subscription:
        core = await self._ready()
        return core.watch()

    # -- brainlessdb-style callbacks ----------------------------------------------

    def on_change(self, callback: Callable[..., Any], *, trigger_local: bool = False) -> None:
        """Call ``callback(old, new)`` (Records; ``old`` is ``None`` on create).

        Fires for changes made by other processes; with ``trigger_local=True`` also
        for this process's own writes. A callback may be ``async``. An exception
        it raises is logged and isolated: it never touches the data.
        """
        self._callbacks.append(("change", trigger_local, callback, ""))

    def on_delete(self, callback: Callable[..., Any], *, trigger_local: bool = False) -> None:
        """Call ``callback(old)`` when a record is deleted (see :meth:`on_change`)."""
        self._callbacks.append(("delete", trigger_local, callback, ""))

    def on_property_change(
        self, *, trigger_local: bool = False, **callbacks: Callable[..., Any]
    ) -> None:
        """Call ``callback(record, field, old_value, new_value)`` when ``field`` changes.

        Field names may use brainlessdb's ``a__b`` form for nested fields;
        ``old_value`` is ``None`` when the record was just created.
        """
        for name, callback in callbacks.items():
            self._callbacks.append(("property", trigger_local, callback, name))

    def _dispatch(self, key: str, old: Entry | None, new: Entry | None, local: bool) -> None:
        for kind, trigger_local, callback, field in self._callbacks:
            if local and not trigger_local:
                continue
            if kind == "change" and new is not None:
                self._call(callback, lambda: (self._rec(old), self._rec(new)))
            elif kind == "delete" and new is None and old is not None:
                self._call(callback, lambda: (self._rec(old),))
            elif kind == "property" and new is not None:
                path = tuple(field.split("__"))
                before = None if old is None else get_path(old.doc, path)
                after = get_path(new.doc, path)
                before = None if before is MISSING else before
                after = None if after is MISSING else after
                if old is None or before != after:

                    def make(
                        n: Entry = new, f: str = field, b: Any = before, a: Any = after
                    ) -> tuple[Any, ...]:
                        return (self._rec(n), f, b, a)

                    self._call(callback, make)

    def _rec(self, entry: Entry | None) -> Any:
        return None if entry is None else self._record(entry.stored())

    def _call(self, callback: Callable[..., Any], args: Callable[[], tuple[Any, ...]]) -> None:
        try:
            result = callback(*args())
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(result)
                self._store._track(task)
        except Exception:
            logger.exception("nats: %s callback failed (isolated)", self._name)
