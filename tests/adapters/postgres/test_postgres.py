"""PostgreSQL specifics: schema set-up, GIN use, transactions, connection loss."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import psycopg
import pytest

import adapters
from adapters.backends.postgres import PostgresStore

from ..backends import PG_URL

pytestmark = pytest.mark.postgres


async def _admin(query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    async with await psycopg.AsyncConnection.connect(PG_URL, autocommit=True) as conn:
        cur = await conn.execute(query, params)
        return await cur.fetchall() if cur.description else []


async def test_schema_creation_is_idempotent_under_concurrent_starts(pg_schema: str) -> None:
    stores = await asyncio.gather(*(adapters.connect(PG_URL, schema=pg_schema) for _ in range(4)))
    try:
        await stores[0].collection("c").insert({"a": 1}, key="k")
        got = await stores[3].collection("c").get("k")
        assert got is not None
    finally:
        for store in stores:
            await store.close()
    rows = await _admin(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s", (pg_schema,)
    )
    gin = [d for n, d in rows if n == "documents_data_gin"]
    assert len(gin) == 1
    assert "jsonb_path_ops" in gin[0]


async def test_schema_option_in_url(pg_schema: str) -> None:
    async with adapters.connect(f"{PG_URL}?schema={pg_schema}") as store:
        await store.collection("c").insert({}, key="k")
    rows = await _admin(f'SELECT key FROM "{pg_schema}".documents')
    assert rows == [("k",)]


async def test_equality_filters_use_the_gin_index(pg_store: PostgresStore) -> None:
    coll = pg_store.collection("people")
    await coll.insert_many([{"role": "user", "i": i} for i in range(200)])
    await coll.insert({"role": "admin", "address": {"city": "Oslo"}}, key="admin")
    from adapters._filters import compile_filter
    from adapters.backends.postgres._sql import Params, where_sql

    params = Params(c="people")
    condition = where_sql(compile_filter({"role": "admin", "address.city": "Oslo"}), params)
    async with pg_store.connection() as conn, conn.transaction():
        await conn.execute(f"ANALYZE {pg_store.table}")
        await conn.execute("SET LOCAL enable_seqscan = off")
        cur = await conn.execute(
            f"EXPLAIN SELECT key FROM {pg_store.table} WHERE collection = %(c)s AND {condition}",
            params.values,
        )
        plan = "\n".join(row[0] for row in await cur.fetchall())
    assert "documents_data_gin" in plan
    found = await coll.find({"role": "admin", "address.city": "Oslo"})
    assert [r.key for r in found] == ["admin"]


async def _transfer(
    store: PostgresStore, coll: adapters.Collection[dict[str, Any]], target: str
) -> None:
    async with store.transaction():
        await coll.update("a", {"balance": 0})
        await coll.update(target, {"balance": 10})


async def _insert_then_abort(store: PostgresStore, coll: adapters.Collection[Any]) -> None:
    async with store.transaction():
        await coll.insert({}, key="rolled-back")
        raise RuntimeError("abort")


async def test_transaction_commits_and_rolls_back(pg_store: PostgresStore) -> None:
    coll = pg_store.collection("accounts")
    await coll.insert({"balance": 10}, key="a")
    await coll.insert({"balance": 0}, key="b")
    async with pg_store.transaction():
        await coll.update("a", {"balance": 5})
        await coll.update("b", {"balance": 5})
    with pytest.raises(adapters.NotFound):
        await _transfer(pg_store, coll, "missing")
    a, b = await coll.get("a"), await coll.get("b")
    assert a is not None
    assert b is not None
    assert (a.data, b.data) == ({"balance": 5}, {"balance": 5})
    # A failed statement inside a transaction leaves it usable (savepoints).
    async with pg_store.transaction():
        with pytest.raises(adapters.AlreadyExists):
            await coll.insert_many([{"_key": "a"}, {"_key": "c"}])
        await coll.insert({"balance": 1}, key="c")
    assert await coll.exists("c")


async def test_watch_within_a_transaction_sees_commit_only(pg_store: PostgresStore) -> None:
    coll = pg_store.collection("w")
    async with coll.watch() as changes:
        with pytest.raises(RuntimeError, match="abort"):
            await _insert_then_abort(pg_store, coll)
        async with pg_store.transaction():
            await coll.insert({}, key="committed")
        change = await asyncio.wait_for(anext(changes), 10)
    assert change.key == "committed"


async def test_large_documents_are_read_back_for_watch(pg_store: PostgresStore) -> None:
    coll = pg_store.collection("big")
    big = {"blob": "x" * 20_000}
    async with coll.watch() as changes:
        await coll.insert(big, key="big")
        inserted = await asyncio.wait_for(anext(changes), 10)
        await coll.delete("big")
        deleted = await asyncio.wait_for(anext(changes), 10)
    assert inserted.record is not None
    assert inserted.record.data == big
    assert (deleted.kind, deleted.key) == ("deleted", "big")


async def test_batch_and_clear_notifications(pg_store: PostgresStore) -> None:
    coll = pg_store.collection("batch")
    keys = [f"{uuid.uuid4()}-{'k' * 200}" for _ in range(100)]
    async with coll.watch() as changes:
        await coll.insert_many([{"_key": k, "i": i} for i, k in enumerate(keys)])
        assert await coll.clear() == 100
        seen = [await asyncio.wait_for(anext(changes), 10) for _ in range(200)]
    assert [c.key for c in seen[:100]] == keys
    assert all(c.kind == "inserted" for c in seen[:100])
    assert sorted(c.key for c in seen[100:]) == sorted(keys)
    assert all(c.kind == "deleted" for c in seen[100:])


async def test_unreachable_server_is_backend_unavailable() -> None:
    url = "postgresql://postgres:sekrit@127.0.0.1:1/test"
    with pytest.raises(adapters.BackendUnavailable) as info:
        await adapters.connect(url, connect_timeout=0.5)
    assert "sekrit" not in str(info.value)
    assert info.value.url == "postgresql://***@127.0.0.1:1/test"
    assert isinstance(info.value.__cause__, psycopg.Error)


async def test_killed_connections_fail_then_recover(pg_schema: str) -> None:
    app = f"noex_kill_{uuid.uuid4().hex[:8]}"
    url = f"{PG_URL}?application_name={app}&schema={pg_schema}"
    async with adapters.connect(url, min_size=1, max_size=1) as store:
        coll = store.collection("c")
        await coll.insert({"n": 1}, key="k")
        async with coll.watch() as changes:
            assert isinstance(store, PostgresStore)
            listener = store._listener
            listener.reconnected.clear()
            await _admin(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                (app,),
            )
            with pytest.raises(adapters.BackendUnavailable):
                await coll.get("k")
            # The pool replaces the broken connection by itself.
            got = await coll.get("k")
            assert got is not None
            await asyncio.wait_for(listener.reconnected.wait(), timeout=30)
            await coll.update("k", {"n": 2})
            change = await asyncio.wait_for(anext(changes), 10)
    assert change.record is not None
    assert change.record.data == {"n": 2}


async def test_declared_indexes_become_expression_indexes(
    pg_store: PostgresStore, pg_schema: str
) -> None:
    coll = pg_store.collection("idx", indexes=["age"], unique=["profile.email"])
    await coll.insert({"age": 3, "profile": {"email": "x@y"}})
    rows = await _admin(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND indexname LIKE 'documents\\_%%\\_%%'",
        (pg_schema,),
    )
    defs = sorted(r[0] for r in rows)
    assert any("UNIQUE" in d and "'email'" in d and "'idx'" in d for d in defs), defs
    assert any("UNIQUE" not in d and "'age'" in d for d in defs), defs


async def test_batches_reach_a_watcher_of_another_store(pg_store: PostgresStore) -> None:
    # The writing store never watches: it must still see the other store's listener.
    async with (
        adapters.connect(PG_URL, schema=pg_store.schema) as other,
        other.collection("batch").watch() as changes,
    ):
        await pg_store.collection("batch").insert_many([{"_key": "a"}, {"_key": "b"}])
        seen = [await asyncio.wait_for(anext(changes), 10) for _ in range(2)]
    assert [(c.kind, c.key) for c in seen] == [("inserted", "a"), ("inserted", "b")]
    assert [c.record.data for c in seen if c.record is not None] == [{}, {}]


async def test_batches_inside_a_transaction_are_announced(pg_store: PostgresStore) -> None:
    coll = pg_store.collection("txn")
    async with adapters.connect(PG_URL, schema=pg_store.schema) as other:
        transaction = pg_store.transaction()
        await transaction.__aenter__()
        await coll.insert_many([{"_key": "a"}, {"_key": "b"}])
        # The watcher starts after the batch was written, before it commits.
        async with other.collection("txn").watch() as changes:
            await transaction.__aexit__(None, None, None)
            seen = [await asyncio.wait_for(anext(changes), 10) for _ in range(2)]
    assert [(c.kind, c.key) for c in seen] == [("inserted", "a"), ("inserted", "b")]


async def test_a_deadlock_between_transactions_is_a_conflict(pg_store: PostgresStore) -> None:
    items = pg_store.collection("c")
    await items.insert_many([{"_key": "a", "n": 0}, {"_key": "b", "n": 0}])
    first_in, second_in = asyncio.Event(), asyncio.Event()

    async def crossing(mine: str, other: str, me: asyncio.Event, them: asyncio.Event) -> None:
        async with pg_store.transaction():
            await items.update(mine, {"n": 1})
            me.set()
            await them.wait()
            await items.update(other, {"n": 1})  # each waits for the other's row lock

    results = await asyncio.gather(
        crossing("a", "b", first_in, second_in),
        crossing("b", "a", second_in, first_in),
        return_exceptions=True,
    )
    failed = [r for r in results if isinstance(r, BaseException)]
    assert len(failed) == 1  # PostgreSQL broke the deadlock by aborting one of them
    assert isinstance(failed[0], adapters.Conflict)
    assert isinstance(failed[0].__cause__, psycopg.errors.DeadlockDetected)


async def test_bad_options_name_the_option(pg_schema: str) -> None:
    with pytest.raises(ValueError, match="unknown postgres option 'colour'"):
        await adapters.connect(PG_URL, colour="red")
    with pytest.raises(ValueError, match="postgres option 'max_size' must be a whole number"):
        await adapters.connect(f"{PG_URL}?max_size=many&schema={pg_schema}")
    with pytest.raises(ValueError, match=r"invalid postgres URL.*bogus"):
        await adapters.connect(f"{PG_URL}?bogus=1&schema={pg_schema}")
    async with adapters.connect(f"{PG_URL}?schema={pg_schema}&max_size=2") as store:
        assert isinstance(store, PostgresStore)
        assert store.schema == pg_schema
