"""``sqlite:///path.db`` — the embedded, persistent default backend.

Paths follow the usual convention: ``sqlite:///data.db`` is relative to the
working directory, ``sqlite:////var/lib/app.db`` is absolute. With no URL at
all, :func:`adapters.connect` opens ``noex-store.db`` in the working directory.
Options are the fields of :class:`SqliteOptions` (URL query or keywords).

How rows are stored: one ``documents`` table (JSON text keyed by collection and
key, a version column, microsecond timestamps) in a WAL-mode file, driven by
the stdlib :mod:`sqlite3` on one worker thread per store. Each write reads the
rows it needs, lets the row engine decide and persists the changes, and their
entries in the change log, inside one ``BEGIN
IMMEDIATE`` transaction, so several stores and processes can share a file.
Queries read the collection's rows on the worker thread and evaluate them
there; ``indexes`` are accepted and have no effect. ``store.transaction()``
groups operations in one SQLite transaction.

``watch`` follows the change log: writes of this process wake it at once,
writes of other processes within ``poll_interval`` (one ``PRAGMA
data_version`` per interval while something watches: no I/O when nothing
changed).
``store.lock()`` keeps a FIFO waiters table in the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import msgspec

from .._changelog import check_retention
from .._engine import EngineCollection, Op, apply
from .._errors import AdapterError
from .._filters import FilterNode
from .._lease import LockService
from .._options import options_from
from .._store import Store
from .._stored import RawChange, Stored, Subscription, from_micros, to_micros, utc_now
from .._translate import error_for, sqlite_kind
from .._urls import redact_url
from ._sqlite_changes import FEED_SCHEMA, log_changes
from ._sqlite_feed import SqliteFeed, check_cursor

__all__ = ["SqliteCollection", "SqliteOptions", "SqliteStore", "open_store"]

_R = TypeVar("_R")

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
_SELECT = "SELECT key, data, version, created_us, updated_us FROM documents WHERE collection = ?"
_CHUNK = 500

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(dict[str, Any]).decode


@dataclass(frozen=True)
class SqliteOptions:
    """Options of a ``sqlite://`` store.

    Attributes:
        timeout: seconds a write waits for another writer's lock before it fails
            with :class:`~adapters.Conflict`.
        poll_interval: seconds between two checks for writes of other processes
            while a ``watch`` is open (> 0).
        feed_max_changes: changes retained per collection for ``watch(since=...)``
            (0: no count limit).
        feed_max_age: seconds a change is retained (0: no age limit).
    """

    timeout: float = 10.0
    poll_interval: float = 0.1
    feed_max_changes: int = 100_000
    feed_max_age: float = 7 * 86_400.0

    def __post_init__(self) -> None:
        if self.poll_interval <= 0:
            raise ValueError(f"sqlite option 'poll_interval' must be > 0, got {self.poll_interval}")
        check_retention("sqlite", self.feed_max_changes, self.feed_max_age)


def _row(row: tuple[Any, ...]) -> Stored:
    key, data, version, created, updated = row
    return Stored(key, _decode(data), version, from_micros(created), from_micros(updated))


class _Rows:
    """One collection's rows in an open connection: what the engine reads, how changes persist."""

    def __init__(self, conn: sqlite3.Connection, collection: str) -> None:
        self._conn = conn
        self._collection = collection

    def get(self, key: str) -> Stored | None:
        found = self._conn.execute(f"{_SELECT} AND key = ?", (self._collection, key)).fetchone()
        return None if found is None else _row(found)

    def taken(self, keys: Sequence[str]) -> str | None:
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            found = self._conn.execute(
                f"SELECT key FROM documents WHERE collection = ? AND key IN ({marks}) LIMIT 1",
                (self._collection, *chunk),
            ).fetchone()
            if found is not None:
                return str(found[0])
        return None

    def rows(self) -> list[Stored]:
        return [_row(r) for r in self._conn.execute(_SELECT, (self._collection,)).fetchall()]

    def persist(self, changes: list[RawChange]) -> None:
        c = self._collection
        added = [ch.new for ch in changes if ch.kind == "inserted" and ch.new is not None]
        changed = [ch.new for ch in changes if ch.kind == "updated" and ch.new is not None]
        removed = [(c, ch.key) for ch in changes if ch.kind == "deleted"]
        if added:
            self._conn.executemany(
                "INSERT INTO documents (collection, key, data, version, created_us, updated_us)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(c, *_columns(row)) for row in added],
            )
        if changed:
            self._conn.executemany(
                "UPDATE documents SET data = ?, version = ?, updated_us = ?"
                " WHERE collection = ? AND key = ?",
                [(_encode(r.data), r.version, to_micros(r.updated_at), c, r.key) for r in changed],
            )
        if removed:
            self._conn.executemany(
                "DELETE FROM documents WHERE collection = ? AND key = ?", removed
            )
        log_changes(self._conn, c, changes)


def _columns(row: Stored) -> tuple[Any, ...]:
    created = to_micros(row.created_at)
    return row.key, _encode(row.data), row.version, created, to_micros(row.updated_at)


class SqliteCollection(EngineCollection):
    """A collection of a :class:`SqliteStore`: its rows of the ``documents`` table."""

    _store: SqliteStore

    async def _commit(self, op: Op) -> list[RawChange]:
        def work(conn: sqlite3.Connection) -> list[RawChange]:
            rows = _Rows(conn, self._name)
            # The engine raises before any change, so a failed operation leaves
            # an enclosing transaction as it was.
            changes = apply(self._name, self._unique, rows, op, utc_now())
            rows.persist(changes)
            return changes

        return await self._store._write(work)

    def _publish(self, changes: list[RawChange]) -> None:
        self._store._publish(self._name, len(changes))

    async def _query(self, where: FilterNode | None, fn: Callable[[Iterable[Stored]], _R]) -> _R:
        return await self._store._read(lambda conn: fn(_Rows(conn, self._name).rows()))

    async def _get(self, key: str) -> Stored | None:
        return await self._store._read(lambda conn: _Rows(conn, self._name).get(key))

    async def _count(self, where: FilterNode | None) -> int:
        if where is not None:
            return await super()._count(where)
        sql = "SELECT count(*) FROM documents WHERE collection = ?"
        found = await self._store._read(lambda conn: conn.execute(sql, (self._name,)).fetchone())
        return int(found[0])

    async def _page(self, limit: int, after: str | None) -> list[Stored]:
        sql = f"{_SELECT} AND key > ? ORDER BY key LIMIT ?"
        args = (self._name, "" if after is None else after, limit)
        found = await self._store._read(lambda conn: conn.execute(sql, args).fetchall())
        return [_row(r) for r in found]

    def _check_since(self, since: str) -> None:
        check_cursor(since)

    async def _subscribe(self, since: str | None) -> Subscription:
        return await self._store._feed.subscribe(self._name, since)


class SqliteStore(Store):
    """A store over one SQLite file (see the module docstring)."""

    collection_class = SqliteCollection

    def __init__(
        self,
        url: str,
        path: str,
        conn: sqlite3.Connection,
        pool: ThreadPoolExecutor,
        options: SqliteOptions,
    ) -> None:
        super().__init__(url)
        self._path = path
        self._conn = conn
        self._pool = pool
        self._options = options
        # Held by an open transaction: operations of other tasks wait for it,
        # since they would otherwise run inside it on the shared connection.
        self._gate = asyncio.Lock()
        self._feed = SqliteFeed(self, path, options)

    def _tx(self) -> _TxState | None:
        state = _current_tx.get()
        return state if state is not None and state.store is self else None

    def _publish(self, collection: str, count: int) -> None:
        tx = self._tx()
        if tx is not None:
            tx.pending.append((collection, count))  # watchers see them after the commit
        else:
            self._feed.committed([(collection, count)])

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
            await self._execute(f"SAVEPOINT {name}")
            try:
                yield self
            except BaseException:
                del outer.pending[mark:]
                await self._execute(f"ROLLBACK TO {name}")
                raise
            finally:
                outer.depth -= 1
                await self._execute(f"RELEASE {name}")
            return
        async with self._gate:
            await self._execute("BEGIN IMMEDIATE")
            state = _TxState(self)
            token = _current_tx.set(state)
            try:
                yield self
            except BaseException:
                _current_tx.reset(token)
                await self._execute("ROLLBACK")
                raise
            _current_tx.reset(token)
            try:
                await self._execute("COMMIT")
            except BaseException:
                # Never leave the shared connection inside a failed transaction.
                with contextlib.suppress(AdapterError):
                    await self._execute("ROLLBACK")
                raise
        self._feed.committed(state.pending)

    async def _execute(self, sql: str) -> None:
        await self._run(lambda: self._conn.execute(sql))

    async def _run(self, fn: Callable[[], _R]) -> _R:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, fn)
        except sqlite3.Error as exc:
            raise _translate(self.url, exc) from exc

    async def _read(self, fn: Callable[[sqlite3.Connection], _R]) -> _R:
        if self._tx() is not None:
            return await self._run(lambda: fn(self._conn))
        async with self._gate:
            return await self._run(lambda: fn(self._conn))

    async def _write(self, fn: Callable[[sqlite3.Connection], _R]) -> _R:
        if self._tx() is not None:
            return await self._run(lambda: fn(self._conn))

        def work() -> _R:
            with _immediate(self._conn):
                return fn(self._conn)

        async with self._gate:
            return await self._run(work)

    async def _collections(self) -> list[str]:
        sql = "SELECT DISTINCT collection FROM documents"
        return [r[0] for r in await self._read(lambda c: c.execute(sql).fetchall())]

    async def _drop(self, name: str) -> bool:
        return bool(await self.collection(name)._clear())  # logged like clear()

    def _lock_service(self) -> LockService:
        from ._sqlite_lock import SqliteLocks  # imports this module: loaded on first use

        return SqliteLocks(self.url, self._path)

    async def _close(self) -> None:
        await self._feed.close()
        try:
            await asyncio.get_running_loop().run_in_executor(self._pool, self._conn.close)
        finally:
            self._pool.shutdown(wait=False)


@dataclass
class _TxState:
    """The open transaction of one task on one store."""

    store: SqliteStore
    pending: list[tuple[str, int]] = field(default_factory=list)  # (collection, changes)
    depth: int = 0


_current_tx: contextvars.ContextVar[_TxState | None] = contextvars.ContextVar(
    "adapters_sqlite_transaction", default=None
)


def _translate(url: str, exc: sqlite3.Error) -> AdapterError:
    code: int | None = getattr(exc, "sqlite_errorcode", None)
    kind = sqlite_kind(code)
    return error_for(kind, backend="sqlite", code=code, url=url, reason=f"sqlite: {exc}")


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
    try:
        conn.execute("COMMIT")
    except sqlite3.Error:
        # A failed COMMIT (e.g. a busy timeout) must not leave the transaction open.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


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

    Raises:
        ValueError: a malformed URL, or an unknown or malformed option.
        BackendUnavailable: the file cannot be opened or initialised.
    """
    settings = options_from(SqliteOptions, "sqlite", urlsplit(url).query, options)
    path = _path_of(url)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="adapters-sqlite")

    def init() -> tuple[str, sqlite3.Connection]:
        full = os.path.realpath(path)
        conn = sqlite3.connect(
            full, timeout=settings.timeout, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(_SCHEMA)
            for statement in FEED_SCHEMA:
                conn.execute(statement)
        except BaseException:
            conn.close()
            raise
        return full, conn

    try:
        full, conn = await asyncio.get_running_loop().run_in_executor(pool, init)
    except sqlite3.Error as exc:
        pool.shutdown(wait=False)
        raise _translate(redact_url(url), exc) from exc
    return SqliteStore(url, full, conn, pool, settings)
