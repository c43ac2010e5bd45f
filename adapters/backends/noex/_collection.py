"""``NoexCollection``: one bucket of a noex-server, its rows decided by the row engine."""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Final, TypeVar

from noex_client import BucketAPI, ConflictError, NoexClientError

from ..._engine import Clear, EngineCollection, Insert, Op, RowMap, apply
from ..._errors import AlreadyExists, Conflict
from ..._filters import FilterNode, matches
from ..._stored import RawChange, Stored, Subscription, utc_now
from ._base import LOCK_BUCKET, RESERVED_PREFIX, NoexBase, is_undefined
from ._records import record_to_stored
from ._watch import NoexWatch

__all__ = ["NoexCollection"]

R = TypeVar("R")

_CHUNK: Final = 1000  # records per store.paginate request while scanning
_SCAN_ATTEMPTS: Final = 5
_WRITE_ATTEMPTS: Final = 5
_MAX_TX_BYTES: Final = 512 * 1024  # stay well below the server's 1 MiB request limit
_MAX_TX_OPS: Final = 2000


class _Restart(Exception):
    """A paginate cursor vanished under a concurrent delete: scan again."""


class _Moved(Exception):
    """A write found its record changed by a writer that bypassed the lock."""


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


class NoexCollection(EngineCollection):
    """A collection of a :class:`~adapters.backends.noex.NoexStore` (one bucket).

    Writes load the rows the engine needs (the record, and the whole bucket for
    unique checks and ``clear``) under the collection's write lock, then commit
    the changes in one transaction with the lock's release. Names starting with
    ``_adapters.`` are reserved.
    """

    _store: NoexBase

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        if self._name.startswith(RESERVED_PREFIX):
            raise ValueError(f"collection names starting with {RESERVED_PREFIX!r} are reserved")

    @property
    def _bucket(self) -> BucketAPI:
        return self._store.client.store.bucket(self._name)

    # -- loading rows ----------------------------------------------------------------

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
        bucket = self._bucket
        after: str | None = None
        while True:
            page = await self._or_empty(
                "paginate", functools.partial(bucket.paginate, _CHUNK, after=after), None
            )
            if page is None:
                return
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
            if is_undefined(exc):
                return empty
            raise self._store.translate(exc, what=what) from exc

    async def _matching(self, where: FilterNode | None) -> list[Stored]:
        hits: list[Stored] = []

        def visit(row: Stored) -> None:
            if matches(where, row.data):
                hits.append(row)

        await self._scan(visit, hits.clear)
        return hits

    async def _load(self, op: Op) -> RowMap:
        """The rows ``op`` reads: the whole bucket for unique checks and clear, else its record."""
        if self._unique or isinstance(op, Clear):
            return RowMap({row.key: row for row in await self._matching(None)})
        if isinstance(op, Insert):
            return RowMap()  # the insert transaction itself refuses a taken key
        row = await self._get(op.key)
        return RowMap({} if row is None else {row.key: row})

    # -- the engine hooks --------------------------------------------------------------

    async def _commit(self, op: Op) -> list[RawChange]:
        if isinstance(op, Insert) and not self._unique:
            changes = apply(self._name, (), RowMap(), op, utc_now())
            return await self._persist(changes, None, None)
        for _ in range(_WRITE_ATTEMPTS):
            async with self._store.write_lock(self._name) as release:
                rows = await self._load(op)
                changes = apply(self._name, self._unique, rows, op, utc_now())
                try:
                    return await self._persist(changes, release, op)
                except _Moved:
                    pass  # only a writer bypassing the lock gets here: decide again
        raise Conflict(self._name, getattr(op, "key", ""), None, None, reason="record kept moving")

    async def _persist(
        self, changes: list[RawChange], release: dict[str, Any] | None, op: Op | None
    ) -> list[RawChange]:
        """Commit ``changes`` (with the lock ``release`` in the last transaction)."""
        ops = [self._op_of(change) for change in changes]
        batches = _batches(ops) if ops else [[]]
        results: list[Any] = []
        buckets = (self._name, LOCK_BUCKET) if release is not None else (self._name,)
        for i, batch in enumerate(batches):
            writes = len(batch)
            if release is not None and i == len(batches) - 1:
                batch = [*batch, release]
            if not batch:
                continue
            try:
                results.extend((await self._store.transact(batch, buckets))[:writes])
            except ConflictError as exc:
                raise self._conflict(exc, changes, op) from exc
        return [
            RawChange(c.collection, c.kind, c.key, record_to_stored(r), c.old) if c.new else c
            for c, r in zip(changes, results, strict=False)
        ]

    def _conflict(
        self, exc: ConflictError, changes: list[RawChange], op: Op | None
    ) -> AlreadyExists | Conflict | _Moved:
        if op is None or isinstance(op, Insert):
            details = exc.details if isinstance(exc.details, dict) else {}
            return AlreadyExists(self._name, str(details.get("key", "")))
        expected = getattr(op, "if_version", None)
        if changes and expected is not None:
            return Conflict(self._name, changes[0].key, expected, None)
        return _Moved()

    def _op_of(self, change: RawChange) -> dict[str, Any]:
        out: dict[str, Any] = {"op": "delete", "bucket": self._name, "key": change.key}
        if change.new is None:
            return out
        if change.kind == "inserted":
            data = {"key": change.key, "doc": change.new.data}
            return {"op": "insert", "bucket": self._name, "data": data}
        out.update(op="update", data={"doc": change.new.data})
        return out

    async def _query(self, where: FilterNode | None, fn: Callable[[Iterable[Stored]], R]) -> R:
        return fn(await self._matching(where))

    async def _get(self, key: str) -> Stored | None:
        found = await self._or_empty("get", lambda: self._bucket.get(key), None)
        return record_to_stored(found) if isinstance(found, dict) else None

    async def _count(self, where: FilterNode | None) -> int:
        if where is None:
            count: int = await self._or_empty("count", self._bucket.count, 0)
            return count
        return len(await self._matching(where))

    async def _page(self, limit: int, after: str | None) -> list[Stored]:
        # Keep only the ``limit`` smallest keys after the cursor, trimming as we go,
        # so a page costs one scan but never holds the whole bucket.
        best: list[Stored] = []

        def visit(row: Stored) -> None:
            if after is None or row.key > after:
                best.append(row)
                if len(best) >= 2 * limit + _CHUNK:
                    best.sort(key=lambda s: s.key)
                    del best[limit:]

        await self._scan(visit, best.clear)
        best.sort(key=lambda s: s.key)
        return best[:limit]

    def _check_since(self, since: str) -> None:
        raise NotImplementedError(
            "the noex backend keeps no change history: watch(since=...) cannot resume"
        )

    async def _subscribe(self, since: str | None) -> Subscription:
        watch = NoexWatch(self._store, self._name)
        await watch.start()
        return watch
