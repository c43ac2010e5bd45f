"""NATS-specific behaviour on the real server: callbacks, DLQ, cold load, batching."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

import msgspec
import nats
import pytest
from msgspec import Meta

import adapters
from adapters.backends.nats import Flag, NatsCollection, NatsStore, _batch
from adapters.backends.nats._kv import KVUnavailable

from .factory import NATS_URL, fresh_url

pytestmark = pytest.mark.nats


class Item(msgspec.Struct, kw_only=True):
    serial: Annotated[str, Meta(extra={"brainlessdb_flags": Flag.UNIQUE})]
    n: int = 0


@pytest.fixture
async def url() -> AsyncIterator[str]:
    """A store URL on fresh prefixed buckets, dropped afterwards."""
    async with fresh_url() as made:
        yield made


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bulk inserts cut into chunks of 7 records (several chunks with little data)."""
    monkeypatch.setattr(_batch, "CHUNK", 7)


@contextlib.asynccontextmanager
async def _js() -> AsyncIterator[Any]:
    nc = await nats.connect(NATS_URL)
    try:
        yield nc.jetstream()
    finally:
        await nc.close()


def _nats(store: adapters.Store, name: str, model: Any = None) -> NatsCollection:
    coll = store.collection(name, model) if model else store.collection(name)
    assert isinstance(coll, NatsCollection)
    return coll


async def _config_row(d: dict[str, Any], updated: float, by: str = "peer") -> bytes:
    value = {"d": d, "l": by, "m": {"created_at": 1.0, "updated_at": updated, "created_by": by}}
    return msgspec.json.encode(value)


async def test_callbacks_remote_local_isolated_and_async(url: str) -> None:
    async with adapters.connect(url) as a, adapters.connect(url) as b:
        writer, reader = _nats(a, "cb"), _nats(b, "cb")
        await reader.load()
        remote: list[Any] = []
        local: list[Any] = []
        done = asyncio.Event()

        def explode(old: Any, new: Any) -> None:
            raise RuntimeError("callback bug")

        async def async_cb(old: Any, new: Any) -> None:
            remote.append(("async", new.key))
            if new.key == "last":
                done.set()

        reader.on_change(explode)
        reader.on_change(lambda old, new: remote.append((old and old.data, new.data)))
        reader.on_change(async_cb)
        reader.on_change(lambda old, new: local.append(new.key), trigger_local=True)
        reader.on_delete(lambda old: remote.append(("deleted", old.key)))
        reader.on_property_change(n=lambda rec, field, old, new: remote.append((field, old, new)))

        await writer.insert({"n": 1}, key="k")
        await writer.update("k", {"n": 2})
        await reader.insert({"own": True}, key="mine")  # local: only trigger_local sees it
        await writer.delete("k")
        await writer.insert({}, key="last")
        async with asyncio.timeout(10):
            await done.wait()
        sync_events = [item for item in remote if item[0] != "async"]
        assert sync_events[:2] == [(None, {"n": 1}), ("n", None, 1)]
        assert ("async", "k") in remote
        assert ({"n": 1}, {"n": 2}) in remote
        assert ("n", 1, 2) in remote
        assert ("deleted", "k") in remote
        assert "mine" in local
        assert all("mine" not in str(item) for item in remote)
        # The raising callback deleted nothing.
        assert await reader.get("last") is not None
        assert await reader.count() == 2


async def test_undecodable_rows_are_quarantined_not_deleted(url: str) -> None:
    async with adapters.connect(url) as store:
        assert isinstance(store, NatsStore)
        bucket = store.options.prefix + "Items"
        bad_key = str(uuid.uuid4())
        good_key = str(uuid.uuid4())
        async with _js() as js:
            await js.create_key_value(nats.js.api.KeyValueConfig(bucket=bucket, history=64))
            kv = await js.key_value(bucket)
            await kv.put(bad_key, await _config_row({"serial": 123}, 1.0))
            await kv.put(good_key, await _config_row({"serial": "ok"}, 1.0))
            items = _nats(store, "Items", Item)
            with pytest.raises(adapters.ValidationError, match="serial"):
                await items.get(bad_key)
            good = await items.get(good_key)
            assert good is not None
            assert good.data == Item(serial="ok")
            await store.flush()
            await asyncio.gather(*store._conn._tasks)
            dlq = await js.key_value("brainless_dlq")
            keys = [k for k in await dlq.keys() if k.startswith(f"{bucket}__{bad_key}__")]
            assert len(keys) == 1
            entry = msgspec.json.decode((await dlq.get(keys[0])).value or b"")
            assert entry["source_bucket"] == bucket
            assert entry["value"]["d"] == {"serial": 123}
            assert "serial" in entry["error"]
            assert (await kv.get(bad_key)).value  # still there
            for key in keys:
                await dlq.purge(key)


async def test_cold_load_reads_latest_value_per_key_only(url: str) -> None:
    async with adapters.connect(url) as store:
        coll = _nats(store, "hist")
        await coll.insert_many([{"_key": f"k{i}", "rev": 0} for i in range(20)])
        for rev in range(1, 5):
            await asyncio.gather(*(coll.update(f"k{i}", {"rev": rev}) for i in range(20)))
        await coll.delete("k0")
    async with adapters.connect(url) as again:
        coll = _nats(again, "hist")
        assert await coll.count() == 19
        assert {r.data["rev"] for r in await coll.find()} == {4}
        # One message per key (19 live + 1 delete marker), not one per revision.
        assert sum(feed.delivered for feed in coll._core._feeds) == 20


async def test_flush_interval_batches_and_flush_makes_them_durable(url: str) -> None:
    async with adapters.connect(url, flush_interval=30) as store:
        assert isinstance(store, NatsStore)
        coll = _nats(store, "batched")
        await coll.load()
        writes = [asyncio.ensure_future(coll.insert({"i": i})) for i in range(50)]
        await asyncio.sleep(0)  # let the writes queue up behind the 30 s batch window
        assert not any(w.done() for w in writes)
        await store.flush()
        await store.flush()  # a second flush while nothing is pending returns at once
        records = await asyncio.gather(*writes)
        assert len({r.key for r in records}) == 50
        async with _js() as js:
            info = await js.stream_info(f"KV_{store.options.prefix}batched")
            assert info.state.messages == 50


async def test_duplicates_from_brainlessdb_peers_rank_like_brainlessdb(url: str) -> None:
    async with adapters.connect(url) as store:
        assert isinstance(store, NatsStore)
        bucket = store.options.prefix + "Dups"
        older, newer = str(uuid.uuid4()), str(uuid.uuid4())
        async with _js() as js:
            await js.create_key_value(nats.js.api.KeyValueConfig(bucket=bucket, history=64))
            kv = await js.key_value(bucket)
            await kv.put(older, await _config_row({"serial": "DUP", "n": 1}, 10.0))
            await kv.put(newer, await _config_row({"serial": "DUP", "n": 2}, 20.0))
        items = _nats(store, "Dups", Item)
        found = await items.find({"serial": "DUP"})
        assert [r.key for r in found] == [newer]
        assert await items.get(older) is None
        assert await items.count() == 1
        # The synchronous lookups hide the loser too.
        assert [r.key for r in items.lookup("serial", "DUP")] == [newer]
        one = items.lookup_one("serial", "DUP")
        assert one is not None
        assert one.key == newer
        # Once the winner is gone, the other record is visible again.
        assert await items.delete(newer)
        one = items.lookup_one("serial", "DUP")
        assert one is not None
        assert one.key == older


class Site(msgspec.Struct, kw_only=True):
    serial: Annotated[str, Meta(extra={"brainlessdb_flags": Flag.UNIQUE})]
    site: Annotated[str, Meta(extra={"brainlessdb_flags": Flag.INDEX})] = ""
    n: int = 0


async def test_sync_lookups_serve_cached_records_from_the_mirror(url: str) -> None:
    async with adapters.connect(url) as store:
        items = _nats(store, "Lookups", Site)
        with pytest.raises(adapters.AdapterError, match="not loaded"):
            items.lookup_one("site", "x")
        made = await items.insert_many(
            [Site(serial=f"S{i}", site=f"s{i % 3}", n=i) for i in range(9)]
        )
        by_site = items.lookup("site", "s1")
        assert [r.key for r in by_site] == sorted(r.key for r in made if r.data.site == "s1")
        assert all(r.data.site == "s1" for r in by_site)
        assert items.lookup("site", "nowhere") == []
        assert items.lookup_one("site", "nowhere") is None
        one = items.lookup_one("serial", "S4")
        assert one is not None
        assert one.data == Site(serial="S4", site="s1", n=4)
        # Cached: the same Record until the record changes, then a new one.
        assert items.lookup_one("serial", "S4") is one
        await items.update(one.key, {"n": 40, "site": "s2"})
        again = items.lookup_one("serial", "S4")
        assert again is not None
        assert again is not one
        assert again.data.n == 40
        assert again.version == one.version + 1
        assert one.data.n == 4  # the old Record is left as it was
        assert one.key not in {r.key for r in items.lookup("site", "s1")}
        await items.delete(one.key)
        assert items.lookup_one("serial", "S4") is None
        with pytest.raises(adapters.FilterError, match="'n' is not an indexed field"):
            items.lookup("n", 1)
    with pytest.raises(adapters.BackendUnavailable):
        items.lookup_one("serial", "S1")


async def test_bad_options_and_unreachable_server() -> None:
    with pytest.raises(ValueError, match="unknown nats option"):
        await adapters.connect("nats://127.0.0.1:4222?bogus=1")
    with pytest.raises(adapters.BackendUnavailable) as info:
        await adapters.connect("nats://user:hunter2@127.0.0.1:1?connect_timeout=1")
    assert "hunter2" not in str(info.value)
    assert "127.0.0.1:1" in str(info.value)


async def test_unique_values_hold_across_processes(url: str) -> None:
    async with adapters.connect(url) as a, adapters.connect(url) as b:
        results = await asyncio.gather(
            *(s.collection("Uniq", Item).insert(Item(serial="ONE")) for s in [a, b, a, b]),
            return_exceptions=True,
        )
        winners = [r for r in results if isinstance(r, adapters.Record)]
        assert len(winners) == 1
        assert all(isinstance(r, adapters.AlreadyExists) for r in results if r not in winners)
        # Changing the value frees it; a claim whose holder lost the value is taken over.
        await b.collection("Uniq", Item).update(winners[0].key, {"serial": "TWO"})
        again = await a.collection("Uniq", Item).insert(Item(serial="ONE"))
        with pytest.raises(adapters.AlreadyExists):
            await b.collection("Uniq", Item).insert(Item(serial="ONE"))
        assert await a.collection("Uniq", Item).delete(again.key)
        assert await b.collection("Uniq", Item).insert(Item(serial="ONE"))


async def test_insert_many_batches_keep_uniqueness_across_processes(url: str) -> None:
    async with adapters.connect(url) as a, adapters.connect(url) as b:
        batches = [
            [Item(serial=f"{tag}{i}") for i in range(20)] + [Item(serial="SHARED")]
            for tag in ("A", "B")
        ]
        results = await asyncio.gather(
            a.collection("Uniq", Item).insert_many(batches[0]),
            b.collection("Uniq", Item).insert_many(batches[1]),
            return_exceptions=True,
        )
        winners = [r for r in results if isinstance(r, list)]
        assert len(winners) == 1
        assert len(winners[0]) == 21
        assert sum(isinstance(r, adapters.AlreadyExists) for r in results) == 1
    loser = "B" if winners[0][0].data.serial.startswith("A") else "A"
    async with adapters.connect(url) as fresh:
        # The losing batch left nothing behind, and its values are free again.
        assert await fresh.collection("Uniq", Item).count() == 21
        extra = await fresh.collection("Uniq", Item).insert_many(
            [Item(serial=f"{loser}{i}") for i in range(20)]
        )
        assert len(extra) == 20


async def test_insert_many_takes_over_stale_claims(url: str) -> None:
    async with adapters.connect(url) as store:
        assert isinstance(store, NatsStore)
        items = _nats(store, "Stale", Item)
        first = await items.insert(Item(serial="GONE"))
        # The record vanishes behind our back (a peer deleted the row): its claim
        # on "GONE" is left behind, stale.
        async with _js() as js:
            kv = await js.key_value(store.options.prefix + "Stale")
            await kv.delete(first.key)
    async with adapters.connect(url) as store:
        items = _nats(store, "Stale", Item)
        assert await items.get(first.key) is None
        made = await items.insert_many([Item(serial="GONE"), Item(serial="NEW")])
        assert [r.data.serial for r in made] == ["GONE", "NEW"]
        with pytest.raises(adapters.AlreadyExists):
            await items.insert_many([Item(serial="X"), Item(serial="GONE")])
        assert await items.find_one({"serial": "X"}) is None
        assert await items.count() == 2


@pytest.mark.usefixtures("small_chunks")
async def test_large_insert_many_runs_in_overlapping_chunks_in_order(url: str) -> None:
    async with adapters.connect(url) as store:
        items = _nats(store, "Chunks", Item)
        made = await items.insert_many([Item(serial=f"S{i}", n=i) for i in range(50)])
        assert [r.data.n for r in made] == list(range(50))
        assert await items.count() == 50
        again = await items.get(made[33].key)
        assert again is not None
        assert again.data == Item(serial="S33", n=33)


@pytest.mark.usefixtures("small_chunks")
async def test_a_failing_chunk_leaves_nothing_of_the_batch(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with adapters.connect(url) as store:
        items = _nats(store, "Chunks", Item)
        await items.insert(Item(serial="TAKEN"))
        # A clash in the last chunk: the chunks before it have landed and are undone.
        batch = [Item(serial=f"S{i}") for i in range(30)] + [Item(serial="TAKEN")]
        with pytest.raises(adapters.AlreadyExists):
            await items.insert_many(batch)
        assert await items.count() == 1
        # A chunk failing as a whole (the connection, say) is undone the same way.
        real = _batch.insert_batch
        calls = 0

        async def flaky(*args: Any) -> Any:
            nonlocal calls
            calls += 1
            if calls == 2:
                raise KVUnavailable("lost the connection")
            return await real(*args)

        monkeypatch.setattr(_batch, "insert_batch", flaky)
        with pytest.raises(adapters.BackendUnavailable):
            await items.insert_many([Item(serial=f"S{i}") for i in range(30)])
        assert await items.count() == 1
        monkeypatch.setattr(_batch, "insert_batch", real)
        # Every value is free again: nothing was left claimed.
        assert len(await items.insert_many([Item(serial=f"S{i}") for i in range(30)])) == 30
