"""Fixtures of the adapters tests: ``backend``, ``open_store`` and ``store``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

import adapters

from .backends import BACKENDS, PG_SESSION, PG_URL, PG_USED, BackendEntry, StoreOpener


@pytest.fixture(params=[pytest.param(b, id=b.id, marks=b.marks) for b in BACKENDS])
def backend(request: pytest.FixtureRequest) -> BackendEntry:
    """The backend entry under test."""
    entry: BackendEntry = request.param
    return entry


@pytest.fixture
async def open_store(backend: BackendEntry) -> AsyncIterator[StoreOpener]:
    """Opens stores on one fresh, isolated data location of the backend under test."""
    async with backend.factory() as opener:
        yield opener


@pytest.fixture
async def store(open_store: StoreOpener) -> AsyncIterator[adapters.Store]:
    """An open store on fresh, isolated data."""
    async with open_store() as opened:
        yield opened


@pytest.fixture(scope="session", autouse=True)
def _drop_leftover_pg_schemas() -> Iterator[None]:
    """At the end of the session, drop every schema this session created.

    Tests drop their own schema; this catches the ones a crashed test left.
    """
    yield
    if not PG_USED:
        return
    import psycopg
    from psycopg import sql

    try:
        with psycopg.connect(PG_URL, autocommit=True, connect_timeout=5) as conn:
            rows = conn.execute(
                "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)", (PG_SESSION,)
            ).fetchall()
            for (name,) in rows:
                conn.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name))
                )
    except psycopg.OperationalError:
        pass  # the server is gone; nothing more can be cleaned from here
