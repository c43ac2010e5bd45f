"""Fixtures for PostgreSQL-specific tests: a fresh schema per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

import adapters
from adapters.backends.postgres import PostgresStore

from ..backends import PG_SESSION, PG_URL, PG_USED, drop_pg_schema, pg_shared


@pytest.fixture
async def pg_schema_unlocked() -> AsyncIterator[str]:
    """A unique schema name, dropped after the test (no shared lock held)."""
    schema = f"{PG_SESSION}_pg_{uuid.uuid4().hex[:8]}"
    PG_USED.append(True)
    try:
        yield schema
    finally:
        await drop_pg_schema(schema)


@pytest.fixture
async def pg_schema(pg_schema_unlocked: str) -> AsyncIterator[str]:
    """A unique schema name, dropped after the test; holds the shared PostgreSQL lock."""
    async with pg_shared():
        yield pg_schema_unlocked


@pytest.fixture
async def pg_store(pg_schema: str) -> AsyncIterator[PostgresStore]:
    """An open PostgreSQL store on a fresh schema."""
    store = await adapters.connect(PG_URL, schema=pg_schema)
    assert isinstance(store, PostgresStore)
    try:
        yield store
    finally:
        await store.close()
