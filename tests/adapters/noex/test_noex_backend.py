"""Backend-specific behaviour of ``ws://`` stores (in-process noex server)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

import adapters
from noex_client import ClientOptions, NoexClient, ReconnectOptions
from noex_client.testing import LocalServer

FAST = ClientOptions(reconnect=ReconnectOptions(initial_delay_ms=1, max_delay_ms=5, jitter_ms=0))


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with LocalServer() as running:
        yield running


async def test_layout_is_key_doc_and_noex_metadata(server: LocalServer) -> None:
    async with adapters.connect(server.url) as store:
        rec = await store.collection("users").insert({"_version": "mine", "key": 1}, key="a")
    async with NoexClient(server.url) as client:
        raw = await client.store.bucket("users").get("a")
        schema = await client.request("store.getBucketSchema", name="users")
    assert raw is not None
    assert raw["key"] == "a"
    assert raw["doc"] == {"_version": "mine", "key": 1}
    assert raw["_version"] == rec.version == 1
    assert rec.created_at.timestamp() * 1000 == pytest.approx(raw["_createdAt"])
    assert schema["config"]["key"] == "key"


async def test_insert_over_a_key_written_directly_is_already_exists(server: LocalServer) -> None:
    async with NoexClient(server.url) as client, adapters.connect(server.url) as store:
        users = store.collection("users")
        await users.insert({"v": 0}, key="seed")  # defines the bucket
        await client.store.bucket("users").insert({"key": "a", "doc": {"v": 1}})
        with pytest.raises(adapters.AlreadyExists) as info:
            await users.insert({"v": 2}, key="a")
        got = await users.get("a")
    assert info.value.key == "a"
    assert got is not None
    assert got.data == {"v": 1}


async def test_failed_writes_release_the_write_lock(server: LocalServer) -> None:
    async with adapters.connect(server.url, lock_timeout_s=2.0) as store:
        users = store.collection("users", unique=["email"])
        await users.insert({"email": "a@x"}, key="a")
        with pytest.raises(adapters.NotFound):
            await users.update("ghost", {"n": 1})
        with pytest.raises(adapters.Conflict):
            await users.update("a", {"n": 1}, if_version=7)
        with pytest.raises(adapters.AlreadyExists):
            await users.insert({"email": "a@x"}, key="b")
        assert (await users.update("a", {"n": 2})).version == 2
        async with NoexClient(server.url) as client:
            assert await client.store.bucket("_adapters.locks").count() == 0


async def test_reserved_names_are_hidden_and_refused(server: LocalServer) -> None:
    async with adapters.connect(server.url) as store:
        await store.collection("users", unique=["u"]).insert({"u": 1})
        assert await store.collections() == ["users"]
        with pytest.raises(ValueError, match="reserved"):
            store.collection("_adapters.locks")


async def test_large_insert_many_is_split_and_complete(server: LocalServer) -> None:
    async with adapters.connect(server.url) as store:
        big = store.collection("big")
        blob = "x" * 2000
        recs = await big.insert_many([{"_key": f"k{i:04d}", "blob": blob} for i in range(600)])
        assert len(recs) == 600
        assert await big.count() == 600
        page = await big.page(5, after="k0594")
        assert [r.key for r in page.records] == [f"k{i:04d}" for i in range(595, 600)]
        assert await big.clear() == 600


async def test_watch_delivers_changes_made_while_disconnected(server: LocalServer) -> None:
    async with (
        adapters.connect(server.url, client_options=FAST) as watcher,
        adapters.connect(server.url, client_options=FAST) as writer,
    ):
        coll = writer.collection("feed")
        await coll.insert({"n": 0}, key="before")
        async with watcher.collection("feed").watch() as changes:
            await server.restart(keep_data=True)
            await coll.insert({"n": 1}, key="during")
            change = await anext(changes)
    assert (change.kind, change.key) == ("inserted", "during")


async def test_unreachable_server_names_url_without_token() -> None:
    async with LocalServer() as server:
        url = server.url
    with pytest.raises(adapters.BackendUnavailable) as info:
        await adapters.connect(f"{url}?token=s3cret")
    assert "s3cret" not in str(info.value)
    assert url.split("//")[1] in str(info.value)


async def test_racing_unique_inserts_from_two_stores_have_one_winner(server: LocalServer) -> None:
    async with adapters.connect(server.url) as first, adapters.connect(server.url) as second:
        colls = [s.collection("users", unique=["email"]) for s in (first, second, first, second)]
        results = await asyncio.gather(
            *(c.insert({"email": "same@x"}, key=f"k{i}") for i, c in enumerate(colls)),
            return_exceptions=True,
        )
        winners = [r for r in results if isinstance(r, adapters.Record)]
        losers = [r for r in results if isinstance(r, adapters.AlreadyExists)]
        assert (len(winners), len(losers)) == (1, 3)
        assert all(loser.field == "email" for loser in losers)
        assert await first.collection("users").count({"email": "same@x"}) == 1


async def test_a_stale_lock_blocks_writes_until_the_lock_timeout(server: LocalServer) -> None:
    async with adapters.connect(server.url, lock_timeout_s=0.05) as store:
        users = store.collection("users")
        await users.insert({"n": 0}, key="a")
        await users.update("a", {"n": 0})  # a locked write: defines the lock bucket
        async with NoexClient(server.url) as client:
            await client.request(
                "store.transaction",
                operations=[
                    {"op": "insert", "bucket": "_adapters.locks", "data": {"key": "users"}}
                ],
            )
            with pytest.raises(adapters.BackendUnavailable, match="write lock"):
                await users.update("a", {"n": 1})
            await client.store.bucket("_adapters.locks").delete("users")
        assert (await users.update("a", {"n": 1})).version == 3
