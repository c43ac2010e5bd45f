"""The PostgreSQL change log: table, sequencer, reads and pruning (SQL only).

Every write inserts its log entry in the same statement (or transaction) as the
row, so the log holds exactly the committed changes. An entry keeps only what
the write destroyed: an update or a deletion its previous document, an insert
nothing, and a batch insert a single entry with its keys. The record a change
left is found, in the reader's snapshot, as the previous document of the key's
next update or deletion, or, when there is none yet, as the row in
``documents`` — so ``insert_many`` writes its documents once.

Order: entries get ``seq`` (an identity) when written, but transactions commit
in another order, and a reader must never pass an entry that commits later
with a smaller number. So the feed position ``pos`` is given after the commit,
by the *sequencer* (``changes_sequence()``): it numbers every committed entry
that has none, in ``seq`` order, under a row lock. A transaction that depends
on another (it waited for its row lock) is always numbered after it, because
whenever it is visible the other one is too. Readers and the pruner run the
sequencer first; writers never wait for it.

A position is ``(pos, i)``: entry ``pos``, its ``i``-th change (batch entries
hold many). ``changes_pruned`` keeps per collection the newest pruned
position; a read from an older position is refused.
"""

from __future__ import annotations

import functools
import logging
from typing import Any, LiteralString

from psycopg import AsyncConnection, sql

from ..._stored import RawChange, Stored
from ._schema import locked_ddl

__all__ = [
    "LAST",
    "Expired",
    "create_change_log",
    "log_insert",
    "prune_age",
    "prune_count",
    "read_changes",
    "sequence",
]

logger = logging.getLogger("adapters")

LAST = 2**62
"""The change index meaning "after every change of the entry"."""

_BATCH = 5000  # entries per pruning statement
# The collections that have entries: a skip scan over the feed index, one
# probe per collection instead of reading every entry as DISTINCT would.
_COLLECTIONS = (
    "WITH RECURSIVE cs AS ("
    " (SELECT collection FROM {s}.changes ORDER BY collection LIMIT 1)"
    " UNION ALL SELECT (SELECT c.collection FROM {s}.changes AS c"
    "  WHERE c.collection > cs.collection ORDER BY c.collection LIMIT 1)"
    " FROM cs WHERE cs.collection IS NOT NULL)"
)
_ENTRIES = 100  # entries per read
_ROWS = 5000  # changes per read (a batch entry holds many)


class Expired(Exception):
    """Changes after the requested position were pruned."""


def _ddl(schema: str) -> list[sql.Composed]:
    s = sql.Identifier(schema)
    return [
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {}.changes ("
            " seq bigint GENERATED ALWAYS AS IDENTITY,"
            " pos bigint,"
            ' collection text COLLATE "C" NOT NULL,'
            ' kind "char" NOT NULL,'
            ' key text COLLATE "C",'
            " keys json,"
            " version bigint NOT NULL,"
            " created_at timestamptz NOT NULL,"
            " updated_at timestamptz NOT NULL,"
            " old_data jsonb,"
            " old_updated timestamptz,"
            " at timestamptz NOT NULL DEFAULT now())"
        ).format(s),
        sql.SQL("CREATE INDEX IF NOT EXISTS changes_feed ON {}.changes (collection, pos)").format(
            s
        ),
        sql.SQL(
            "CREATE INDEX IF NOT EXISTS changes_pending ON {}.changes (seq) WHERE pos IS NULL"
        ).format(s),
        sql.SQL(
            "CREATE INDEX IF NOT EXISTS changes_next ON {}.changes (collection, key, seq)"
            " WHERE kind <> 'i'"
        ).format(s),
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {}.changes_clock ("
            " id int PRIMARY KEY CHECK (id = 1), pos bigint NOT NULL)"
        ).format(s),
        sql.SQL("INSERT INTO {}.changes_clock VALUES (1, 0) ON CONFLICT DO NOTHING").format(s),
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {}.changes_pruned ("
            ' collection text COLLATE "C" PRIMARY KEY, pos bigint NOT NULL, i bigint NOT NULL)'
        ).format(s),
        # The sequencer: the clock row's lock serialises it; each statement of a
        # function sees the commits made before it started, so entries
        # committed while it waited for the lock are numbered too.
        sql.SQL(
            "CREATE OR REPLACE FUNCTION {s}.changes_sequence() RETURNS bigint"
            " LANGUAGE plpgsql AS $f$"
            " DECLARE last bigint; added bigint;"
            " BEGIN"
            "  SELECT pos INTO last FROM {s}.changes_clock WHERE id = 1 FOR UPDATE;"
            "  WITH todo AS (SELECT ctid AS row, row_number() OVER (ORDER BY seq) AS n"
            "   FROM {s}.changes WHERE pos IS NULL)"
            "  UPDATE {s}.changes AS c SET pos = last + todo.n FROM todo WHERE c.ctid = todo.row;"
            "  GET DIAGNOSTICS added = ROW_COUNT;"
            "  IF added > 0 THEN"
            "   last := last + added;"
            "   UPDATE {s}.changes_clock SET pos = last WHERE id = 1;"
            "  END IF;"
            "  RETURN last;"
            " END $f$"
        ).format(s=s),
    ]


async def create_change_log(conn: AsyncConnection[Any], schema: str) -> None:
    """Create the change log of ``schema`` if missing (safe under concurrent starts)."""
    await locked_ddl(conn, schema, _ddl(schema))


async def sequence(conn: AsyncConnection[Any], schema: str) -> int:
    """Number the committed entries that have no position; return the newest position."""
    cur = await conn.execute(sql.SQL("SELECT {}.changes_sequence()").format(sql.Identifier(schema)))
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])


def log_insert(table: str) -> str:
    """SQL inserting a change-log entry; ``table`` is the quoted ``schema.changes``."""
    return (
        f"INSERT INTO {table} (collection, kind, key, keys, version, created_at, updated_at,"
        " old_data, old_updated)"
    )


@functools.lru_cache(maxsize=64)
def _read_sql(schema: str) -> str:
    c = f'"{schema.replace(chr(34), chr(34) * 2)}"'
    return (
        "SELECT h.pos, h.i, r.* FROM"
        f" (SELECT max(pos) AS pos, max(i) AS i FROM {c}.changes_pruned"
        "  WHERE collection = %(c)s) AS h"
        " LEFT JOIN LATERAL ("
        "  WITH e AS (SELECT pos, seq, kind, key, keys, version, created_at, updated_at,"
        f"    old_data, old_updated FROM {c}.changes"
        "    WHERE collection = %(c)s AND pos >= %(p)s ORDER BY pos LIMIT %(n)s),"
        "  k AS (SELECT e.pos, t.i - 1 AS i, e.seq, e.kind, t.key, e.version, e.created_at,"
        "    e.updated_at, e.old_data, e.old_updated FROM e"
        "    CROSS JOIN LATERAL json_array_elements_text(COALESCE(e.keys, json_build_array(e.key)))"
        "    WITH ORDINALITY AS t(key, i)"
        "    WHERE e.pos > %(p)s OR t.i - 1 > %(i)s ORDER BY e.pos, t.i LIMIT %(r)s)"
        "  SELECT k.pos AS at, k.i AS idx, k.kind, k.key, k.version, k.created_at, k.updated_at,"
        "   k.old_data, k.old_updated, x.kind AS x_kind, x.version AS x_version,"
        "   x.updated_at AS x_updated, x.old_data AS x_data, x.old_updated AS x_old_updated,"
        "   d.data AS d_data, d.version AS d_version, d.updated_at AS d_updated"
        "  FROM k LEFT JOIN LATERAL ("
        "   SELECT n.kind, n.version, n.updated_at, n.old_data, n.old_updated"
        f"   FROM {c}.changes AS n WHERE k.kind <> 'd' AND n.collection = %(c)s"
        "   AND n.key = k.key COLLATE \"C\" AND n.kind <> 'i' AND n.seq > k.seq"
        "   ORDER BY n.seq LIMIT 1) AS x"
        "   ON true"
        f"  LEFT JOIN {c}.documents AS d ON k.kind <> 'd' AND x.kind IS NULL"
        '   AND d.collection = %(c)s AND d.key = k.key COLLATE "C"'
        " ) AS r ON true ORDER BY r.at, r.idx"
    )


def _record(key: str, row: tuple[Any, ...]) -> Stored | None:
    """The record a change left: from the next change of the key, else from ``documents``."""
    version, created = row[4], row[5]
    x_kind, x_version, x_updated, x_data, x_old_updated, d_data, d_version, d_updated = row[9:]
    if x_kind == "u":
        return Stored(key, x_data, x_version - 1, created, x_old_updated)
    if x_kind == "d":
        return Stored(key, x_data, x_version, created, x_updated)
    if d_data is not None and d_version == version:
        return Stored(key, d_data, version, created, d_updated)
    return None  # written around the log


async def read_changes(
    conn: AsyncConnection[Any], schema: str, collection: str, after: tuple[int, int]
) -> list[tuple[tuple[int, int], RawChange]]:
    """The changes of ``collection`` after position ``after`` (a page), with their positions.

    One statement, so the log, the horizon and the documents come from one snapshot.

    Raises:
        Expired: changes after ``after`` were pruned.
    """
    params = {"c": collection, "p": after[0], "i": after[1], "n": _ENTRIES, "r": _ROWS}
    cur = await conn.execute(_read_sql(schema), params)
    rows = await cur.fetchall()
    if rows and rows[0][0] is not None and after < (rows[0][0], rows[0][1]):
        raise Expired
    out: list[tuple[tuple[int, int], RawChange]] = []
    for row in rows:
        body = row[2:]
        if body[0] is None:
            continue  # no change: the horizon's row only
        pos, i, kind, key, version, created, updated, old_data, old_updated = body[:9]
        position = (int(pos), int(i))
        if kind == "d":
            old = Stored(key, old_data, version, created, updated)
            out.append((position, RawChange(collection, "deleted", key, None, old)))
            continue
        new = _record(key, body)
        if new is None:
            logger.warning(
                "change log of %r: record %r at version %d is gone", collection, key, version
            )
        if kind == "i":
            out.append((position, RawChange(collection, "inserted", key, new, None)))
        else:
            previous = Stored(key, old_data, version - 1, created, old_updated)
            out.append((position, RawChange(collection, "updated", key, new, previous)))
    return out


async def prune_age(conn: AsyncConnection[Any], schema: str, max_age: float) -> bool:
    """Remove up to one batch of entries older than ``max_age`` seconds; whether more may remain.

    Entries are taken oldest first per collection, through the feed index.
    """
    old = (
        " old AS (SELECT o.ctid AS row FROM cs CROSS JOIN LATERAL ("
        "  SELECT ctid, at FROM {s}.changes WHERE collection = cs.collection"
        "  AND pos IS NOT NULL ORDER BY pos LIMIT %(n)s) AS o"
        "  WHERE cs.collection IS NOT NULL AND o.at < now() - make_interval(secs => %(age)s))"
    )
    return await _delete(conn, schema, old, {"n": _BATCH, "age": max_age})


async def prune_count(conn: AsyncConnection[Any], schema: str, keep: int) -> bool:
    """Remove entries of every collection beyond its newest ``keep`` changes (a batch).

    Returns whether more may remain.
    """
    old = (
        " edge AS (SELECT cs.collection, b.pos FROM cs CROSS JOIN LATERAL ("
        "  SELECT pos FROM (SELECT pos, sum(COALESCE(json_array_length(keys), 1)) OVER ("
        "   ORDER BY pos DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS newer"
        "   FROM {s}.changes WHERE collection = cs.collection AND pos IS NOT NULL"
        "   ORDER BY pos DESC) AS w"
        "  WHERE newer >= %(keep)s LIMIT 1) AS b WHERE cs.collection IS NOT NULL),"
        " old AS (SELECT o.ctid AS row FROM edge CROSS JOIN LATERAL ("
        "  SELECT ctid FROM {s}.changes WHERE collection = edge.collection"
        "  AND pos <= edge.pos ORDER BY pos LIMIT %(n)s) AS o)"
    )
    return await _delete(conn, schema, old, {"n": _BATCH, "keep": keep})


async def _delete(
    conn: AsyncConnection[Any], schema: str, old: LiteralString, params: dict[str, Any]
) -> bool:
    """Delete the entries the CTE ``old`` (after ``cs``, the collections) names; move horizons.

    Returns whether a full batch was deleted (more may remain).
    """
    cur = await conn.execute(
        sql.SQL(
            _COLLECTIONS
            + ","
            + old
            + " DELETE FROM {s}.changes WHERE ctid IN (SELECT row FROM old)"
            " RETURNING collection, pos, COALESCE(json_array_length(keys), 1) - 1"
        ).format(s=sql.Identifier(schema)),
        params,
    )
    deleted = await cur.fetchall()
    await _mark(conn, schema, deleted)
    return len(deleted) >= _BATCH


async def _mark(conn: AsyncConnection[Any], schema: str, deleted: list[tuple[Any, ...]]) -> None:
    """Move each collection's horizon to the newest entry deleted."""
    newest: dict[str, tuple[int, int]] = {}
    for collection, pos, last in deleted:
        newest[collection] = max(newest.get(collection, (0, 0)), (int(pos), int(last)))
    if not newest:
        return
    await conn.execute(
        sql.SQL(
            "INSERT INTO {}.changes_pruned (collection, pos, i)"
            " SELECT * FROM unnest(%s::text[], %s::bigint[], %s::bigint[])"
            " ON CONFLICT (collection) DO UPDATE SET (pos, i) = (excluded.pos, excluded.i)"
            " WHERE (changes_pruned.pos, changes_pruned.i) < (excluded.pos, excluded.i)"
        ).format(sql.Identifier(schema)),
        (list(newest), [p for p, _ in newest.values()], [i for _, i in newest.values()]),
    )
