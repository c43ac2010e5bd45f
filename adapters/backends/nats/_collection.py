"""``NatsCollection``: how records are kept in KV buckets and read from the mirror.

Reads are served from the collection's in-memory mirror (``_mirror``) with the
row engine's queries; writes are compare-and-set puts of the config row (and
the state/local rows) through ``_core``, retried on a lost race.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import nats.errors
import nats.js.errors

from ..._collection import Collection
from ..._engine import count, page, select
from ..._errors import AdapterError, AlreadyExists, Conflict, NotFound
from ..._filters import MISSING, FilterNode, SortKey, get_path
from ..._stored import Stored, Subscription
from ._base import NatsBase
from ._batch import MAX_RACES, insert_chunked, insert_one
from ._core import CollectionCore
from ._kv import KVUnavailable, KVWriteError, WrongRevision, translate
from ._lookups import MirrorLookups
from ._mirror import Entry, index_value
from ._unique import Claims, check_free, unique_values
from ._watch import check_cursor, open_feed

__all__ = ["NatsCollection"]

logger = logging.getLogger("adapters")

_FAILURES = (
    KVUnavailable,
    KVWriteError,
    nats.errors.Error,
    nats.js.errors.Error,
    OSError,
    TimeoutError,
)


class NatsCollection(MirrorLookups, Collection[Any]):
    """A collection kept in brainlessdb's bucket layout, read from an in-memory mirror.

    Besides the Collection API it offers brainlessdb-style callbacks
    (:meth:`on_change`, :meth:`on_delete`, :meth:`on_property_change`), fired
    from the KV watch for changes made by other processes (and for this
    process's own writes with ``trigger_local=True``) once the collection is
    loaded (first operation, or :meth:`load`), and synchronous index lookups
    served from the mirror (:meth:`lookup`, :meth:`lookup_one`).
    """

    _store: NatsBase

    def __init__(
        self,
        store: NatsBase,
        name: str,
        model: type[Any] | None,
        indexes: Sequence[str],
        unique: Sequence[str],
    ) -> None:
        super().__init__(store, name, model, indexes, unique)
        self._core = store.core_for(name, model, self._indexes, self._unique)
        self._callbacks: list[tuple[str, bool, Callable[..., Any], str]] = []
        self._core.mirror.listeners.append(self._dispatch)

    # -- plumbing ---------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _guard(self, key: str | None = None) -> AsyncIterator[None]:
        """Translate NATS failures into the adapters error tree."""
        try:
            yield
        except AdapterError:
            raise
        except _FAILURES as exc:
            raise translate(self._store.url, exc, self._name, key) from exc

    async def _ready(self, read: bool = False) -> CollectionCore:
        self._store._check_open()
        fresh = self._store.options.reads == "fresh"
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

    def _kept_racing(self, key: str, what: str) -> Conflict:
        return Conflict(self._name, key, None, None, reason=f"{what} lost {MAX_RACES} races")

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
            check_free(core, self._name, key, doc)
            for name, value in unique_values(core, doc).items():
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
                    results = await insert_chunked(core, self._name, docs)
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
            return await insert_one(core, self._name, key, doc)

    async def _get(self, key: str) -> Stored | None:
        core = await self._ready(read=True)
        entry = core.mirror.get(key)
        return None if entry is None else entry.stored()

    async def _write(
        self, key: str, doc: dict[str, Any], merge: bool, if_version: int | None
    ) -> Stored:
        core = await self._ready(read=True)
        async with self._guard(key), core.locked(key):
            for _ in range(MAX_RACES):
                entry = core.mirror.get(key)
                if entry is None:
                    raise NotFound(self._name, key)
                if if_version is not None and entry.version != if_version:
                    raise Conflict(self._name, key, if_version, entry.version)
                new_doc = {**entry.doc, **doc} if merge else doc
                check_free(core, self._name, key, new_doc)
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
        raise self._kept_racing(key, "write")

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
        async with self._guard(key), core.locked(key):
            for _ in range(MAX_RACES):
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
        raise self._kept_racing(key, "delete")

    async def _find(
        self, where: FilterNode | None, order: tuple[SortKey, ...], limit: int | None, offset: int
    ) -> list[Stored]:
        await self._ready(read=True)
        mirror = self._core.mirror
        if order:
            found = select(mirror.candidates(where), where, order, limit, offset)
        else:  # key order: sort the candidate keys only, stop once the slice is full
            rows = mirror.in_key_order(where)
            found = select(rows, where, order, limit, offset, in_key_order=True)
        return [e.stored() for e in found]

    async def _count(self, where: FilterNode | None) -> int:
        await self._ready(read=True)
        return count(self._core.mirror.candidates(where), where)

    async def _page(self, limit: int, after: str | None) -> list[Stored]:
        await self._ready(read=True)
        return [e.stored() for e in page(self._core.mirror.candidates(None), limit, after)]

    async def _clear(self) -> int:
        core = await self._ready(read=True)
        keys = [e.key for e in core.mirror.candidates(None)]
        results = await asyncio.gather(*(self._delete(k, None) for k in keys))
        return sum(1 for r in results if r)

    def _check_since(self, since: str) -> None:
        check_cursor(since)

    async def _subscribe(self, since: str | None) -> Subscription:
        core = await self._ready()
        async with self._guard():
            return await open_feed(core, since)

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
