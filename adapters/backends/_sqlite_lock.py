"""Locks of ``sqlite://`` stores: a FIFO waiters table in the database file.

One row per waiter in ``lock_waiters``; the row with the smallest ``seq`` of a
``lock_name`` holds the lock::

    CREATE TABLE lock_waiters (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- arrival order: first come, first served
        lock_name TEXT NOT NULL,
        waiter_id TEXT NOT NULL UNIQUE,         -- random per lock() call
        requested_at REAL NOT NULL,             -- time.time() of the arrival
        expires_at REAL NOT NULL)               -- time.time() + ttl of the last renewal

A waiter inserts its row, then polls the head of its lock's queue (a read;
every 50 ms, or at once when a store of this process releases the lock). A
head whose ``expires_at`` has passed is deleted (with every other expired row
of that lock) in a ``BEGIN IMMEDIATE`` transaction, so a crashed holder loses
the lock when its ttl runs out. Holders and waiters renew ``expires_at`` every
``ttl / 3`` with an ``UPDATE`` that only succeeds while their row has not
expired; release deletes the row. Expiry uses the wall clock, which every
process on the file shares (it is on one host).

Each store runs its lock statements on its own connection and worker thread,
apart from its data connection, so a lock is never part of a
``store.transaction()`` and waits on neither.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Literal, TypeVar

from .._errors import AdapterError
from .._lease import Broadcast, Lease, LockService, uninterrupted
from .sqlite import _immediate, _translate

__all__ = ["SqliteLocks"]

R = TypeVar("R")

logger = logging.getLogger("adapters")

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS lock_waiters ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " lock_name TEXT NOT NULL,"
    " waiter_id TEXT NOT NULL UNIQUE,"
    " requested_at REAL NOT NULL,"
    " expires_at REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS lock_waiters_queue ON lock_waiters (lock_name, seq)",
)
_POLL = 0.05
_BUSY_TIMEOUT = 5.0
_MARGIN = 0.005

# Releases wake the waiters of the same file and lock in this process at once.
_released = Broadcast()

Standing = Literal["held", "waiting", "missing"]


def _queue(conn: sqlite3.Connection, name: str) -> list[tuple[str, float]]:
    sql = "SELECT waiter_id, expires_at FROM lock_waiters WHERE lock_name = ? ORDER BY seq"
    return conn.execute(sql, (name,)).fetchall()


def _look(conn: sqlite3.Connection, name: str, me: str) -> tuple[Standing, float]:
    """Where ``me`` stands, and the seconds until the head's expiry; drops an expired head."""
    rows = _queue(conn, name)
    if rows and rows[0][1] < time.time():
        with _immediate(conn):
            conn.execute(
                "DELETE FROM lock_waiters WHERE lock_name = ? AND expires_at < ?",
                (name, time.time()),
            )
        rows = _queue(conn, name)
    if not any(waiter == me for waiter, _ in rows):
        return "missing", 0.0
    if rows[0][0] == me:
        return "held", 0.0
    return "waiting", max(0.0, rows[0][1] - time.time())


class SqliteLease(Lease):
    """One waiter's row in ``lock_waiters``."""

    service: SqliteLocks

    def __init__(self, service: SqliteLocks, name: str, ttl: float) -> None:
        super().__init__(service, name, ttl)
        self._me = uuid.uuid4().hex

    async def _join(self) -> None:
        def join(conn: sqlite3.Connection) -> None:
            with _immediate(conn):
                now = time.time()
                conn.execute(
                    "INSERT INTO lock_waiters (lock_name, waiter_id, requested_at, expires_at)"
                    " VALUES (?, ?, ?, ?)",
                    (self.name, self._me, now, now + self.ttl),
                )

        sent = time.monotonic()
        await uninterrupted(self.service.run(join))
        self.renewed_at = sent

    async def _acquire(self, deadline: float | None) -> bool:
        with _released.listening((self.service.path, self.name), self.waker):
            await self._join()
            while True:
                self.check_interrupted()
                self.waker.clear()
                standing, head_left = await self.service.run(
                    lambda conn: _look(conn, self.name, self._me)
                )
                if standing == "held":
                    return True
                if standing == "missing":
                    logger.warning(
                        "lock %r: this waiter's row expired before it could renew it; "
                        "joining again at the back of the queue",
                        self.name,
                    )
                    self._me = uuid.uuid4().hex
                    await self._join()
                    continue
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    return False
                renew_at = self.renewed_at + self.ttl / 3
                if now >= renew_at:
                    await self._renew()
                    continue
                wake = min(now + _POLL, renew_at, now + head_left + _MARGIN)
                await self.waker.wait(wake if deadline is None else min(wake, deadline))

    async def _renew(self) -> bool:
        def renew(conn: sqlite3.Connection) -> bool:
            with _immediate(conn):
                now = time.time()
                cur = conn.execute(
                    "UPDATE lock_waiters SET expires_at = ? WHERE waiter_id = ? AND expires_at >= ?",
                    (now + self.ttl, self._me, now),
                )
            return cur.rowcount == 1

        sent = time.monotonic()
        renewed = await uninterrupted(self.service.run(renew))
        if renewed:
            self.renewed_at = sent
        return renewed

    async def _release(self) -> None:
        def leave(conn: sqlite3.Connection) -> None:
            with _immediate(conn):
                conn.execute("DELETE FROM lock_waiters WHERE waiter_id = ?", (self._me,))

        await self.service.run(leave)
        _released.notify((self.service.path, self.name))


class SqliteLocks(LockService):
    """The locks of a SQLite store: its own connection and worker thread on the file."""

    def __init__(self, url: str, path: str) -> None:
        super().__init__(url, "sqlite")
        self.path = path
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="adapters-sqlite-locks")
        self._conn: sqlite3.Connection | None = None

    def lease(self, name: str, ttl: float) -> Lease:
        return SqliteLease(self, name, ttl)

    def _connection(self) -> sqlite3.Connection:
        # On the worker thread: opened on first use, with the table.
        if self._conn is None:
            conn = sqlite3.connect(
                self.path, timeout=_BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
            )
            try:
                for statement in _SCHEMA:
                    conn.execute(statement)
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    async def run(self, fn: Callable[[sqlite3.Connection], R]) -> R:
        """Run ``fn`` with the lock connection on the worker thread.

        Raises:
            AdapterError: SQLite failed (translated as for the store's own statements).
        """
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._pool, lambda: fn(self._connection())
            )
        except sqlite3.Error as exc:
            raise _translate(self.url, exc) from exc

    async def _close(self) -> None:
        def close() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        try:
            await asyncio.get_running_loop().run_in_executor(self._pool, close)
        except (sqlite3.Error, AdapterError) as exc:
            logger.debug("sqlite locks: closing failed: %s", exc)
        finally:
            self._pool.shutdown(wait=False)
