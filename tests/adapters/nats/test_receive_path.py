"""The receive-path shortcuts of the NATS backend: direct subscriptions and
batch acknowledgements resolved by token arithmetic."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from adapters.backends.nats._client import Client
from adapters.backends.nats._kv import KVUnavailable, WrongRevision, ensure_bucket
from adapters.backends.nats._publisher import Publisher
from adapters.backends.nats._writes import Writes

from .factory import NATS_URL


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    nc = Client()
    await nc.connect(servers=[NATS_URL], allow_reconnect=False)
    try:
        yield nc
    finally:
        await nc.close()


pytestmark = pytest.mark.nats


async def test_direct_subscription_bypasses_the_callback(client: Client) -> None:
    via_callback: list[Msg] = []
    direct: list[tuple[bytes, bytes, bytes, bytes]] = []
    got = asyncio.Event()

    async def callback(msg: Msg) -> None:
        via_callback.append(msg)
        got.set()

    def handler(subject: bytes, reply: bytes, data: bytes, headers: bytes) -> None:
        direct.append((subject, reply, data, headers))
        got.set()

    subject = f"test.direct.{uuid.uuid4().hex}"
    sub = await client.subscribe(subject, cb=callback)
    client.direct(sub, handler)
    await client.publish(subject, b"one", reply="answer.here", headers={"A": "1"})
    await asyncio.wait_for(got.wait(), 5)
    assert direct == [(subject.encode(), b"answer.here", b"one", b"NATS/1.0\r\nA: 1\r\n\r\n")]
    assert via_callback == []
    got.clear()
    client.undirect(sub)
    await client.publish(subject, b"two")
    await asyncio.wait_for(got.wait(), 5)
    assert [m.data for m in via_callback] == [b"two"]
    assert len(direct) == 1


async def test_a_failing_direct_handler_is_logged_and_isolated(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[bytes] = []
    got = asyncio.Event()

    def handler(subject: bytes, reply: bytes, data: bytes, headers: bytes) -> None:
        seen.append(data)
        if data == b"bad":
            raise RuntimeError("handler bug")
        got.set()

    subject = f"test.failing.{uuid.uuid4().hex}"
    sub = await client.subscribe(subject)
    client.direct(sub, handler)
    await client.publish(subject, b"bad")
    await client.publish(subject, b"good")
    await asyncio.wait_for(got.wait(), 5)
    assert seen == [b"bad", b"good"]
    assert client.is_connected
    assert "handling a message" in caplog.text


async def test_write_many_reports_each_outcome_once_as_returned(client: Client) -> None:
    publisher = Publisher(client, write_timeout=5, attempt_timeout=2, retry_delay=0.05)
    await publisher.start()
    js = client.jetstream()
    bucket = f"t{uuid.uuid4().hex[:10]}"
    await ensure_bucket(js, bucket)
    try:
        existing = await publisher.write(bucket, "taken", b"x", expected=0)
        writes = Writes()
        for i in range(50):
            writes.add(bucket, f"k{i}", f"v{i}".encode(), expected=0)
        writes.add(bucket, "taken", b"y", expected=0)  # compare-and-set fails
        reported: dict[int, int | Exception] = {}

        def on_result(index: int, outcome: int | Exception) -> None:
            assert index not in reported
            reported[index] = outcome

        outcomes = await publisher.write_many(writes, on_result)
        assert reported == dict(enumerate(outcomes))
        assert all(isinstance(o, int) and o > existing for o in outcomes[:50])
        assert isinstance(outcomes[50], WrongRevision)
        kv = await js.key_value(bucket)
        assert (await kv.get("k7")).value == b"v7"
        # Replies that match no waiting write (late, or not ours) are ignored.
        publisher._settle(b"999999999", b"{}", False)
        publisher._settle("not-a-token", b"{}", False)
    finally:
        await publisher.stop()
        await js.delete_key_value(bucket)


async def test_stopping_fails_writes_still_waiting(client: Client) -> None:
    publisher = Publisher(client, write_timeout=30, attempt_timeout=30, retry_delay=0.05)
    # Replies go to an inbox nobody subscribed: the batch waits until stopped.
    publisher._prefix = client.new_inbox() + "."
    js = client.jetstream()
    bucket = f"t{uuid.uuid4().hex[:10]}"
    await ensure_bucket(js, bucket)
    try:
        writes = Writes()
        writes.add(bucket, "k", b"v")
        pending = asyncio.create_task(publisher.write_many(writes))
        for _ in range(3):  # one turn puts the batch on the wire
            await asyncio.sleep(0)
        assert publisher._batches
        await publisher.stop()
        (outcome,) = await asyncio.wait_for(pending, 10)
        assert isinstance(outcome, KVUnavailable)
        assert not publisher._batches
    finally:
        await js.delete_key_value(bucket)


async def test_nats_module_connects_with_our_client() -> None:
    # The store's connection object is our subclass (the shortcuts are in use).
    import adapters
    from adapters.backends.nats import NatsStore

    async with adapters.connect(f"{NATS_URL}?namespace=t") as store:
        assert isinstance(store, NatsStore)
        assert isinstance(store._conn.nc, Client)
        assert isinstance(store._conn.nc, NATS)
