"""``postgresql://`` — one JSONB ``documents`` table, GIN-indexed (extra ``postgres``).

Driver: psycopg 3 with an async ``psycopg_pool`` pool. The schema (default
``public``; pick another with ``?schema=NAME`` in the URL or ``schema=`` as an
option) is created on first use. Filters are translated to SQL with every value
bound as a parameter; CAS uses the ``version`` column; ``insert_many`` uses
COPY in one transaction; ``watch`` uses LISTEN/NOTIFY. ``store.transaction()``
groups operations in one transaction.

Options (keyword arguments of ``connect``):
    schema: The schema holding the documents table.
    min_size, max_size: Pool size (default 1 and 10).
    timeout: Seconds to wait for a pooled connection before
        ``BackendUnavailable`` (default 5).
    connect_timeout: Seconds to wait for the first connection (default 5).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg_pool import AsyncConnectionPool

from ..._errors import BackendUnavailable
from ..._store import Store
from ..._urls import redact_url
from ._schema import create_schema
from ._store import PostgresStore, configure

__all__ = ["PostgresStore", "open_store"]


def _split_url(url: str) -> tuple[str, str | None]:
    """Return the libpq connection string and the ``schema`` query parameter."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((v for k, v in query if k == "schema"), None)
    rest = urlencode([(k, v) for k, v in query if k != "schema"])
    scheme = "postgresql"
    return urlunsplit((scheme, parts.netloc, parts.path, rest, "")), schema


def _check_schema(schema: Any) -> str:
    if not isinstance(schema, str) or not schema or "\x00" in schema:
        raise ValueError(f"invalid schema name {schema!r}")
    if len(schema.encode()) > 63:
        raise ValueError(f"schema name {schema!r} is longer than 63 bytes")
    return schema


async def open_store(url: str, **options: Any) -> Store:
    """Open a PostgreSQL store (see the module docstring for the options).

    Raises:
        BackendUnavailable: the server cannot be reached within ``connect_timeout``.
        ValueError: invalid schema name or options.
    """
    conninfo, url_schema = _split_url(url)
    schema = _check_schema(options.pop("schema", None) or url_schema or "public")
    min_size = int(options.pop("min_size", 1))
    max_size = int(options.pop("max_size", 10))
    timeout = float(options.pop("timeout", 5.0))
    connect_timeout = float(options.pop("connect_timeout", 5.0))
    if options:
        raise TypeError(f"unknown postgres options: {sorted(options)}")
    store_url = url
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        conninfo,
        min_size=min_size,
        max_size=max_size,
        timeout=timeout,
        kwargs={"autocommit": True},
        configure=configure,
        open=False,
        name="adapters",
    )
    try:
        await pool.open(wait=True, timeout=connect_timeout)
        async with pool.connection() as conn:
            await create_schema(conn, schema)
    except psycopg.Error as exc:
        await pool.close()
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BackendUnavailable(redact_url(store_url), reason) from exc
    return PostgresStore(store_url, conninfo, pool, schema)
