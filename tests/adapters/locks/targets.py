"""The backends with locks, as the lock tests use them.

A :class:`LockTarget` prepares a fresh, isolated location of one backend (a
named memory data set, a temporary SQLite file, a PostgreSQL schema, a NATS
bucket prefix) and yields a :class:`Place`: its URL, which a store in this
process or in a worker process opens, and :meth:`Place.queue`, which counts
the waiters of a lock (holder included) by reading the backend's own state.
"""

from __future__ import annotations

import contextlib
import sqlite3
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

import pytest

import adapters
from adapters._lockqueue import decode, settle

from ..backends import PG_SESSION, PG_URL, drop_pg_schema, pg_shared
from ..nats.factory import fresh_url

__all__ = ["PROCESS_TARGETS", "TARGETS", "LockTarget", "Place"]

_pg_counter = iter(range(1_000_000))


@dataclass
class Place:
    """A fresh location of one backend.

    Attributes:
        url: Opens a store on it (in this process or another).
        queue: ``await place.queue(name)``: how many hold or wait for lock ``name``.
    """

    url: str
    queue: Callable[[str], Awaitable[int]]
    stores: list[adapters.Store] = field(default_factory=list)

    async def open(self) -> adapters.Store:
        """A store on this location, closed when the test's place is torn down."""
        store = await adapters.connect(self.url)
        self.stores.append(store)
        return store


@dataclass(frozen=True)
class LockTarget:
    """One backend of the lock tests."""

    id: str
    factory: Callable[[], AbstractAsyncContextManager[Place]]
    marks: tuple[Any, ...] = ()


async def _register_queue(store: adapters.Store, name: str) -> int:
    lease: Any = store._lock_service().lease(name, 1.0)  # the queue register of ``name``
    snap = await lease._register.read()
    return len(settle(decode(snap.value), snap.stamp))


@contextlib.asynccontextmanager
async def _closing(place: Place) -> AsyncIterator[Place]:
    try:
        yield place
    finally:
        for store in place.stores:
            await store.close()


@contextlib.asynccontextmanager
async def memory_place() -> AsyncIterator[Place]:
    url = f"memory://locks-{uuid.uuid4().hex}"
    async with adapters.connect(url) as keeper:  # keeps the named data set alive

        async def queue(name: str) -> int:
            return await _register_queue(keeper, name)

        async with _closing(Place(url, queue)) as place:
            yield place


@contextlib.asynccontextmanager
async def sqlite_place() -> AsyncIterator[Place]:
    with tempfile.TemporaryDirectory(prefix="adapters-locks-") as tmp:
        path = f"{tmp}/locks.db"

        async def queue(name: str) -> int:
            conn = sqlite3.connect(path)
            try:
                row = conn.execute(
                    "SELECT count(*) FROM lock_waiters WHERE lock_name = ? AND expires_at >= ?",
                    (name, time.time()),
                ).fetchone()
            except sqlite3.OperationalError:
                return 0  # no lock was taken yet: no table
            finally:
                conn.close()
            return int(row[0])

        async with _closing(Place(f"sqlite:///{path}", queue)) as place:
            yield place


@contextlib.asynccontextmanager
async def postgres_place() -> AsyncIterator[Place]:
    import psycopg

    from adapters.backends.postgres._lock import lock_key

    schema = f"{PG_SESSION}_l{next(_pg_counter)}"

    async def queue(name: str) -> int:
        key = lock_key(schema, name)
        async with await psycopg.AsyncConnection.connect(PG_URL, autocommit=True) as conn:
            cur = await conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                " AND classid = %s::bigint::oid AND objid = %s::bigint::oid AND objsubid = 1"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF),
            )
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async with pg_shared():
        try:
            async with _closing(Place(f"{PG_URL}?schema={schema}", queue)) as place:
                yield place
        finally:
            await drop_pg_schema(schema)


@contextlib.asynccontextmanager
async def nats_place() -> AsyncIterator[Place]:
    async with fresh_url() as url, adapters.connect(url) as reader:

        async def queue(name: str) -> int:
            return await _register_queue(reader, name)

        async with _closing(Place(url, queue)) as place:
            yield place


PROCESS_TARGETS: list[LockTarget] = [
    LockTarget("sqlite", sqlite_place),
    LockTarget("postgres", postgres_place, (pytest.mark.postgres,)),
    LockTarget("nats", nats_place, (pytest.mark.nats,)),
]
"""The backends whose locks span processes."""

TARGETS: list[LockTarget] = [LockTarget("memory", memory_place), *PROCESS_TARGETS]
"""Every backend with locks."""
