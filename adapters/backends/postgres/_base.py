"""``PostgresBase``: what a PostgreSQL store's collections share.

The connection pool (or the connection of the transaction open in this task),
field indexes, error translation, and the change hub fed by the LISTEN
connection.
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
from ..._stored import ChangeHub, Stored, Subscription
from ..._translate import ErrorKind, error_for, sqlstate_kind
from ._notify import COLUMNS, changes_from, stored
from ._schema import channel_name, ensure_field_index
from ._watch import Listener

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

    __slots__ = ("_pooled", "_store")

    def __init__(self, store: PostgresBase) -> None:
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

    async def subscribe(self, collection: str) -> Subscription:
        """Start the listener if needed and subscribe to ``collection``'s changes."""
        await self._listener.start()
        return self._hub.subscribe(collection)

    async def _on_payload(self, message: dict[str, Any]) -> None:
        changes = await changes_from(message, self._fetch)
        if changes:
            self._hub.publish(changes)

    async def _fetch(self, collection: str, keys: list[str]) -> list[Stored]:
        """Read records back for a notification without documents, in the order of ``keys``."""
        async with self.connection() as conn:
            cur = await conn.execute(
                f"SELECT {COLUMNS} FROM {self.table} WHERE collection = %s AND key = ANY(%s)",
                (collection, keys),
            )
            found = {s.key: s for s in map(stored, await cur.fetchall())}
        return [found[k] for k in keys if k in found]
