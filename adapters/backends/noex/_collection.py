"""``NoexCollection``: one bucket of a noex-server as a Collection."""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any, Final

from noex_client import BucketAPI, ConflictError, NoexClientError

from ..._collection import Collection
from ..._errors import AlreadyExists, Conflict, NotFound
from ..._filters import FilterNode, SortKey, matches, sort_records
from ..._stored import Stored, Subscription
from ..._unique import check_unique
from ._records import record_to_stored
from ._store import NoexStore, is_undefined_bucket
from ._watch import NoexWatch

__all__ = ["NoexCollection"]

_CHUNK: Final = 1000  # records per store.paginate request while scanning
_SCAN_ATTEMPTS: Final = 5
_MAX_TX_BYTES: Final = 512 * 1024  # stay well below the server's 1 MiB request limit
_MAX_TX_OPS: Final = 2000


class _Restart(Exception):
    """A paginate cursor vanished under a concurrent delete: scan again."""


def _batches(ops: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Split transaction ops so each request stays below the size limits."""
    out: list[list[dict[str, Any]]] = [[]]
    size = 0
    for op in ops:
        op_size = len(json.dumps(op, ensure_ascii=False).encode())
        if out[-1] and (size + op_size > _MAX_TX_BYTES or len(out[-1]) >= _MAX_TX_OPS):
            out.append([])
            size = 0
        out[-1].append(op)
        size += op_size
    return out


class NoexCollection(Collection[Any]):
    """A collection of a :class:`~adapters.backends.noex.NoexStore` (one bucket)."""

    _store: NoexStore

    # -- helpers ---------------------------------------------------------------------

    @property
    def _bucket(self) -> BucketAPI:
        return self._store.client.store.bucket(self._name)

    async def _transact(self, ops: list[dict[str, Any]]) -> list[Any]:
        """Run one transaction; define the bucket again if another store dropped it."""
        await self._store.ensure_bucket(self._name)
        for attempt in (1, 2):
            try:
                result = await self._store.call(
                    "transaction", lambda: self._store.client.store.transaction(ops)
                )
            except ConflictError:
                raise
            except NoexClientError as exc:
                if attempt == 1 and is_undefined_bucket(exc):
                    await self._store.ensure_bucket(self._name, fresh=True)
                    continue
                raise self._store.unexpected(exc) from exc
            return [entry.get("data") for entry in result.get("results", [])]
        raise AssertionError("unreachable")  # pragma: no cover

    async def _scan(self, visit: Callable[[Stored], None], reset: Callable[[], None]) -> None:
        """Feed every record of the bucket to ``visit`` (after ``reset``), chunk by chunk."""
        for _ in range(_SCAN_ATTEMPTS):
            reset()
            try:
                await self._scan_once(visit)
                return
            except _Restart:
                continue
        # Heavy concurrent deletes kept moving the cursor away: read in one go.
        reset()
        for record in await self._or_empty("all", self._bucket.all, []):
            visit(record_to_stored(record))

    async def _scan_once(self, visit: Callable[[Stored], None]) -> None:
        bucket = self._store.client.store.bucket(self._name)
        after: str | None = None
        while True:
            try:
                page = await self._store.call(
                    "paginate", functools.partial(bucket.paginate, _CHUNK, after=after)
                )
            except NoexClientError as exc:
                if is_undefined_bucket(exc):
                    return
                raise self._store.unexpected(exc) from exc
            records = page.get("records", [])
            if after is not None and not records:
                # The previous page promised more, so the cursor record was deleted.
                raise _Restart
            for record in records:
                visit(record_to_stored(record))
            if not page.get("hasMore"):
                return
            after = str(page["nextCursor"])

    async def _or_empty(self, what: str, make: Callable[[], Awaitable[Any]], empty: Any) -> Any:
        try:
            return await self._store.call(what, make)
        except NoexClientError as exc:
            if is_undefined_bucket(exc):
                return empty
            raise self._store.unexpected(exc) from exc

    async def _select(self, where: FilterNode | None) -> list[Stored]:
        hits: list[Stored] = []

        def visit(stored: Stored) -> None:
            if matches(where, stored.data):
                hits.append(stored)

        await self._scan(visit, hits.clear)
        return hits

    async def _others(self, exclude: set[str]) -> list[tuple[str, dict[str, Any]]]:
        return [(s.key, s.data) for s in await self._select(None) if s.key not in exclude]

    def _op(self, op: str, key: str, doc: dict[str, Any] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"op": op, "bucket": self._name, "key": key}
        if op == "insert":
            del out["key"]
            out["data"] = {"key": key, "doc": doc}
        elif doc is not None:
            out["data"] = {"doc": doc}
        return out

    # -- storage primitives ---------------------------------------------------------------

    async def _insert(self, docs: list[tuple[str, dict[str, Any]]]) -> list[Stored]:
        keys = [key for key, _ in docs]
        seen: set[str] = set()
        for key in keys:
            if key in seen:
                raise AlreadyExists(self._name, key)
            seen.add(key)
        ops = [self._op("insert", key, doc) for key, doc in docs]
        await self._store.ensure_bucket(self._name)
        if not self._unique:
            return await self._insert_ops(ops, None)
        async with self._store.write_lock(self._name) as release:
            check_unique(self._name, self._unique, docs, await self._others(set(keys)))
            return await self._insert_ops(ops, release)

    async def _insert_ops(
        self, ops: list[dict[str, Any]], release: dict[str, Any] | None
    ) -> list[Stored]:
        out: list[Stored] = []
        batches = _batches(ops)
        for i, batch in enumerate(batches):
            inserts = len(batch)
            if release is not None and i == len(batches) - 1:
                batch = [*batch, release]
            try:
                results = await self._transact(batch)
            except ConflictError as exc:
                details = exc.details if isinstance(exc.details, dict) else {}
                raise AlreadyExists(self._name, str(details.get("key", ""))) from exc
            out.extend(record_to_stored(r) for r in results[:inserts])
        return out

    async def _get(self, key: str) -> Stored | None:
        found = await self._or_empty("get", lambda: self._bucket.get(key), None)
        return record_to_stored(found) if isinstance(found, dict) else None

    async def _write(
        self, key: str, doc: dict[str, Any], merge: bool, if_version: int | None
    ) -> Stored:
        await self._store.ensure_bucket(self._name)
        async with self._store.write_lock(self._name) as release:
            current = await self._get(key)
            if current is None:
                raise NotFound(self._name, key)
            if if_version is not None and current.version != if_version:
                raise Conflict(self._name, key, if_version, current.version)
            data = {**current.data, **doc} if merge else doc
            if self._unique:
                check_unique(self._name, self._unique, [(key, data)], await self._others({key}))
            try:
                results = await self._transact([self._op("update", key, data), release])
            except ConflictError as exc:
                # Only a writer bypassing the lock can move the version under us.
                raise Conflict(self._name, key, current.version, None) from exc
        return record_to_stored(results[0])

    async def _update(self, key: str, changes: dict[str, Any], if_version: int | None) -> Stored:
        return await self._write(key, changes, True, if_version)

    async def _replace(self, key: str, doc: dict[str, Any], if_version: int | None) -> Stored:
        return await self._write(key, doc, False, if_version)

    async def _delete(self, key: str, if_version: int | None) -> bool:
        await self._store.ensure_bucket(self._name)
        async with self._store.write_lock(self._name) as release:
            current = await self._get(key)
            if current is None:
                await self._transact([release])
                return False
            if if_version is not None and current.version != if_version:
                raise Conflict(self._name, key, if_version, current.version)
            try:
                await self._transact([self._op("delete", key), release])
            except ConflictError as exc:
                raise Conflict(self._name, key, current.version, None) from exc
        return True

    async def _find(
        self, where: FilterNode | None, order: tuple[SortKey, ...], limit: int | None, offset: int
    ) -> list[Stored]:
        hits = await self._select(where)
        ordered = sort_records(hits, order, lambda s: s.data, lambda s: s.key)
        end = None if limit is None else offset + limit
        return ordered[offset:end]

    async def _count(self, where: FilterNode | None) -> int:
        if where is None:
            count: int = await self._or_empty("count", self._bucket.count, 0)
            return count
        return len(await self._select(where))

    async def _page(self, limit: int, after: str | None) -> list[Stored]:
        # Keep only the ``limit`` smallest keys after the cursor, trimming as we go,
        # so a page costs one scan but never holds the whole bucket.
        best: list[Stored] = []

        def visit(stored: Stored) -> None:
            if after is None or stored.key > after:
                best.append(stored)
                if len(best) >= 2 * limit + _CHUNK:
                    best.sort(key=lambda s: s.key)
                    del best[limit:]

        await self._scan(visit, best.clear)
        best.sort(key=lambda s: s.key)
        return best[:limit]

    async def _clear(self) -> int:
        await self._store.ensure_bucket(self._name)
        async with self._store.write_lock(self._name) as release:
            keys: list[str] = []
            await self._scan(lambda s: keys.append(s.key), keys.clear)
            batches = _batches([self._op("delete", key) for key in keys])
            for i, batch in enumerate(batches):
                if i == len(batches) - 1:
                    batch = [*batch, release]
                try:
                    await self._transact(batch)
                except ConflictError as exc:
                    raise self._store.unexpected(exc) from exc
        return len(keys)

    async def _subscribe(self) -> Subscription:
        watch = NoexWatch(self._store, self._name)
        await watch.start()
        return watch
