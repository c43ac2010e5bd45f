"""The one list of backends the contract suite runs against.

Each :class:`BackendEntry` has a ``factory``: an async context manager that
prepares a fresh, isolated data location (a named memory data set, a temporary
SQLite file, a PostgreSQL schema, ...) and yields a :data:`StoreOpener`, which
opens a new :class:`~adapters.Store` on that same data each time it is called.
Tests open one store through it, and a second one for concurrency tests.
A backend joins the suite by appending one entry to :data:`BACKENDS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

import pytest

import adapters

from .beaver.server import beaver_backend
from .nats.factory import nats_backend

__all__ = ["BACKENDS", "BackendEntry", "StoreOpener"]

StoreOpener = Callable[..., AbstractAsyncContextManager[adapters.Store]]
"""Opens a store on the backend's data; keyword arguments are backend options."""


@dataclass(frozen=True)
class BackendEntry:
    """One backend of the contract suite.

    Attributes:
        id: The pytest id (``memory``, ``sqlite``, ``postgres``, ...).
        factory: Yields a :data:`StoreOpener` over fresh, isolated data.
        marks: pytest marks (e.g. ``pytest.mark.postgres``).
        watch_old: Whether ``Change.old`` is filled for updates and deletions.
        resumable: Whether ``watch(since=...)`` is supported (noex keeps no history).
        retention: Options keeping as little change history as the backend allows
            (with them, ``CursorExpired`` comes soon after a thousand writes).
    """

    id: str
    factory: Callable[[], AbstractAsyncContextManager[StoreOpener]]
    marks: tuple[Any, ...] = field(default=())
    watch_old: bool = True
    resumable: bool = True
    retention: dict[str, Any] = field(default_factory=dict)


@contextlib.asynccontextmanager
async def memory_backend() -> AsyncIterator[StoreOpener]:
    url = f"memory://contract-{uuid.uuid4().hex}"

    def opener(**options: Any) -> AbstractAsyncContextManager[adapters.Store]:
        return adapters.connect(url, **options)

    # Keep one store open so the named data set lives for the whole test.
    async with adapters.connect(url):
        yield opener


@contextlib.asynccontextmanager
async def sqlite_backend() -> AsyncIterator[StoreOpener]:
    with tempfile.TemporaryDirectory(prefix="adapters-sqlite-") as tmp:
        url = f"sqlite:///{tmp}/contract.db"

        def opener(**options: Any) -> AbstractAsyncContextManager[adapters.Store]:
            return adapters.connect(url, **options)

        yield opener


@contextlib.asynccontextmanager
async def noex_backend() -> AsyncIterator[StoreOpener]:
    # A fresh in-process noex server per test: its buckets are the isolated data.
    from noex_client.testing import LocalServer

    async with LocalServer() as server:

        def opener(**options: Any) -> AbstractAsyncContextManager[adapters.Store]:
            return adapters.connect(server.url, **options)

        yield opener


PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
PG_SESSION = f"noex_adapters_{uuid.uuid4().hex[:10]}"
# Set once a test of this session touched PostgreSQL (see conftest's clean-up).
PG_USED: list[bool] = []
_pg_counter = iter(range(1_000_000))


async def drop_pg_schema(schema: str) -> None:
    """Drop one test schema (and everything in it).

    Retries for a while on connection errors: the restart test (of this or
    another test session) may have PostgreSQL restarting right now.
    """
    import psycopg
    from psycopg import sql

    PG_USED.append(True)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(
                PG_URL, autocommit=True, connect_timeout=5
            ) as conn:
                await conn.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                )
            return
        except psycopg.OperationalError:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.2)  # backoff between reconnection attempts


# Tests of every session on this machine hold this lock shared while they use
# PostgreSQL; the restart test takes it exclusively, so it never restarts the
# server under a running test of a session that cooperates.
PG_LOCK_PATH = "/tmp/noex-client-postgres.lock"


@contextlib.asynccontextmanager
async def pg_shared() -> AsyncIterator[None]:
    """Hold the PostgreSQL test lock shared (waits while a restart test runs)."""
    PG_USED.append(True)
    fd = os.open(PG_LOCK_PATH, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # closing releases the lock


@contextlib.asynccontextmanager
async def postgres_backend() -> AsyncIterator[StoreOpener]:
    schema = f"{PG_SESSION}_{next(_pg_counter)}"

    def opener(**options: Any) -> AbstractAsyncContextManager[adapters.Store]:
        return adapters.connect(PG_URL, **{"schema": schema, "max_size": 4, **options})

    async with pg_shared():
        try:
            yield opener
        finally:
            await drop_pg_schema(schema)


_SHORT = {"feed_max_changes": 10, "feed_max_age": 0}

BACKENDS: list[BackendEntry] = [
    BackendEntry("memory", memory_backend, retention=_SHORT),
    BackendEntry("sqlite", sqlite_backend, retention=_SHORT),
    BackendEntry("postgres", postgres_backend, marks=(pytest.mark.postgres,), retention=_SHORT),
    BackendEntry("nats", nats_backend, marks=(pytest.mark.nats,), retention={"history": 1}),
    BackendEntry("beaver", beaver_backend, marks=(pytest.mark.beaver,), retention=_SHORT),
    BackendEntry("noex", noex_backend, resumable=False),
]
