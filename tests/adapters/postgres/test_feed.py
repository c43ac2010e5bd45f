"""PostgreSQL change feeds: the log is the truth, NOTIFY only wakes, commits are ordered."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
import pytest

import adapters
from adapters.backends.postgres import PostgresStore

from ..backends import PG_URL

pytestmark = pytest.mark.postgres


async def _next(stream: adapters.ChangeStream[Any]) -> adapters.Change[Any]:
    return await asyncio.wait_for(anext(stream), 10)


async def _admin(query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    async with await psycopg.AsyncConnection.connect(PG_URL, autocommit=True) as conn:
        cur = await conn.execute(query, params)
        return await cur.fetchall() if cur.description else []


async def test_notifications_only_name_the_collection(pg_store: PostgresStore) -> None:
    coll = pg_store.collection("quiet")
    async with await psycopg.AsyncConnection.connect(PG_URL, autocommit=True) as conn:
        await conn.execute(f'LISTEN "{pg_store.channel}"')
        await coll.insert_many([{"_key": "batch1", "secret": "x" * 100}, {"_key": "batch2"}])
        note = await asyncio.wait_for(anext(conn.notifies()), 10)
    assert note.payload == "quiet"


async def test_nothing_is_lost_while_the_listener_is_down(
    pg_store: PostgresStore, pg_schema: str
) -> None:
    coll = pg_store.collection("feed")
    listener = pg_store._listener
    async with coll.watch() as changes:
        await coll.insert({"seq": 0}, key="k0")
        assert (await _next(changes)).key == "k0"
        # Hold the listener's reconnection until the writes below are done.
        allowed = asyncio.Event()
        connect: Callable[[], Awaitable[psycopg.AsyncConnection[Any]]] = listener._connect

        async def gated() -> psycopg.AsyncConnection[Any]:
            await allowed.wait()
            return await connect()

        listener._connect = gated  # type: ignore[method-assign]
        listener.reconnected.clear()
        assert listener._conn is not None
        pid = listener._conn.info.backend_pid
        await _admin("SELECT pg_terminate_backend(%s)", (pid,))
        async with adapters.connect(PG_URL, schema=pg_schema) as writer:
            other = writer.collection("feed")
            for seq in range(1, 21):
                await other.insert({"seq": seq}, key=f"k{seq}")
            await other.insert_many([{"_key": f"b{i}", "seq": 21 + i} for i in range(10)])
        assert not listener.reconnected.is_set()
        allowed.set()
        seen = [await _next(changes) for _ in range(30)]
    assert [c.record.data["seq"] for c in seen if c.record is not None] == list(range(1, 31))
    assert [c.cursor for c in seen] == sorted(c.cursor for c in seen)


async def test_a_transaction_that_commits_later_is_not_skipped(
    pg_store: PostgresStore, pg_schema: str
) -> None:
    """The later commit gets a later feed position, even with an earlier log number."""
    coll = pg_store.collection("order")
    async with (
        adapters.connect(PG_URL, schema=pg_schema) as slow_store,
        coll.watch() as changes,
    ):
        slow = slow_store.collection("order")
        transaction = slow_store.transaction()
        await transaction.__aenter__()
        try:
            await slow.insert({"who": "slow"}, key="slow")  # logged first, not committed
            await coll.insert({"who": "fast"}, key="fast")
            fast = await _next(changes)
        finally:
            await transaction.__aexit__(None, None, None)
        late = await _next(changes)
    assert (fast.key, late.key) == ("fast", "slow")
    assert late.cursor > fast.cursor
    async with coll.watch(since=fast.cursor) as resumed:
        again = await _next(resumed)
    assert again.key == "slow"


async def test_feeds_started_inside_a_transaction_do_not_use_it(
    pg_store: PostgresStore, pg_schema: str
) -> None:
    coll = pg_store.collection("inside")
    async with (
        adapters.connect(PG_URL, schema=pg_schema) as other,
        coll.watch() as changes,
    ):
        async with pg_store.transaction():
            await coll.insert({}, key="k")
            # Were a feed to read through the transaction's connection, it would hold
            # the sequencer's lock until the commit, and the other store would wait.
            async with asyncio.timeout(10):
                async with coll.watch():
                    pass
                async with other.collection("inside").watch():
                    pass
        change = await _next(changes)
    assert change.key == "k"


async def test_pruning_keeps_the_newest_changes_and_moves_the_horizon(
    pg_schema: str,
) -> None:
    async with adapters.connect(
        PG_URL, schema=pg_schema, feed_max_changes=5, feed_max_age=0
    ) as store:
        coll = store.collection("bounded")
        async with coll.watch() as live:
            await coll.insert({"n": 0}, key="first")
            first = await _next(live)
            for n in range(1, 8):
                await coll.update("first", {"n": n})
            cursors = [(await _next(live)).cursor for _ in range(7)]
        assert isinstance(store, PostgresStore)
        store.feed.pruner.last = 0.0  # due now: the next write prunes
        await coll.update("first", {"n": 8})
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while store.feed.pruner.task is not None:
            assert loop.time() < deadline, "pruning did not finish"
            await asyncio.sleep(0.01)  # pruning runs in the background
        with pytest.raises(adapters.CursorExpired):
            async with coll.watch(since=first.cursor):
                pass
        async with coll.watch(since=cursors[-4]) as kept:
            tail = [await _next(kept) for _ in range(4)]
    assert [c.record.data["n"] for c in tail if c.record is not None] == [5, 6, 7, 8]
    rows = await _admin(f'SELECT count(*) FROM "{pg_schema}".changes')
    assert rows[0][0] == 5


async def test_a_large_batch_is_read_in_pages_and_resumes_inside(pg_store: PostgresStore) -> None:
    coll = pg_store.collection("large")
    async with coll.watch() as live:
        await coll.insert_many([{"i": i} for i in range(12_000)])
        first = [await _next(live) for _ in range(6_001)]
    async with coll.watch(since=first[-1].cursor) as resumed:
        rest = [await _next(resumed) for _ in range(5_999)]
    numbers = [c.record.data["i"] for c in [*first, *rest] if c.record is not None]
    assert numbers == list(range(12_000))
