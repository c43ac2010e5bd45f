"""Bucket feeds: ordered-consumer bookkeeping (no I/O) and recovery on the real server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

import adapters
from adapters.backends.nats import NatsCollection, NatsStore
from adapters.backends.nats._client import header_block, header_value
from adapters.backends.nats._feed import OrderedTracker

from .factory import fresh_url


def _reply(sseq: int, cseq: int, pending: int) -> str:
    return f"$JS.ACK.KV_b.c1.1.{sseq}.{cseq}.1700000000000000000.{pending}"


def test_tracker_reads_positions_and_spots_gaps() -> None:
    tracker = OrderedTracker()
    assert tracker.data(_reply(10, 1, 2)) == (10, 2)
    assert tracker.data(_reply(12, 2, 1)) == (12, 1)
    assert tracker.data(_reply(15, 4, 0)) is None  # consumer sequence 3 never came
    assert tracker.consumer_seq == 2
    tracker.restart()
    assert tracker.data(_reply(13, 1, 0)) == (13, 0)


def test_tracker_reads_the_domain_form_and_rejects_other_subjects() -> None:
    tracker = OrderedTracker()
    domain = "$JS.ACK.hub.ACCHASH.KV_b.c1.1.42.1.1700000000000000000.7.xyz"
    assert tracker.data(domain) == (42, 7)
    with pytest.raises(ValueError, match="not a JetStream delivery"):
        tracker.data("_INBOX.abc.1")


def test_tracker_checks_heartbeats_against_the_last_sequence() -> None:
    tracker = OrderedTracker()
    assert tracker.heartbeat(None)
    assert tracker.heartbeat("0")
    tracker.data(_reply(5, 1, 0))
    assert tracker.heartbeat("1")
    assert not tracker.heartbeat("3")  # the server sent more than we saw


def test_header_helpers() -> None:
    beat = b"NATS/1.0 100 Idle Heartbeat\r\nNats-Last-Consumer: 4\r\nNats-Last-Stream: 9\r\n\r\n"
    assert header_block(beat) == (
        "100",
        "Idle Heartbeat",
        {"Nats-Last-Consumer": "4", "Nats-Last-Stream": "9"},
    )
    assert header_block(b"NATS/1.0 100 FlowControl Request\r\n\r\n") == (
        "100",
        "FlowControl Request",
        {},
    )
    assert header_block(b"NATS/1.0\r\nA: 1\r\n\r\n") == ("", "", {"A": "1"})
    row = b"NATS/1.0\r\nX-KV-Operation: no\r\nKV-Operation: DEL\r\nNats-Msg-Id: a.1\r\n\r\n"
    assert header_value(row, "KV-Operation") == "DEL"
    assert header_value(row, "Nats-Msg-Id") == "a.1"
    assert header_value(row, "Missing") is None


pytestmark = pytest.mark.nats


@pytest.fixture
async def url() -> AsyncIterator[str]:
    async with fresh_url(heartbeat="0.2") as made:
        yield made


async def _consumers(store: NatsStore, bucket: str) -> list[str]:
    infos = await store._conn.js.consumers_info(f"KV_{bucket}")
    return [info.name for info in infos]


async def test_feed_recreates_a_lost_consumer_and_misses_nothing(url: str) -> None:
    async with adapters.connect(url) as writer_store, adapters.connect(url) as reader_store:
        assert isinstance(reader_store, NatsStore)
        writer = writer_store.collection("Lost")
        reader = reader_store.collection("Lost")
        assert isinstance(reader, NatsCollection)
        await writer.insert({"n": 0}, key="first")
        assert await reader.count() == 1
        bucket = reader_store.options.prefix + "Lost"
        (feed,) = reader._core._feeds
        gone = feed._consumer
        assert gone in await _consumers(reader_store, bucket)
        seen: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        reader.on_change(lambda old, new: seen.put_nowait(("change", new.key)))
        # The consumer vanishes (as in a server restart): the feed falls silent,
        # its watchdog notices and resumes after the last applied revision.
        await reader_store._conn.js.delete_consumer(f"KV_{bucket}", gone)
        await writer.insert({"n": 1}, key="while-lost")
        await writer.update("first", {"n": 2})
        async with asyncio.timeout(10):
            got_keys = [(await seen.get())[1], (await seen.get())[1]]
        assert got_keys == ["while-lost", "first"]
        assert feed._resetting is not None
        await feed._resetting  # deliveries may start before the consumer's name is known
        assert feed._consumer not in (None, gone)
        assert feed.delivered == 3  # each row applied once: nothing skipped or repeated
        got = await reader.get("first")
        assert got is not None
        assert got.data == {"n": 2}


async def test_a_watch_whose_consumer_is_lost_resumes_after_the_last_change(url: str) -> None:
    async with adapters.connect(url) as writer_store, adapters.connect(url) as reader_store:
        assert isinstance(reader_store, NatsStore)
        writer = writer_store.collection("Lost")
        reader = reader_store.collection("Lost")
        bucket = reader_store.options.prefix + "Lost"
        async with reader.watch() as changes:
            await writer.insert({"n": 0}, key="a")
            first = await asyncio.wait_for(anext(changes), 10)
            feed = changes._sub._feed  # type: ignore[union-attr]
            assert feed._consumer in await _consumers(reader_store, bucket)
            await reader_store._conn.js.delete_consumer(f"KV_{bucket}", feed._consumer)
            for n in range(1, 6):
                await writer.insert({"n": n}, key=f"k{n}")
            async with asyncio.timeout(10):
                rest = [await anext(changes) for _ in range(5)]
    assert first.key == "a"
    assert [c.key for c in rest] == [f"k{n}" for n in range(1, 6)]
    assert [c.cursor for c in [first, *rest]] == sorted({c.cursor for c in [first, *rest]})
