"""The LISTEN connection of a PostgreSQL store: wake-ups for its change feeds.

Writes send ``pg_notify`` with the collection name in the same statement (or
transaction) as the write, so a notification is sent exactly when the write
committed. Notifications only wake the feeds, which read the change log: one
sent while the connection is down is lost, but the changes are not. The
listener reconnects with backoff and then wakes every feed, which catches up
from the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Any

import psycopg

from ..._errors import BackendUnavailable
from ..._feed import retry_delays

__all__ = ["Listener"]

logger = logging.getLogger("adapters")


class Listener:
    """Keeps one connection LISTENing on a channel and hands payloads to ``on_payload``.

    ``on_reconnect`` is called once the connection is back after a loss (the
    notifications sent meanwhile are gone).

    States: *idle* (not started), *listening* (task running, connected or
    reconnecting), *stopped*.
    """

    def __init__(
        self,
        conninfo: str,
        channel: str,
        url: str,
        on_payload: Callable[[str], None],
        on_reconnect: Callable[[], None],
        delays: Callable[[], Iterator[float]] = retry_delays,
    ) -> None:
        self._conninfo = conninfo
        self._channel = channel
        self._url = url
        self._on_payload = on_payload
        self._on_reconnect = on_reconnect
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
                        self._on_payload(note.payload)
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
            self._on_reconnect()  # what was notified meanwhile is in the log
            self.reconnected.set()
            return conn
        raise AssertionError("backoff iterators are infinite")

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
