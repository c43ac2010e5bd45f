"""``sqlite:///path.db`` — the embedded, persistent default backend.

Paths follow the usual convention: ``sqlite:///data.db`` is relative to the
working directory, ``sqlite:////var/lib/app.db`` is absolute. With no URL at
all, :func:`adapters.connect` opens ``noex-store.db`` in the working directory.

The stdlib :mod:`sqlite3` runs off the event loop, on one worker thread per
store. The database is in WAL mode and holds one ``documents`` table (JSON text
keyed by collection and key, with a version column for compare-and-set).
Writes run in ``BEGIN IMMEDIATE`` transactions, so several stores and processes
can share a file. Filters, ordering and unique checks use the pure-Python
evaluator; ``indexes`` are accepted and have no effect here.
``store.transaction()`` groups operations in one SQLite transaction. ``watch`` sees
the writes made by stores of this process on the same file, not those of
other processes.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import msgspec

from .._collection import Collection
from .._errors import AdapterError, AlreadyExists, BackendUnavailable, Conflict, NotFound
from .._filters import FilterNode, SortKey, matches, sort_records
from .._store import Store
from .._stored import ChangeHub, RawChange, Stored, Subscription, utc_now
from .._unique import check_unique
from .._urls import redact_url

__all__ = ["SqliteCollection", "SqliteStore", "open_store"]

R = TypeVar("R")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    collection TEXT NOT NULL,
    key TEXT NOT NULL,
    data TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_us INTEGER NOT NULL,
    updated_us INTEGER NOT NULL,
    PRIMARY KEY (collection, key)
) WITHOUT ROWID
"""
_COLUMNS = "key, data, version, created_us, updated_us"
_CHUNK = 500

_hubs: dict[str, ChangeHub] = {}
_hubs_lock = threading.Lock()

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(dict[str, Any]).decode


def _hub_for(path: str) -> ChangeHub:
    with _hubs_lock:
        return _hubs.setdefault(path, ChangeHub())


def _us(when: datetime) -> int:
    delta = when - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _dt(us: int) -> datetime:
    return datetime.fromtimestamp(us // 1_000_000, UTC).replace(microsecond=us % 1_000_000)


def _row(row: tuple[Any, ...]) -> Stored:
    key, data, version, created, updated = row
    return Stored(key, _decode(data), version, _dt(created), _dt(updated))


class SqliteCollection(Collection[Any]):
    """A collection of a :class:`SqliteStore`."""

    _store: SqliteStore

    def _all(self, conn: sqlite3.Connection) -> list[Stored]:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM documents WHERE collection = ?", (self._name,)
        ).fetchall()
        return [_row(r) for r in rows]

    def _one(self, conn: sqlite3.Connection, key: str) -> Stored | None:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM documents WHERE collection = ? AND key = ?",
            (self._name, key),
        ).fetchone()
        return None if row is None else _row(row)

    def _others(self, conn: sqlite3.Connection, exclude: set[str]) -> list[tuple[str, Any]]:
        return [(s.key, s.data) for s in self._all(conn) if s.key not in exclude]

    async def _insert(self, docs: list[tuple[str, dict[str, Any]]]) -> list[Stored]:
        def work(conn: sqlite3.Connection) -> list[Stored]:
            keys = [key for key, _ in docs]
            seen: set[str] = set()
            for key in keys:
                if key in seen:
                    raise AlreadyExists(self._name, key)
                seen.add(key)
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                taken = conn.execute(
                    f"SELECT key FROM documents WHERE collection = ? AND key IN ({marks}) LIMIT 1",
                    (self._name, *chunk),
                ).fetchone()
                if taken is not None:
                    raise AlreadyExists(self._name, taken[0])
            if self._unique:
                check_unique(self._name, self._unique, docs, self._others(conn, seen))
            now = utc_now()
            stamp = _us(now)
            conn.executemany(
                "INSERT INTO documents (collection, key, data, version, created_us, updated_us)"
                " VALUES (?, ?, ?, 1, ?, ?)",
                [(self._name, key, _encode(doc), stamp, stamp) for key, doc in docs],
            )
            return [Stored(key, doc, 1, _dt(stamp), _dt(stamp)) for key, doc in docs]

        out = await self._store._write(work)
        self._store._publish([RawChange(self._name, "inserted", s.key, s, None) for s in out])
        return [Stored(s.key, _decode(_encode(s.data)), 1, s.created_at, s.updated_at) for s in out]

    async def _get(self, key: str) -> Stored | None:
        return await self._store._read(lambda conn: self._one(conn, key))

    async def _write_doc(
        self, key: str, doc: dict[str, Any], merge: bool, if_version: int | None
    ) -> Stored:
        def work(conn: sqlite3.Connection) -> tuple[Stored, Stored]:
            old = self._one(conn, key)
            if old is None:
                raise NotFound(self._name, key)
            if if_version is not None and old.version != if_version:
                raise Conflict(self._name, key, if_version, old.version)
            data = {**old.data, **doc} if merge else doc
            if self._unique:
                check_unique(self._name, self._unique, [(key, data)], self._others(conn, {key}))
            stamp = _us(utc_now())
            encoded = _encode(data)
            conn.execute(
                "UPDATE documents SET data = ?, version = ?, updated_us = ?"
                " WHERE collection = ? AND key = ?",
                (encoded, old.version + 1, stamp, self._name, key),
            )
            return old, Stored(key, _decode(encoded), old.version + 1, old.created_at, _dt(stamp))

        old, new = await self._store._write(work)
        self._store._publish([RawChange(self._name, "updated", key, new, old)])
        return Stored(key, _decode(_encode(new.data)), new.version, new.created_at, new.updated_at)

    async def _update(self, key: str, changes: dict[str, Any], if_version: int | None) -> Stored:
        return await self._write_doc(key, changes, True, if_version)

    async def _replace(self, key: str, doc: dict[str, Any], if_version: int | None) -> Stored:
        return await self._write_doc(key, doc, False, if_version)

    async def _delete(self, key: str, if_version: int | None) -> bool:
        def work(conn: sqlite3.Connection) -> Stored | None:
            old = self._one(conn, key)
            if old is None:
                return None
            if if_version is not None and old.version != if_version:
                raise Conflict(self._name, key, if_version, old.version)
            conn.execute(
                "DELETE FROM documents WHERE collection = ? AND key = ?", (self._name, key)
            )
            return old

        old = await self._store._write(work)
        if old is None:
            return False
        self._store._publish([RawChange(self._name, "deleted", key, None, old)])
        return True

    async def _find(
        self, where: FilterNode | None, order: tuple[SortKey, ...], limit: int | None, offset: int
    ) -> list[Stored]:
        def work(conn: sqlite3.Connection) -> list[Stored]:
            hits = [s for s in self._all(conn) if matches(where, s.data)]
            ordered = sort_records(hits, order, lambda s: s.data, lambda s: s.key)
            end = None if limit is None else offset + limit
            return ordered[offset:end]

        return await self._store._read(work)

    async def _count(self, where: FilterNode | None) -> int:
        def work(conn: sqlite3.Connection) -> int:
            if where is None:
                row = conn.execute(
                    "SELECT count(*) FROM documents WHERE collection = ?", (self._name,)
                ).fetchone()
                return int(row[0])
            return sum(1 for s in self._all(conn) if matches(where, s.data))

        return await self._store._read(work)

    async def _page(self, limit: int, after: str | None) -> list[Stored]:
        def work(conn: sqlite3.Connection) -> list[Stored]:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM documents WHERE collection = ? AND key > ?"
                " ORDER BY key LIMIT ?",
                (self._name, "" if after is None else after, limit),
            ).fetchall()
            return [_row(r) for r in rows]

        return await self._store._read(work)

    async def _clear(self) -> int:
        def work(conn: sqlite3.Connection) -> list[Stored]:
            removed = self._all(conn)
            conn.execute("DELETE FROM documents WHERE collection = ?", (self._name,))
            return removed

        removed = await self._store._write(work)
        self._store._publish([RawChange(self._name, "deleted", s.key, None, s) for s in removed])
        return len(removed)

    async def _subscribe(self) -> Subscription:
        return self._store._hub.subscribe(self._name)


class SqliteStore(Store):
    """A store over one SQLite file (see the module docstring)."""

    def __init__(self, url: str, path: str, conn: sqlite3.Connection, pool: ThreadPoolExecutor):
        super().__init__(url)
        self._path = path
        self._conn = conn
        self._pool = pool
        self._hub = _hub_for(path)
        # Held by an open transaction: operations of other tasks wait for it,
        # since they would otherwise run inside it on the shared connection.
        self._gate = asyncio.Lock()

    def _tx(self) -> _TxState | None:
        state = _current_tx.get()
        return state if state is not None and state.store is self else None

    def _publish(self, changes: list[RawChange]) -> None:
        tx = self._tx()
        if tx is not None:
            tx.pending.extend(changes)  # watchers see them after the commit
        else:
            self._hub.publish(changes)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteStore]:
        """Group the operations awaited inside the block in one SQLite transaction.

        Other tasks' operations on this store wait until the block ends; nested
        blocks are savepoints. Commits on exit, rolls back on an exception.
        """
        self._check_open()
        outer = self._tx()
        if outer is not None:
            name = f"s{outer.depth}"
            mark = len(outer.pending)
            outer.depth += 1
            await self._run(lambda: self._conn.execute(f"SAVEPOINT {name}"))
            try:
                yield self
            except BaseException:
                del outer.pending[mark:]
                await self._run(lambda: self._conn.execute(f"ROLLBACK TO {name}"))
                raise
            finally:
                outer.depth -= 1
                await self._run(lambda: self._conn.execute(f"RELEASE {name}"))
            return
        async with self._gate:
            await self._run(lambda: self._conn.execute("BEGIN IMMEDIATE"))
            state = _TxState(self)
            token = _current_tx.set(state)
            try:
                yield self
            except BaseException:
                _current_tx.reset(token)
                await self._run(lambda: self._conn.execute("ROLLBACK"))
                raise
            _current_tx.reset(token)
            await self._run(lambda: self._conn.execute("COMMIT"))
        self._hub.publish(state.pending)

    async def _run(self, fn: Callable[[], R]) -> R:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, fn)
        except AdapterError:
            raise
        except sqlite3.Error as exc:
            raise BackendUnavailable(self.url, f"sqlite: {exc}") from exc

    async def _read(self, fn: Callable[[sqlite3.Connection], R]) -> R:
        if self._tx() is not None:
            return await self._run(lambda: fn(self._conn))
        async with self._gate:
            return await self._run(lambda: fn(self._conn))

    async def _write(self, fn: Callable[[sqlite3.Connection], R]) -> R:
        if self._tx() is not None:
            # Checks run before any change, so a failed operation leaves the
            # transaction as it was.
            return await self._run(lambda: fn(self._conn))

        def work() -> R:
            with _immediate(self._conn):
                return fn(self._conn)

        async with self._gate:
            return await self._run(work)

    def _make_collection(
        self,
        name: str,
        model: type[Any] | None,
        indexes: tuple[str, ...],
        unique: tuple[str, ...],
    ) -> Collection[Any]:
        return SqliteCollection(self, name, model, indexes, unique)

    async def _collections(self) -> list[str]:
        rows = await self._read(
            lambda c: c.execute("SELECT DISTINCT collection FROM documents").fetchall()
        )
        return [r[0] for r in rows]

    async def _drop(self, name: str) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            cur = conn.execute("DELETE FROM documents WHERE collection = ?", (name,))
            return cur.rowcount > 0

        return await self._write(work)

    async def _close(self) -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(self._pool, self._conn.close)
        finally:
            self._pool.shutdown(wait=False)


@dataclass
class _TxState:
    """The open transaction of one task on one store."""

    store: SqliteStore
    pending: list[RawChange] = field(default_factory=list)
    depth: int = 0


_current_tx: contextvars.ContextVar[_TxState | None] = contextvars.ContextVar(
    "adapters_sqlite_transaction", default=None
)


@contextmanager
def _immediate(conn: sqlite3.Connection) -> Iterator[None]:
    # BEGIN IMMEDIATE takes the write lock up front, so read-check-write
    # sequences (CAS, unique checks) cannot interleave with another writer.
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    if parts.netloc:
        raise ValueError("sqlite URLs have no host: use sqlite:///relative.db or sqlite:////abs.db")
    path = unquote(parts.path)[1:] if parts.path.startswith("/") else unquote(parts.path)
    if not path:
        raise ValueError("sqlite URL needs a file path, e.g. sqlite:///data.db")
    return path


async def open_store(url: str, **options: Any) -> Store:
    """Open (creating if needed) the SQLite file named by ``url``.

    Options:
        timeout: Seconds to wait for another writer's lock (default 10).

    Raises:
        BackendUnavailable: the file cannot be opened or initialised.
    """
    timeout = float(options.pop("timeout", 10.0))
    if options:
        raise TypeError(f"unknown sqlite options: {sorted(options)}")
    path = _path_of(url)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="adapters-sqlite")

    def init() -> tuple[str, sqlite3.Connection]:
        full = os.path.realpath(path)
        conn = sqlite3.connect(full, timeout=timeout, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(_SCHEMA)
        except BaseException:
            conn.close()
            raise
        return full, conn

    try:
        full, conn = await asyncio.get_running_loop().run_in_executor(pool, init)
    except sqlite3.Error as exc:
        pool.shutdown(wait=False)
        raise BackendUnavailable(redact_url(url), f"sqlite: {exc}") from exc
    return SqliteStore(url, full, conn, pool)
