"""``PostgresCollection``: the Collection primitives as SQL over the documents table."""

from __future__ import annotations

from typing import Any

import msgspec
import psycopg
from psycopg.types.json import Jsonb

from ..._collection import Collection
from ..._engine import check_unique
from ..._errors import AlreadyExists, Conflict, NotFound
from ..._filters import MISSING, FilterNode, SortKey, get_path
from ..._stored import Stored, Subscription, utc_now
from ._base import PostgresBase
from ._feed import check_cursor
from ._sql import Params, order_sql, path_sql, where_sql

__all__ = ["PostgresCollection"]

COLUMNS = "key, data, version, created_at, updated_at"
_COPY_CHUNK = 2000
_encode_lines = msgspec.json.Encoder().encode_lines
_encode_keys = msgspec.json.Encoder().encode


def stored(row: tuple[Any, ...]) -> Stored:
    key, data, version, created_at, updated_at = row
    return Stored(key, data, version, created_at, updated_at)


def copy_text(value: str) -> str:
    """Escape one field for COPY's text format."""
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def _copy_key(key: str) -> bytes:
    """A key as a COPY text field (escaped only when it needs to be)."""
    if key.isprintable() and "\\" not in key:
        return key.encode()
    return copy_text(key).encode()


def _copy_rows(
    docs: list[tuple[str, dict[str, Any]]], lines: bytes, head: bytes, tail: bytes
) -> bytes:
    """COPY text rows for ``docs``, whose documents ``lines`` holds as JSON lines.

    JSON text never holds a raw newline, so the lines split back into one
    document each; COPY's text format needs only backslashes doubled (JSON
    escapes tabs and newlines itself).
    """
    escaped = lines.replace(b"\\", b"\\\\").split(b"\n")
    return b"".join(
        [
            head + _copy_key(key) + b"\t" + data + tail
            for (key, _), data in zip(docs, escaped, strict=False)
        ]
    )


class PostgresCollection(Collection[Any]):
    """A collection of a PostgreSQL store (rows of the shared documents table)."""

    _store: PostgresBase

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        t = self._store.table
        log = self._store.changes_table
        ch = self._store.channel
        self._ready = not (self._indexes or self._unique)
        self._sql_get = f"SELECT {COLUMNS} FROM {t} WHERE collection = %(c)s AND key = %(k)s"
        # Each write logs its change in the same statement (see ._changes) and
        # notifies the collection's name, which only wakes the feeds.
        self._sql_insert = (
            f"WITH w AS (INSERT INTO {t} (collection, key, data, version, created_at, updated_at)"
            " VALUES (%(c)s, %(k)s, %(d)s, 1, now(), now()) RETURNING created_at),"
            f" l AS (INSERT INTO {log} (collection, kind, key, version, created_at, updated_at)"
            " SELECT %(c)s, 'i', %(k)s, 1, w.created_at, w.created_at FROM w)"
            f" SELECT w.created_at, pg_notify('{ch}', %(c)s) FROM w"
        )
        # The CTE ``o`` locks the row and keeps its previous document for the log.
        write = (
            "WITH o AS (SELECT data AS old_data, updated_at AS old_updated"
            f" FROM {t} WHERE collection = %(c)s AND key = %(k)s FOR UPDATE),"
            f" w AS (UPDATE {t} AS d SET data = {{expr}}, version = d.version + 1,"
            " updated_at = now() FROM o"
            " WHERE d.collection = %(c)s AND d.key = %(k)s"
            " AND (%(v)s::bigint IS NULL OR d.version = %(v)s::bigint)"
            " RETURNING d.key, d.data, d.version, d.created_at, d.updated_at,"
            " o.old_data, o.old_updated),"
            f" l AS (INSERT INTO {log} (collection, kind, key, version, created_at, updated_at,"
            " old_data, old_updated) SELECT %(c)s, 'u', w.key, w.version, w.created_at,"
            " w.updated_at, w.old_data, w.old_updated FROM w)"
            f" SELECT w.data, w.version, w.created_at, w.updated_at, pg_notify('{ch}', %(c)s)"
            " FROM w"
        )
        self._sql_update = write.format(expr="d.data || %(d)s")
        self._sql_replace = write.format(expr="%(d)s")
        self._sql_delete = (
            f"WITH w AS (DELETE FROM {t} WHERE collection = %(c)s AND key = %(k)s"
            " AND (%(v)s::bigint IS NULL OR version = %(v)s::bigint)"
            " RETURNING key, data, version, created_at, updated_at),"
            f" l AS (INSERT INTO {log} (collection, kind, key, version, created_at, updated_at,"
            " old_data) SELECT %(c)s, 'd', w.key, w.version, w.created_at, w.updated_at, w.data"
            " FROM w)"
            f" SELECT pg_notify('{ch}', %(c)s) FROM w"
        )
        self._sql_batch = (
            f"WITH l AS (INSERT INTO {log} (collection, kind, keys, version, created_at,"
            " updated_at) VALUES (%(c)s, 'i', %(ks)s::json, 1, %(t)s, %(t)s))"
            f" SELECT pg_notify('{ch}', %(c)s)"
        )
        self._sql_clear = (
            f"WITH w AS (DELETE FROM {t} WHERE collection = %(c)s"
            " RETURNING key, data, version, created_at, updated_at),"
            f" l AS (INSERT INTO {log} (collection, kind, key, version, created_at, updated_at,"
            " old_data) SELECT %(c)s, 'd', w.key, w.version, w.created_at, w.updated_at, w.data"
            " FROM w ORDER BY w.key)"
            " SELECT count(*) FROM w"
        )
        self._sql_version = f"SELECT version FROM {t} WHERE collection = %(c)s AND key = %(k)s"

    async def _ensure(self) -> None:
        if self._ready:
            return
        for field in self._indexes:
            await self._store.ensure_index(self._name, field, False)
        for field in self._unique:
            await self._store.ensure_index(self._name, field, True)
        self._ready = True

    def _unique_error(
        self, exc: psycopg.errors.UniqueViolation, key: str, doc: dict[str, Any] | None
    ) -> AlreadyExists:
        name = exc.diag.constraint_name or ""
        owner = self._store.unique_fields.get(name)
        if owner is None:
            return AlreadyExists(self._name, key)
        field = owner[1]
        value = None if doc is None else get_path(doc, tuple(field.split(".")))
        return AlreadyExists(
            self._name, key, field=field, value=None if value is MISSING else value
        )

    async def _insert(self, docs: list[tuple[str, dict[str, Any]]]) -> list[Stored]:
        await self._ensure()
        if len(docs) == 1:
            key, doc = docs[0]
            async with self._store.connection() as conn:
                try:
                    cur = await conn.execute(
                        self._sql_insert, {"c": self._name, "k": key, "d": Jsonb(doc)}
                    )
                except psycopg.errors.UniqueViolation as exc:
                    raise self._unique_error(exc, key, doc) from exc
                row = await cur.fetchone()
            assert row is not None
            self._store.feed.written(1)
            return [Stored(key, doc, 1, row[0], row[0])]
        return await self._copy(docs)

    async def _copy(self, docs: list[tuple[str, dict[str, Any]]]) -> list[Stored]:
        seen: set[str] = set()
        for key, _ in docs:
            if key in seen:
                raise AlreadyExists(self._name, key)
            seen.add(key)
        check_unique(self._name, self._unique, docs, [])
        now = utc_now()
        t = self._store.table
        head = copy_text(self._name).encode() + b"\t"
        tail = f"\t1\t{now.isoformat()}\t{now.isoformat()}\n".encode()
        async with self._store.connection() as conn:
            try:
                async with conn.transaction(), conn.cursor() as cur:
                    async with cur.copy(
                        f"COPY {t} (collection, key, data, version, created_at, updated_at)"
                        " FROM STDIN"
                    ) as copy:
                        # Chunk by chunk, so the server works on one while the next is built.
                        for start in range(0, len(docs), _COPY_CHUNK):
                            part = docs[start : start + _COPY_CHUNK]
                            blob = _encode_lines([doc for _, doc in part])
                            await copy.write(_copy_rows(part, blob, head, tail))
                        # Built while the server still works through the last chunk.
                        result = [Stored(key, doc, 1, now, now) for key, doc in docs]
                    # One log entry for the whole batch: its keys, no documents.
                    keys = _encode_keys([key for key, _ in docs]).decode()
                    await cur.execute(self._sql_batch, {"c": self._name, "ks": keys, "t": now})
            except psycopg.errors.UniqueViolation as exc:
                raise await self._copy_clash(conn, exc, docs) from exc
        self._store.feed.written(len(docs))
        return result

    async def _copy_clash(
        self,
        conn: psycopg.AsyncConnection[Any],
        exc: psycopg.errors.UniqueViolation,
        docs: list[tuple[str, dict[str, Any]]],
    ) -> AlreadyExists:
        """Find which key or unique value of a failed batch was already taken."""
        t = self._store.table
        owner = self._store.unique_fields.get(exc.diag.constraint_name or "")
        if owner is None:
            cur = await conn.execute(
                f"SELECT key FROM {t} WHERE collection = %s AND key = ANY(%s) LIMIT 1",
                (self._name, [k for k, _ in docs]),
            )
            row = await cur.fetchone()
            return AlreadyExists(self._name, row[0] if row else docs[0][0])
        field = owner[1]
        path = tuple(field.split("."))
        params = Params(c=self._name)
        p = path_sql(path, params)
        candidates = {
            msgspec.json.encode(v): (k, v)
            for k, d in docs
            if (v := get_path(d, path)) is not MISSING and v is not None
        }
        values = params.add([Jsonb(v) for _, v in candidates.values()], "jsonb[]")
        cur = await conn.execute(
            f"SELECT {p} FROM {t} WHERE collection = %(c)s AND {p} = ANY({values}) LIMIT 1",
            params.values,
        )
        row = await cur.fetchone()
        if row is None:
            return AlreadyExists(self._name, docs[0][0], field=field)
        clash = msgspec.json.encode(row[0])
        key = candidates.get(clash, (docs[0][0], row[0]))[0]
        return AlreadyExists(self._name, key, field=field, value=row[0])

    async def _get(self, key: str) -> Stored | None:
        async with self._store.connection() as conn:
            cur = await conn.execute(self._sql_get, {"c": self._name, "k": key})
            row = await cur.fetchone()
        return None if row is None else stored(row)

    async def _write(
        self, sql: str, key: str, doc: dict[str, Any], if_version: int | None, merge: bool
    ) -> Stored:
        await self._ensure()
        params = {"c": self._name, "k": key, "d": Jsonb(doc), "v": if_version}
        async with self._store.connection() as conn:
            try:
                cur = await conn.execute(sql, params)
            except psycopg.errors.UniqueViolation as exc:
                raise self._unique_error(exc, key, doc) from exc
            row = await cur.fetchone()
            if row is None:
                raise await self._missing_or_conflict(conn, key, if_version)
        self._store.feed.written(1)
        data, version, created_at, updated_at = row[:4]
        return Stored(key, data, version, created_at, updated_at)

    async def _missing_or_conflict(
        self, conn: psycopg.AsyncConnection[Any], key: str, if_version: int | None
    ) -> NotFound | Conflict:
        cur = await conn.execute(self._sql_version, {"c": self._name, "k": key})
        row = await cur.fetchone()
        if row is None or if_version is None:
            return NotFound(self._name, key)
        return Conflict(self._name, key, if_version, row[0])

    async def _update(self, key: str, changes: dict[str, Any], if_version: int | None) -> Stored:
        return await self._write(self._sql_update, key, changes, if_version, True)

    async def _replace(self, key: str, doc: dict[str, Any], if_version: int | None) -> Stored:
        return await self._write(self._sql_replace, key, doc, if_version, False)

    async def _delete(self, key: str, if_version: int | None) -> bool:
        async with self._store.connection() as conn:
            cur = await conn.execute(self._sql_delete, {"c": self._name, "k": key, "v": if_version})
            if await cur.fetchone() is not None:
                self._store.feed.written(1)
                return True
            if if_version is None:
                return False
            error = await self._missing_or_conflict(conn, key, if_version)
        if isinstance(error, NotFound):
            return False
        raise error

    async def _find(
        self, where: FilterNode | None, order: tuple[SortKey, ...], limit: int | None, offset: int
    ) -> list[Stored]:
        params = Params(c=self._name)
        condition = where_sql(where, params)
        ordering = order_sql(order, params)
        query = (
            f"SELECT {COLUMNS} FROM {self._store.table}"
            f" WHERE collection = %(c)s AND {condition} ORDER BY {ordering}"
        )
        if limit is not None:
            query += f" LIMIT {params.add(limit)}"
        if offset:
            query += f" OFFSET {params.add(offset)}"
        async with self._store.connection() as conn:
            cur = await conn.execute(query, params.values)
            return [stored(row) for row in await cur.fetchall()]

    async def _count(self, where: FilterNode | None) -> int:
        params = Params(c=self._name)
        condition = where_sql(where, params)
        async with self._store.connection() as conn:
            cur = await conn.execute(
                f"SELECT count(*) FROM {self._store.table}"
                f" WHERE collection = %(c)s AND {condition}",
                params.values,
            )
            row = await cur.fetchone()
        assert row is not None
        return int(row[0])

    async def _page(self, limit: int, after: str | None) -> list[Stored]:
        async with self._store.connection() as conn:
            cur = await conn.execute(
                f"SELECT {COLUMNS} FROM {self._store.table}"
                " WHERE collection = %s AND key > %s ORDER BY key LIMIT %s",
                (self._name, "" if after is None else after, limit),
            )
            return [stored(row) for row in await cur.fetchall()]

    async def _clear(self) -> int:
        async with self._store.connection() as conn, conn.transaction():
            cur = await conn.execute(self._sql_clear, {"c": self._name})
            row = await cur.fetchone()
            count = 0 if row is None else int(row[0])
            if count:
                await conn.execute("SELECT pg_notify(%s, %s)", (self._store.channel, self._name))
        self._store.feed.written(count)
        return count

    def _check_since(self, since: str) -> None:
        check_cursor(since)

    async def _subscribe(self, since: str | None) -> Subscription:
        return await self._store.subscribe(self._name, since)
