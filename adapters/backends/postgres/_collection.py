"""``PostgresCollection``: the Collection primitives as SQL over the documents table."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import psycopg
from psycopg.types.json import Jsonb

from ..._collection import Collection
from ..._errors import AlreadyExists, Conflict, NotFound
from ..._filters import MISSING, FilterNode, SortKey, get_path
from ..._records import ChangeKind
from ..._stored import RawChange, Stored, Subscription, utc_now
from ..._unique import check_unique
from ._sql import Params, order_sql, path_sql, where_sql
from ._store import PostgresStore, from_micros

__all__ = ["PostgresCollection", "fetch_many", "payload_change"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_COLUMNS = "key, data, version, created_at, updated_at"
# NOTIFY payloads must stay under 8000 bytes; leave room for the envelope.
_PAYLOAD_LIMIT = 7900
_COPY_CHUNK = 2000
_encode = msgspec.json.Encoder().encode
_KIND: dict[str, ChangeKind] = {"i": "inserted", "u": "updated", "d": "deleted"}


def _payload(kind: str) -> str:
    """SQL for the NOTIFY payload of the row ``w`` (the document only when it fits)."""
    return (
        "(SELECT CASE WHEN octet_length(j::text) <= 7900 THEN j::text ELSE (j - 'd')::text END"
        f" FROM (SELECT jsonb_build_object('o', '{kind}', 'c', w.collection, 'k', w.key,"
        " 'v', w.version,"
        " 't', (extract(epoch FROM w.created_at) * 1000000)::bigint,"
        " 'u', (extract(epoch FROM w.updated_at) * 1000000)::bigint,"
        " 'd', w.data) AS j) AS x)"
    )


def _micros(when: datetime) -> int:
    delta = when - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _stored(row: tuple[Any, ...]) -> Stored:
    key, data, version, created_at, updated_at = row
    return Stored(key, data, version, created_at, updated_at)


def _key_batches(keys: list[str]) -> list[str]:
    """Split keys into JSON arrays that each fit a NOTIFY payload."""
    batches: list[str] = []
    current: list[bytes] = []
    size = 0
    for key in keys:
        item = msgspec.json.encode(key)
        if current and size + len(item) + 1 > _PAYLOAD_LIMIT - 300:
            batches.append("[" + b",".join(current).decode() + "]")
            current, size = [], 0
        current.append(item)
        size += len(item) + 1
    if current:
        batches.append("[" + b",".join(current).decode() + "]")
    return batches


def _insert_payloads(collection: str, docs: list[tuple[str, bytes]], us: int) -> list[str]:
    """NOTIFY payloads for a batch insert: whole records while they fit, else keys only.

    ``docs`` holds each key with its document already encoded as JSON.
    """
    head = msgspec.json.encode({"o": "i", "c": collection, "t": us})[:-1]
    budget = _PAYLOAD_LIMIT - len(head) - 20
    payloads: list[str] = []
    records: list[bytes] = []
    size = 0
    big: list[str] = []

    def flush() -> None:
        nonlocal records, size
        if records:
            payloads.append((head + b',"rs":[' + b",".join(records) + b"]}").decode())
            records, size = [], 0

    for key, doc in docs:
        item = b"[" + msgspec.json.encode(key) + b"," + doc + b"]"
        if len(item) > budget:
            big.append(key)
            continue
        if size + len(item) + 1 > budget:
            flush()
        records.append(item)
        size += len(item) + 1
    flush()
    head_ks = msgspec.json.encode({"o": "i", "c": collection})[:-1]
    payloads += [
        (head_ks + b',"ks":' + batch.encode() + b"}").decode() for batch in _key_batches(big)
    ]
    return payloads


def _copy_text(value: str) -> str:
    """Escape one field for COPY's text format."""
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


async def fetch_many(store: PostgresStore, collection: str, keys: list[str]) -> list[Stored]:
    """Read records back for a batch notification, in the order of ``keys``."""
    async with store.connection() as conn:
        cur = await conn.execute(
            f"SELECT {_COLUMNS} FROM {store.table} WHERE collection = %s AND key = ANY(%s)",
            (collection, keys),
        )
        found = {s.key: s for s in map(_stored, await cur.fetchall())}
    return [found[k] for k in keys if k in found]


async def payload_change(
    store: PostgresStore, collection: str, message: dict[str, Any]
) -> RawChange | None:
    """Turn one row notification into a raw change (reading the record back if needed)."""
    kind = _KIND.get(message.get("o", ""))
    key = message.get("k")
    if kind is None or not isinstance(key, str):
        return None
    data = message.get("d")
    if isinstance(data, dict):
        stored = Stored(
            key, data, int(message["v"]), from_micros(message["t"]), from_micros(message["u"])
        )
    elif kind == "deleted":
        stored = None
    else:
        rows = await fetch_many(store, collection, [key])
        if not rows:
            return None  # already deleted again; its deletion follows
        stored = rows[0]
    if kind == "deleted":
        return RawChange(collection, "deleted", key, None, stored)
    return RawChange(collection, kind, key, stored, None)


class PostgresCollection(Collection[Any]):
    """A collection of a :class:`PostgresStore` (rows of the shared documents table)."""

    _store: PostgresStore

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        t = self._store.table
        ch = self._store.channel
        self._ready = not (self._indexes or self._unique)
        self._sql_get = f"SELECT {_COLUMNS} FROM {t} WHERE collection = %(c)s AND key = %(k)s"
        self._sql_insert = (
            f"WITH w AS (INSERT INTO {t} (collection, key, data, version, created_at, updated_at)"
            " VALUES (%(c)s, %(k)s, %(d)s, 1, now(), now())"
            " RETURNING collection, key, data, version, created_at, updated_at)"
            f" SELECT w.created_at, pg_notify('{ch}', {_payload('i')}) FROM w"
        )
        write = (
            f"WITH w AS (UPDATE {t} SET data = {{expr}}, version = version + 1,"
            " updated_at = now()"
            " WHERE collection = %(c)s AND key = %(k)s"
            " AND (%(v)s::bigint IS NULL OR version = %(v)s::bigint)"
            " RETURNING collection, key, data, version, created_at, updated_at)"
            f" SELECT w.data, w.version, w.created_at, w.updated_at, pg_notify('{ch}', "
            f"{_payload('u')}) FROM w"
        )
        self._sql_update = write.format(expr="data || %(d)s")
        self._sql_replace = write.format(expr="%(d)s")
        self._sql_delete = (
            f"WITH w AS (DELETE FROM {t} WHERE collection = %(c)s AND key = %(k)s"
            " AND (%(v)s::bigint IS NULL OR version = %(v)s::bigint)"
            " RETURNING collection, key, data, version, created_at, updated_at)"
            f" SELECT pg_notify('{ch}', {_payload('d')}) FROM w"
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
        # Encode each document once, for both COPY and the NOTIFY payloads, and
        # hand COPY whole text-format chunks instead of adapting row by row.
        encoded = [(key, _encode(doc)) for key, doc in docs]
        tail = f"\t1\t{now.isoformat()}\t{now.isoformat()}\n"
        head = _copy_text(self._name) + "\t"
        async with self._store.connection() as conn:
            try:
                async with conn.transaction(), conn.cursor() as cur:
                    async with cur.copy(
                        f"COPY {t} (collection, key, data, version, created_at, updated_at)"
                        " FROM STDIN"
                    ) as copy:
                        for start in range(0, len(encoded), _COPY_CHUNK):
                            chunk = "".join(
                                head
                                + _copy_text(key)
                                + "\t"
                                + data.decode().replace("\\", "\\\\")
                                + tail
                                for key, data in encoded[start : start + _COPY_CHUNK]
                            )
                            await copy.write(chunk.encode())
                    await cur.execute(
                        # One JSON array parameter: far cheaper to send than a text[]
                        # of quote-heavy strings.
                        "SELECT count(pg_notify(%s, p))"
                        " FROM jsonb_array_elements_text(%s::jsonb) AS p",
                        (
                            self._store.channel,
                            Jsonb(_insert_payloads(self._name, encoded, _micros(now))),
                        ),
                    )
            except psycopg.errors.UniqueViolation as exc:
                raise await self._copy_clash(conn, exc, docs) from exc
        return [Stored(key, doc, 1, now, now) for key, doc in docs]

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
        return None if row is None else _stored(row)

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
            f"SELECT {_COLUMNS} FROM {self._store.table}"
            f" WHERE collection = %(c)s AND {condition} ORDER BY {ordering}"
        )
        if limit is not None:
            query += f" LIMIT {params.add(limit)}"
        if offset:
            query += f" OFFSET {params.add(offset)}"
        async with self._store.connection() as conn:
            cur = await conn.execute(query, params.values)
            return [_stored(row) for row in await cur.fetchall()]

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
                f"SELECT {_COLUMNS} FROM {self._store.table}"
                " WHERE collection = %s AND key > %s ORDER BY key LIMIT %s",
                (self._name, "" if after is None else after, limit),
            )
            return [_stored(row) for row in await cur.fetchall()]

    async def _clear(self) -> int:
        t = self._store.table
        async with self._store.connection() as conn, conn.transaction():
            cur = await conn.execute(
                f"DELETE FROM {t} WHERE collection = %s RETURNING key", (self._name,)
            )
            keys = [row[0] for row in await cur.fetchall()]
            if keys:
                await conn.execute(
                    "SELECT count(pg_notify(%s, jsonb_build_object("
                    "'o', 'd', 'c', %s::text, 'ks', b::jsonb)::text))"
                    " FROM jsonb_array_elements_text(%s::jsonb) AS b",
                    (self._store.channel, self._name, Jsonb(_key_batches(keys))),
                )
        return len(keys)

    async def _subscribe(self) -> Subscription:
        sub: Subscription = await self._store.subscribe(self._name)
        return sub
