"""``watch`` for PostgreSQL: one LISTEN connection per store, reconnecting after a loss.

Writes send ``pg_notify`` in the same statement (or transaction) as the write,
so a notification exists exactly when the write committed. The payload is a
small JSON object under PostgreSQL's 8000-byte limit: kind, collection, key,
version, timestamps and, when it fits, the document itself; otherwise (and for
batches, which carry only keys) the listener reads the records back, which may
then show a later state. Every listening connection holds a shared advisory
lock for its lifetime; ``insert_many`` outside ``store.transaction()`` looks for
it and skips the (costly) batch notifications when no session listens, and a
new listener first waits for batches that checked before it registered.
Notifications sent while the listener is disconnected are lost (PostgreSQL
keeps no history); the listener reconnects with backoff and resumes delivering
to the open streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import msgspec
import psycopg

from ..._errors import BackendUnavailable
from ._schema import register_listener

__all__ = ["Listener", "backoff"]

logger = logging.getLogger("adapters")


def backoff(first: float = 0.05, cap: float = 2.0) -> Iterator[float]:
    """Exponential delays starting at ``first`` seconds, capped at ``cap``."""
    delay = first
    while True:
        yield delay
        delay = min(delay * 2, cap)


class Listener:
    """Keeps one connection LISTENing on a channel and hands payloads to ``on_payload``.

    States: *idle* (not started), *listening* (task running, connected or
    reconnecting), *stopped*.
    """

    def __init__(
        self,
        conninfo: str,
        channel: str,
        url: str,
        on_payload: Callable[[dict[str, Any]], Awaitable[None]],
        delays: Callable[[], Iterator[float]] = backoff,
    ) -> None:
        self._conninfo = conninfo
        self._channel = channel
        self._url = url
        self._on_payload = on_payload
        self._delays = delays
        self._task: asyncio.Task[None] | None = None
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._lock = asyncio.Lock()
        self.reconnected = asyncio.Event()

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
        try:
            await conn.execute(
                psycopg.sql.SQL("LISTEN {}").format(psycopg.sql.Identifier(self._channel))
            )
            await register_listener(conn, self._channel)
        except BaseException:
            await conn.close()
            raise
        return conn

    async def start(self) -> None:
        """Connect and LISTEN (idempotent); returns once notifications are being received.

        Raises:
            BackendUnavailable: the first connection cannot be made.
        """
        async with self._lock:
            if self._task is not None:
                return
            try:
                conn = await self._connect()
            except psycopg.Error as exc:
                raise BackendUnavailable(self._url, f"listen: {exc}") from exc
            self._conn = conn
            self._task = asyncio.create_task(self._run(conn), name="adapters-pg-listener")

    async def _run(self, conn: psycopg.AsyncConnection[Any]) -> None:
        try:
            while True:
                try:
                    async for note in conn.notifies():
                        await self._dispatch(note.payload)
                except psycopg.OperationalError as exc:
                    logger.warning("watch connection to %s lost: %s", self._url, exc)
                await conn.close()
                conn = await self._reconnect()
        finally:
            await conn.close()

    async def _reconnect(self) -> psycopg.AsyncConnection[Any]:
        for delay in self._delays():
            await asyncio.sleep(delay)  # backoff between attempts, not a wait for an event
            try:
                conn = await self._connect()
            except psycopg.OperationalError:
                continue
            self._conn = conn
            logger.info("watch connection to %s re-established", self._url)
            self.reconnected.set()
            return conn
        raise AssertionError("backoff iterators are infinite")

    async def _dispatch(self, payload: str) -> None:
        try:
            message = msgspec.json.decode(payload, type=dict[str, Any])
        except msgspec.DecodeError:
            logger.warning("ignoring a malformed change notification")
            return
        try:
            await self._on_payload(message)
        except (psycopg.Error, BackendUnavailable) as exc:
            # Reading a record back failed (connection trouble): the change is lost.
            logger.warning("could not read back a change from %s: %s", self._url, exc)

    async def stop(self) -> None:
        """Stop listening and close the connection."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        # A task cancelled before its first step never reached its finally clause.
        conn, self._conn = self._conn, None
        if conn is not None and not conn.closed:
            await conn.close()
