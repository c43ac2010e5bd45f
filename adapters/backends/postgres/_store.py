"""``PostgresStore``: the connection pool, schema set-up, transactions and errors."""

from __future__ import annotations

import contextvars
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

import msgspec
import psycopg
from psycopg.types.json import set_json_dumps, set_json_loads
from psycopg_pool import AsyncConnectionPool

from ..._collection import Collection
from ..._errors import AdapterError, BackendUnavailable
from ..._store import Store
from ..._stored import ChangeHub, RawChange, Stored
from ._schema import channel_name, ensure_field_index
from ._watch import Listener

__all__ = ["PostgresStore", "from_micros", "quote_ident"]

logger = logging.getLogger("adapters")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# The connection of the transaction open in this task, per store (see transaction()).
_current: contextvars.ContextVar[tuple[int, psycopg.AsyncConnection[Any]] | None] = (
    contextvars.ContextVar("adapters_pg_transaction", default=None)
)


def quote_ident(name: str) -> str:
    """Quote a SQL identifier (doubling embedded quotes)."""
    return '"' + name.replace('"', '""') + '"'


def from_micros(us: int) -> datetime:
    """Epoch microseconds to a UTC datetime."""
    return _EPOCH + timedelta(microseconds=us)


async def configure(conn: psycopg.AsyncConnection[Any]) -> None:
    """Per-connection set-up: msgspec for JSON, UTC timestamps."""
    set_json_dumps(msgspec.json.encode, conn)
    set_json_loads(msgspec.json.decode, conn)
    await conn.execute("SET TIME ZONE 'UTC'")


def _translate(url: str, exc: psycopg.Error) -> AdapterError:
    if isinstance(exc, psycopg.OperationalError):
        return BackendUnavailable(url, type(exc).__name__)
    return AdapterError(f"postgres rejected the operation: {exc}")


class _Connection:
    """``store.connection()``: a plain class, not a generator-based context
    manager, because every single-row operation goes through it."""

    __slots__ = ("_pooled", "_store")

    def __init__(self, store: PostgresStore) -> None:
        self._store = store
        self._pooled: AbstractAsyncContextManager[psycopg.AsyncConnection[Any]] | None = None

    async def __aenter__(self) -> psycopg.AsyncConnection[Any]:
        store = self._store
        store._check_open()
        current = _current.get()
        if current is not None and current[0] == id(store):
            return current[1]
        pooled = store._pool.connection()
        try:
            conn: psycopg.AsyncConnection[Any] = await pooled.__aenter__()
        except psycopg.Error as exc:
            raise _translate(store.url, exc) from exc
        self._pooled = pooled
        return conn

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        pooled, self._pooled = self._pooled, None
        try:
            if pooled is not None:
                await pooled.__aexit__(exc_type, exc, tb)
        except psycopg.Error as error:
            raise _translate(self._store.url, error) from error
        if isinstance(exc, psycopg.Error):
            raise _translate(self._store.url, exc) from exc


class PostgresStore(Store):
    """A store over one ``documents`` table in a PostgreSQL schema."""

    def __init__(
        self, url: str, conninfo: str, pool: AsyncConnectionPool[Any], schema: str
    ) -> None:
        super().__init__(url)
        self._conninfo = conninfo
        self._pool = pool
        self.schema = schema
        self.table = f"{quote_ident(schema)}.documents"
        self.channel = channel_name(schema)
        self._hub = ChangeHub()
        self._listener = Listener(conninfo, self.channel, self.url, self._on_payload)
        self._indexes: dict[tuple[str, str, bool], str] = {}
        self.unique_fields: dict[str, tuple[str, str]] = {}

    # -- connections and errors -------------------------------------------

    def connection(self) -> _Connection:
        """A connection: the current transaction's, or one from the pool.

        Use as ``async with store.connection() as conn:``.

        Raises:
            BackendUnavailable: no connection could be had, or it broke.
            AdapterError: PostgreSQL rejected the statement for another reason.
        """
        return _Connection(self)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresStore]:
        """Run the operations of this task inside one transaction.

        Every collection operation awaited inside ``async with store.transaction():``
        uses the same connection; the transaction commits on exit and rolls back
        on an exception. Nested blocks become savepoints. Watchers see the
        changes after the commit.
        """
        async with self.connection() as conn, conn.transaction():
            token = _current.set((id(self), conn))
            try:
                yield self
            finally:
                _current.reset(token)

    async def ensure_index(self, collection: str, field: str, unique: bool) -> None:
        """Create the field index once per store (idempotent in the database too)."""
        marker = (collection, field, unique)
        if marker in self._indexes:
            return
        async with self.connection() as conn:
            name = await ensure_field_index(conn, self.schema, collection, field, unique)
        self._indexes[marker] = name
        if unique:
            self.unique_fields[name] = (collection, field)

    # -- watch ---------------------------------------------------------------

    async def subscribe(self, collection: str) -> Any:
        """Start the listener if needed and subscribe to ``collection``'s changes."""
        await self._listener.start()
        return self._hub.subscribe(collection)

    async def _on_payload(self, message: dict[str, Any]) -> None:
        from ._notify import fetch_many, payload_change

        collection = message.get("c")
        if not isinstance(collection, str):
            return
        records = message.get("rs")
        keys = message.get("ks")
        if isinstance(records, list):
            when = from_micros(message["t"])
            self._hub.publish(
                [
                    RawChange(collection, "inserted", k, Stored(k, d, 1, when, when), None)
                    for k, d in records
                ]
            )
            return
        if isinstance(keys, list):
            if message.get("o") == "d":
                changes = [RawChange(collection, "deleted", k, None, None) for k in keys]
            else:
                rows: list[Stored] = await fetch_many(self, collection, keys)
                changes = [RawChange(collection, "inserted", s.key, s, None) for s in rows]
            self._hub.publish(changes)
            return
        change = await payload_change(self, collection, message)
        if change is not None:
            self._hub.publish([change])

    # -- Store primitives ------------------------------------------------------

    def _make_collection(
        self,
        name: str,
        model: type[Any] | None,
        indexes: tuple[str, ...],
        unique: tuple[str, ...],
    ) -> Collection[Any]:
        from ._collection import PostgresCollection

        return PostgresCollection(self, name, model, indexes, unique)

    async def _collections(self) -> list[str]:
        async with self.connection() as conn:
            # A skip scan over the primary key: one index probe per collection
            # instead of reading every row as DISTINCT would.
            t = self.table
            cur = await conn.execute(
                "WITH RECURSIVE c AS ("
                f" (SELECT collection FROM {t} ORDER BY collection LIMIT 1)"
                " UNION ALL"
                f" SELECT (SELECT d.collection FROM {t} AS d WHERE d.collection > c.collection"
                " ORDER BY d.collection LIMIT 1) FROM c WHERE c.collection IS NOT NULL)"
                " SELECT collection FROM c WHERE collection IS NOT NULL"
            )
            return [row[0] for row in await cur.fetchall()]

    async def _drop(self, name: str) -> bool:
        async with self.connection() as conn:
            cur = await conn.execute(f"DELETE FROM {self.table} WHERE collection = %s", (name,))
            return cur.rowcount > 0

    async def _close(self) -> None:
        self._hub.close_all()
        await self._listener.stop()
        await self._pool.close()
