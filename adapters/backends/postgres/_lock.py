"""Locks of ``postgresql://`` stores: session advisory locks with a ttl.

Each ``lock()`` opens its own connection (never one of the pool: a waiter
blocks it) and calls ``pg_advisory_lock(key)``, where ``key`` is 64 bits of
SHA-256 over the schema and the lock name. PostgreSQL's lock manager queues
the waiters of a key and grants them in arrival order, so waiting costs no
polling and is first come, first served; ``timeout`` is the session's
``lock_timeout`` (``pg_try_advisory_lock`` for a timeout of 0).

The ttl is the session's ``idle_session_timeout`` (PostgreSQL 14+): the holder
renews by running ``SELECT 1`` every ``ttl / 3``; a holder that stops (killed,
stalled, cut off) leaves its session idle, the server ends the session after
``ttl`` and the lock passes on. A killed process loses it sooner: its socket
closes and the session ends at once (``client_connection_check_interval`` also
drops a killed waiter from the queue). While the session lives the lock is
held, so a renewal that reaches the server proves it; a broken connection
proves the lock gone. Release unlocks and closes the connection.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from typing import Any

import psycopg

from ..._lease import Lease, LockService, uninterrupted
from ._base import translate

__all__ = ["PostgresLocks", "lock_key"]

_SESSION = (
    "SELECT set_config('statement_timeout', '0', false),"
    " set_config('idle_session_timeout', %s, false),"
    " set_config('client_connection_check_interval', %s, false)"
)
_TTL_SERVER = 140000  # idle_session_timeout and the connection check: PostgreSQL 14


def lock_key(schema: str, name: str) -> int:
    """The advisory lock key (a signed 64-bit integer) of lock ``name`` in ``schema``."""
    digest = hashlib.sha256(f"noex-lock\x00{schema}\x00{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _gone(conn: psycopg.AsyncConnection[Any]) -> bool:
    """Whether the connection (and so its session and advisory locks) is gone."""
    return conn.closed or conn.broken


def _stop(locking: asyncio.Task[Any]) -> None:
    """Cancel a running ``pg_advisory_lock``: psycopg cancels it on the server and waits.

    Only once: a second cancellation while psycopg waits makes it drop the socket.
    """
    if not locking.done() and not locking.cancelling():
        locking.cancel()


def _ms(seconds: float) -> str:
    """A duration setting in milliseconds (the server takes up to 2**31 - 1)."""
    return f"{min(max(1, math.ceil(seconds * 1000)), 2**31 - 1)}ms"


class PostgresLease(Lease):
    """One waiter or holder: a session waiting for, or holding, the advisory lock."""

    service: PostgresLocks

    def __init__(self, service: PostgresLocks, name: str, ttl: float) -> None:
        super().__init__(service, name, ttl)
        self._key = lock_key(service.schema, name)
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._locking: asyncio.Task[Any] | None = None

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        service = self.service
        try:
            async with asyncio.timeout(service.connect_timeout):
                conn = await psycopg.AsyncConnection.connect(service.conninfo, autocommit=True)
        except TimeoutError as exc:
            raise translate(service.url, psycopg.OperationalError("connection timeout")) from exc
        except psycopg.Error as exc:
            raise translate(service.url, exc) from exc
        self._conn = conn
        return conn

    async def _acquire(self, deadline: float | None) -> bool:
        conn = await self._connect()
        try:
            if conn.info.server_version >= _TTL_SERVER:
                check = min(max(self.ttl / 3, 0.1), 1.0)
                await conn.execute(_SESSION, (_ms(self.ttl), _ms(check)))
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                cur = await conn.execute("SELECT pg_try_advisory_lock(%s)", (self._key,))
                row = await cur.fetchone()
                if not (row and row[0]):
                    return False
            else:
                if remaining is not None:
                    await conn.execute(
                        "SELECT set_config('lock_timeout', %s, false)", (_ms(remaining),)
                    )
                try:
                    await self._wait(conn)
                except psycopg.errors.LockNotAvailable:
                    return False
            # The idle timer starts once the grant is sent; renew now so that
            # renewed_at is a moment the session surely was alive after it.
            if not await self._renew():
                raise translate(self.service.url, psycopg.OperationalError("connection lost"))
            return True
        except psycopg.Error as exc:
            raise translate(self.service.url, exc) from exc

    async def _wait(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """``pg_advisory_lock`` until granted; the store closing cancels the wait."""
        self.waker.clear()
        self.check_interrupted()
        locking = asyncio.create_task(conn.execute("SELECT pg_advisory_lock(%s)", (self._key,)))
        self._locking = locking
        woken = asyncio.ensure_future(self.waker.wait(None))
        try:
            await asyncio.wait((locking, woken), return_when=asyncio.FIRST_COMPLETED)
        finally:
            woken.cancel()
            _stop(locking)
            await uninterrupted(asyncio.wait((locking, woken)))
        if self.interrupted and not locking.cancelled():
            locking.exception()  # retrieved: the interruption is what is reported
        self.check_interrupted()
        locking.result()

    async def _renew(self) -> bool:
        conn = self._conn
        if conn is None or _gone(conn):
            return False
        sent = time.monotonic()
        try:
            await conn.execute("SELECT 1")
        except psycopg.Error as exc:
            if _gone(conn):
                return False  # the session ended, and its lock with it
            raise translate(self.service.url, exc) from exc
        self.renewed_at = sent
        return True

    async def _release(self) -> None:
        locking = self._locking
        if locking is not None:
            # A wait still running (the store closes): psycopg cancels it on the
            # server and waits for its end; the connection is free afterwards.
            _stop(locking)
            await asyncio.wait((locking,))
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if not _gone(conn):
                # Also frees a grant that raced a cancelled wait, before the
                # server notices the closed connection.
                await conn.execute("SELECT pg_advisory_unlock_all()")
        except psycopg.Error:
            pass  # closing ends the session, which releases its locks as well
        finally:
            await conn.close()


class PostgresLocks(LockService):
    """The locks of a PostgreSQL store: one connection per waiter or holder."""

    def __init__(self, url: str, conninfo: str, schema: str, connect_timeout: float) -> None:
        super().__init__(url, "postgres")
        self.conninfo = conninfo
        self.schema = schema
        self.connect_timeout = connect_timeout

    def lease(self, name: str, ttl: float) -> Lease:
        return PostgresLease(self, name, ttl)
