"""The PostgreSQL schema: created on first use, idempotent and safe under races."""

from __future__ import annotations

import hashlib
from typing import Any

from psycopg import AsyncConnection, sql

__all__ = [
    "channel_name",
    "create_schema",
    "ensure_field_index",
    "field_index_name",
    "listeners_present",
    "register_listener",
]

# Advisory-lock namespace for DDL, so two processes starting at once serialise
# their CREATE ... IF NOT EXISTS statements instead of racing on the catalogs.
_DDL_LOCK = 0x6E6F6578  # "noex"
# Held shared by every LISTEN connection of a channel for as long as it lives,
# so batch writers can tell whether anyone would receive their notifications.
_LISTENING = 0x6E6F6579
# Taken shared by a batch writer from its listener check until its commit, and
# briefly exclusively by a new listener: a listener is ready only once every
# batch that looked for listeners before it existed has committed.
_REGISTERING = 0x6E6F657A


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]


def channel_name(schema: str) -> str:
    """The LISTEN/NOTIFY channel of the documents table in ``schema``."""
    return f"noex_docs_{_digest(schema)}"


def _channel_key(channel: str) -> int:
    # Positive and below 2**31, so pg_locks shows it as the same number (an oid).
    return int(_digest(channel)[:7], 16)


async def register_listener(conn: AsyncConnection[Any], channel: str) -> None:
    """Mark ``conn`` (already LISTENing) as a listener of ``channel`` for its lifetime."""
    key = _channel_key(channel)
    await conn.execute("SELECT pg_advisory_lock_shared(%s::int, %s::int)", (_LISTENING, key))
    await conn.execute("SELECT pg_advisory_lock(%s::int, %s::int)", (_REGISTERING, key))
    await conn.execute("SELECT pg_advisory_unlock(%s::int, %s::int)", (_REGISTERING, key))


async def listeners_present(conn: AsyncConnection[Any], channel: str) -> bool:
    """Whether any session listens on ``channel``; call inside the writing transaction.

    The transaction keeps a shared lock until it ends, so a listener registering
    meanwhile waits for the commit and cannot miss a batch announced to nobody.
    """
    key = _channel_key(channel)
    await conn.execute("SELECT pg_advisory_xact_lock_shared(%s::int, %s::int)", (_REGISTERING, key))
    cur = await conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND classid = %s::int::oid AND objid = %s::int::oid AND objsubid = 2"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))",
        (_LISTENING, key),
    )
    row = await cur.fetchone()
    return bool(row is not None and row[0])


def field_index_name(collection: str, field: str, unique: bool) -> str:
    """A stable index name (<= 63 bytes) for a field index of one collection."""
    kind = "u" if unique else "i"
    return f"documents_{kind}_{_digest(collection, field)}"


async def _locked(
    conn: AsyncConnection[object], schema: str, statements: list[sql.Composed]
) -> None:
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_DDL_LOCK, schema))
        for statement in statements:
            await conn.execute(statement)


async def create_schema(conn: AsyncConnection[object], schema: str) -> None:
    """Create the schema, the ``documents`` table and its GIN index if missing."""
    s = sql.Identifier(schema)
    await _locked(
        conn,
        schema,
        [
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(s),
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {}.documents ("
                ' collection text COLLATE "C" NOT NULL,'
                ' key text COLLATE "C" NOT NULL,'
                " data jsonb NOT NULL,"
                " version bigint NOT NULL DEFAULT 1,"
                " created_at timestamptz NOT NULL,"
                " updated_at timestamptz NOT NULL,"
                " PRIMARY KEY (collection, key))"
            ).format(s),
            sql.SQL(
                "CREATE INDEX IF NOT EXISTS documents_data_gin"
                " ON {}.documents USING GIN (data jsonb_path_ops)"
            ).format(s),
        ],
    )


async def ensure_field_index(
    conn: AsyncConnection[object], schema: str, collection: str, field: str, unique: bool
) -> str:
    """Create the (unique) expression index of ``field`` for ``collection``; return its name.

    DDL cannot take bound parameters, so the collection name and path segments
    are quoted as SQL literals by psycopg.
    """
    path = sql.SQL("").join(
        sql.SQL(" -> {}").format(sql.Literal(part)) for part in field.split(".")
    )
    name = field_index_name(collection, field, unique)
    expr = sql.SQL("NULLIF((data{}), 'null'::jsonb)").format(path)
    statement = sql.SQL(
        "CREATE {unique}INDEX IF NOT EXISTS {name} ON {schema}.documents (({expr}))"
        " WHERE collection = {collection}"
    ).format(
        unique=sql.SQL("UNIQUE " if unique else ""),
        name=sql.Identifier(name),
        schema=sql.Identifier(schema),
        expr=expr,
        collection=sql.Literal(collection),
    )
    await _locked(conn, schema, [statement])
    return name
