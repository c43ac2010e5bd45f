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
    "locked_ddl",
]

# Advisory-lock namespace for DDL, so two processes starting at once serialise
# their CREATE ... IF NOT EXISTS statements instead of racing on the catalogs.
_DDL_LOCK = 0x6E6F6578  # "noex"


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]


def channel_name(schema: str) -> str:
    """The LISTEN/NOTIFY channel of the documents table in ``schema``."""
    return f"noex_docs_{_digest(schema)}"


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


async def locked_ddl(
    conn: AsyncConnection[Any], schema: str, statements: list[sql.Composed]
) -> None:
    """Run DDL ``statements`` in one transaction, serialised with other processes' DDL."""
    await _locked(conn, schema, statements)


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
