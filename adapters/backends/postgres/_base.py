"""``PostgresBase``: what a PostgreSQL store's collections share.

The connection pool (or the connection of the transaction open in this task),
field indexes, error translation, and the change feeds (:mod:`._feed`).
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import msgspec
import psycopg
from psycopg.types.json import set_json_dumps, set_json_loads
from psycopg_pool import AsyncConnectionPool

from ..._errors import AdapterError
from ..._store import Store
from ..._stored import Subscription
from ..._translate import ErrorKind, error_for, sqlstate_kind
from ._feed import PgFeed
from ._schema import channel_name, ensure_field_index

__all__ = ["PostgresBase", "configure", "quote_ident", "translate"]

logger = logging.getLogger("adapters")

# The connection of the transaction open in this task, per store (see transaction()).
_current: contextvars.ContextVar[tuple[int, psycopg.AsyncConnection[Any]] | None] = (
    contextvars.ContextVar("adapters_pg_transaction", default=None)
)


def quote_ident(name: str) -> str:
    """Quote a SQL identifier (doubling embedded quotes)."""
    return '"' + name.replace('"', '""') + '"'


async def configure(conn: psycopg.AsyncConnection[Any]) -> None:
    """Per-connection set-up: msgspec for JSON, UTC timestamps."""
    set_json_dumps(msgspec.json.encode, conn)
    set_json_loads(msgspec.json.decode, conn)
    await conn.execute("SET TIME ZONE 'UTC'")


def translate(url: str, exc: psycopg.Error, *, detailed: bool = False) -> AdapterError:
    """The adapters error for a psycopg error, by its SQLSTATE.

    Errors without one are connection trouble when psycopg says so
    (``OperationalError``, pool timeouts), else a refusal. Connection trouble
    is reported by class name only unless ``detailed`` (opening a store).
    """
    operational = isinstance(exc, psycopg.OperationalError)
    kind = sqlstate_kind(exc.sqlstate, ErrorKind.UNAVAILABLE if operational else ErrorKind.REFUSED)
    text = str(exc).strip()
    detail = text.splitlines()[0] if text else type(exc).__name__
    plain = kind is ErrorKind.UNAVAILABLE and not detailed
    reason = type(exc).__name__ if plain else detail
    return error_for(kind, backend="postgres", code=exc.sqlstate, url=url, reason=reason)


class _Connection:
    """``store.connection()``: a plain class, not a generator-based context
    manager, because every single-row operation goes through it."""

    __slots__ = ("_outside", "_pooled", "_store")

    def __init__(self, store: PostgresBase, outside: bool = False) -> None:
        self._store = store
        self._outside = outside
        self._pooled: AbstractAsyncContextManager[psycopg.AsyncConnection[Any]] | None = None

    async def __aenter__(self) -> psycopg.AsyncConnection[Any]:
        store = self._store
        store._check_open()
        current = _current.get()
        if current is not None and current[0] == id(store) and not self._outside:
            return current[1]
        pooled = store._pool.connection()
        try:
            conn: psycopg.AsyncConnection[Any] = await pooled.__aenter__()
        except psycopg.Error as exc:
            raise translate(store.url, exc) from exc
        self._pooled = pooled
        return conn

    async def __aexit__(self, *exc_info: Any) -> None:
        pooled, self._pooled = self._pooled, None
        exc = exc_info[1]
        try:
            if pooled is not None:
                await pooled.__aexit__(*exc_info)
        except psycopg.Error as error:
            raise translate(self._store.url, error) from error
        if isinstance(exc, psycopg.Error):
            raise translate(self._store.url, exc) from exc


class PostgresBase(Store):
    """The connection services of a store over one ``documents`` table in a schema."""

    def __init__(
        self,
        url: str,
        conninfo: str,
        pool: AsyncConnectionPool[Any],
        schema: str,
        options: Any,
    ) -> None:
        super().__init__(url)
        self._conninfo = conninfo
        self._pool = pool
        self.schema = schema
        self.table = f"{quote_ident(schema)}.documents"
        self.changes_table = f"{quote_ident(schema)}.changes"
        self.channel = channel_name(schema)
        self.feed = PgFeed(self, conninfo, self.channel, options)
        self._listener = self.feed.listener
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

    def pooled(self) -> _Connection:
        """A connection from the pool, even inside ``store.transaction()`` (for feeds)."""
        return _Connection(self, outside=True)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresBase]:
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

    async def subscribe(self, collection: str, since: str | None) -> Subscription:
        """A change feed of ``collection`` (see :class:`~._feed.PgFeed`)."""
        return await self.feed.subscribe(collection, since)
