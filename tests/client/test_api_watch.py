"""Async iterators over subscriptions: ``store.watch`` and ``rules.watch``."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from noex_client import DisconnectedError, QueryNotDefinedError, Watch, WatchOverflowError
from tests.client.helpers import until
from tests.client.local import local_client


async def test_store_watch_yields_initial_then_every_new_result() -> None:
    async with local_client() as (server, client):
        users = client.store.bucket("users")
        await users.insert({"name": "a"})
        async with client.store.watch("all-users") as updates:
            results = aiter(updates)
            assert [u["name"] for u in await anext(results)] == ["a"]
            await users.insert({"name": "b"})
            assert [u["name"] for u in await anext(results)] == ["a", "b"]
        # Leaving the block unsubscribed: the server holds no subscription any more.
        await until(lambda: sum(len(c.store_subs) for c in server.core.connections.values()) == 0)


async def test_store_watch_keeps_the_latest_result_when_the_consumer_lags() -> None:
    async with (
        local_client() as (_server, client),
        client.store.watch("all-users", buffer_size=2) as updates,
    ):
        users = client.store.bucket("users")
        for i in range(5):
            await users.insert({"name": f"u{i}"})
        await until(lambda: updates.dropped == 4)
        first = await anext(aiter(updates))
        second = await anext(aiter(updates))
        # The oldest results were dropped; the latest (all five records) is kept.
        assert len(first) == 4
        assert [u["name"] for u in second] == [f"u{i}" for i in range(5)]


async def test_rules_watch_yields_topic_and_event_pairs() -> None:
    async with (
        local_client() as (_server, client),
        client.rules.watch("order.*") as events,
    ):
        emitted = await client.rules.emit("order.paid", {"n": 1})
        topic, event = await anext(aiter(events))
        assert (topic, event) == ("order.paid", emitted)


async def _drain(events: Watch[tuple[str, Any]], sink: list[str]) -> None:
    async for topic, _event in events:
        sink.append(topic)


async def test_rules_watch_raises_on_overflow_after_the_buffered_events() -> None:
    async with (
        local_client() as (_server, client),
        client.rules.watch("t.*", buffer_size=2) as events,
    ):
        for i in range(3):
            await client.rules.emit(f"t.e{i}", {})
        received: list[str] = []
        with pytest.raises(WatchOverflowError) as info:
            await _drain(events, received)
        assert received == ["t.e0", "t.e1"]
        assert info.value.code == "WATCH_OVERFLOW"


async def test_iteration_raises_disconnected_after_the_buffered_items() -> None:
    async with (
        local_client() as (_server, client),
        client.rules.watch("*") as events,
    ):
        received: list[str] = []
        task = asyncio.create_task(_drain(events, received))
        await client.rules.emit("x", {})
        await client.disconnect()
        with pytest.raises(DisconnectedError):
            await task
        assert received == ["x"]


async def test_close_ends_the_iteration_quietly() -> None:
    async with (
        local_client() as (_server, client),
        client.rules.watch("*") as events,
    ):
        received: list[str] = []
        task = asyncio.create_task(_drain(events, received))
        await client.rules.emit("x", {})
        await until(lambda: received == ["x"])
        events.close()
        await task
        assert "finished=True" in repr(events)


async def test_watch_errors_are_typed() -> None:
    async with local_client() as (_server, client):
        with pytest.raises(QueryNotDefinedError):
            async with client.store.watch("nope"):
                pass
        with pytest.raises(ValueError, match="buffer_size"):
            client.rules.watch("*", buffer_size=0)
        watch = client.store.watch("all-users")
        with pytest.raises(RuntimeError, match="async with"):
            await anext(aiter(watch))
        async with watch:
            pass
        with pytest.raises(RuntimeError, match="only once"):
            async with watch:
                pass


async def test_store_watch_survives_a_reconnect_with_fresh_data() -> None:
    async with local_client() as (server, client):
        users = client.store.bucket("users")
        async with client.store.watch("all-users") as updates:
            results = aiter(updates)
            assert await anext(results) == []
            await server.restart(keep_data=True)
            await until(lambda: client.is_connected and server.connection_count == 1)
            await users.insert({"name": "after"})
            latest: Any = None
            while not latest:
                latest = await anext(results)
            assert [u["name"] for u in latest] == ["after"]


async def test_rejected_resubscription_after_a_reconnect_is_raised() -> None:
    async with local_client() as (server, client):
        await client.store.define_query("adhoc", {"bucket": "users"})
        async with client.store.watch("adhoc", params={"unused": 1}) as updates:
            results = aiter(updates)
            assert await anext(results) == []
            # A restarted server has lost the query defined at runtime.
            await server.restart(keep_data=False)
            with pytest.raises(QueryNotDefinedError):
                await anext(results)
