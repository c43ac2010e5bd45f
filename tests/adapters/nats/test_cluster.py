"""A real three-node JetStream cluster: killed leaders, lost disks, seed lists, replicas.

Every test starts its own cluster on free loopback ports (:mod:`.cluster`) and
stops it by PID. The workload inserts :class:`~bench.nats_common.Device` records
(a unique field, a STATE field and app-local data: four buckets per collection)
while a ``watch()`` on another connection records every change. After the
fault, every acknowledged insert must be readable from a fresh connection,
delivered exactly once to the watcher, and unique values must still be unique.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest

import adapters
from adapters.backends.nats import NatsCollection, NatsStore
from bench.nats_common import AppaLocal, BrainlessPeer, Device, brainless_python

from .cluster import NatsCluster, have_daemon

pytestmark = [
    pytest.mark.nats,
    pytest.mark.slow,
    pytest.mark.skipif(not have_daemon(), reason="needs /usr/sbin/nats-server"),
]

NAME = "DevClusterV1"  # a private cluster: brainlessdb's naming, no prefix
BUCKETS = (NAME, f"{NAME}-State", f"{NAME}-AppaLocal", f"{NAME}-Unique")
OPTIONS = "namespace=appa"  # default timeouts: 30 s writes on a cluster


@pytest.fixture
async def cluster() -> AsyncIterator[NatsCluster]:
    """A fresh three-node cluster, stopped (by PID) after the test."""
    async with NatsCluster(3) as started:
        yield started


def connected_node(cluster: NatsCluster, store: adapters.Store) -> int:
    """The index of the node ``store``'s connection is on."""
    assert isinstance(store, NatsStore)
    url = store._conn.nc.connected_url
    assert url is not None
    return next(n.index for n in cluster.nodes if n.port == url.port)


@dataclass
class Workload:
    """Inserts issued against a collection, and what a watcher on another connection saw."""

    coll: NatsCollection
    acked: dict[str, str] = field(default_factory=dict)  # key -> serial
    failed: list[BaseException] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)  # inserted keys, in delivery order
    progress: asyncio.Event = field(default_factory=asyncio.Event)
    stalls: list[float] = field(default_factory=list)

    def device(self, i: int) -> Device:
        return Device(serial=f"S{i:05d}", site=f"s{i % 7}", status=i, _=AppaLocal(i))

    async def sequential(self, first: int, count: int) -> None:
        for i in range(first, first + count):
            started = time.monotonic()
            try:
                record = await self.coll.insert(self.device(i))
            except adapters.BackendUnavailable as exc:
                self.failed.append(exc)
            else:
                self.acked[record.key] = record.data.serial
            self.stalls.append(time.monotonic() - started)
            self.progress.set()

    async def batches(self, first: int, count: int, size: int) -> None:
        for start in range(first, first + count, size):
            items = [self.device(i) for i in range(start, min(start + size, first + count))]
            try:
                records = await self.coll.insert_many(items)
            except adapters.BackendUnavailable as exc:
                self.failed.append(exc)
            else:
                self.acked.update((r.key, r.data.serial) for r in records)
            self.progress.set()

    async def after(self, acks: int) -> None:
        """Wait until at least ``acks`` writes were acknowledged."""
        async with asyncio.timeout(60):
            while len(self.acked) < acks:
                self.progress.clear()
                await self.progress.wait()


@contextlib.asynccontextmanager
async def watching(url: str, workload: Workload) -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """Watch the collection on its own connection; yields ``settle()``.

    ``settle()`` waits (deadline) until every acknowledged insert has been seen.
    """
    async with adapters.connect(url) as store:
        coll = store.collection(NAME, model=Device)
        async with coll.watch() as changes:

            async def pump() -> None:
                async for change in changes:
                    if change.kind == "inserted":
                        workload.seen.append(change.key)

            task = asyncio.create_task(pump())

            async def settle() -> None:
                deadline = time.monotonic() + 30
                while not set(workload.acked) <= set(workload.seen):
                    assert time.monotonic() < deadline, "the watcher missed acknowledged inserts"
                    await asyncio.sleep(0.05)  # polling interval of the deadline loop
                await asyncio.sleep(0.5)  # give a duplicate the chance to show up

            try:
                yield settle
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


async def verify(
    url: str, workload: Workload, *, watched: bool = True, peer_url: str | None = None
) -> None:
    """Every acknowledged insert readable on a fresh connection, once; unique still unique.

    With ``watched``, the watcher saw each acknowledged insert exactly once.
    """
    if watched:
        assert len(workload.seen) == len(set(workload.seen)), "a change was delivered twice"
        assert set(workload.seen) == set(workload.acked), "watched inserts != acknowledged"
    async with adapters.connect(url) as store:
        coll = store.collection(NAME, model=Device)
        records = {r.key: r.data for r in await coll.find()}
        assert {k: v.serial for k, v in records.items()} == workload.acked
        serials = [v.serial for v in records.values()]
        assert len(serials) == len(set(serials))
        taken = next(iter(workload.acked.values()))
        with pytest.raises(adapters.AlreadyExists):
            await coll.insert(Device(serial=taken))
    if peer_url is not None and brainless_python() is not None:
        # brainlessdb itself reads what we wrote on the cluster.
        peer = await BrainlessPeer.start(NAME, "appb", url=peer_url)
        try:
            assert await peer.call("count") == len(workload.acked)
            key, serial = next(iter(workload.acked.items()))
            assert (await peer.call("get", uuid=key))["serial"] == serial
        finally:
            await peer.close()


async def open_collection(url: str) -> tuple[adapters.Store, NatsCollection]:
    store = await adapters.connect(url).__aenter__()
    coll = store.collection(NAME, model=Device)
    assert isinstance(coll, NatsCollection)
    await coll.load()
    return store, coll


@contextlib.asynccontextmanager
async def collection(url: str) -> AsyncIterator[NatsCollection]:
    async with adapters.connect(url) as store:
        coll = store.collection(NAME, model=Device)
        assert isinstance(coll, NatsCollection)
        await coll.load()
        yield coll


async def test_stream_leader_killed_during_sequential_inserts(cluster: NatsCluster) -> None:
    url = cluster.url(OPTIONS, "replicas=3")
    async with collection(url) as coll:
        work = Workload(coll)
        async with watching(cluster.url(OPTIONS, nodes=[2, 1, 0]), work) as settle:
            writer = asyncio.create_task(work.sequential(0, 150))
            await work.after(40)
            cluster.kill(await cluster.stream_leader(NAME))
            await writer
            await settle()
    assert work.failed == []
    assert len(work.acked) == 150
    await verify(url, work)


async def test_stream_leader_killed_during_insert_many(cluster: NatsCluster) -> None:
    url = cluster.url(OPTIONS, "replicas=3")
    async with collection(url) as coll:
        work = Workload(coll)
        async with watching(cluster.url(OPTIONS), work) as settle:
            writer = asyncio.create_task(work.batches(0, 3000, 250))
            await work.after(500)
            cluster.kill(await cluster.stream_leader(NAME))
            await writer
            await settle()
    assert work.failed == []
    assert len(work.acked) == 3000
    await verify(url, work)


async def test_connected_node_killed(cluster: NatsCluster) -> None:
    url = cluster.url(OPTIONS, "replicas=3")
    async with collection(url) as coll:
        work = Workload(coll)
        async with watching(cluster.url(OPTIONS), work) as settle:
            writer = asyncio.create_task(work.sequential(0, 120))
            await work.after(40)
            cluster.kill(connected_node(cluster, coll._store))
            await writer
            await settle()
    assert work.failed == []
    await verify(url, work)


async def test_leader_killed_with_its_disk_while_writing_and_watching(
    cluster: NatsCluster,
) -> None:
    url = cluster.url(OPTIONS, "replicas=3")
    async with collection(url) as coll:
        work = Workload(coll)
        async with watching(cluster.url(OPTIONS, nodes=[1, 2, 0]), work) as settle:
            writer = asyncio.create_task(work.sequential(0, 150))
            await work.after(40)
            lost = await cluster.stream_leader(NAME)
            cluster.kill(lost)
            await work.after(80)
            await cluster.restart(lost, wipe=True)  # its store directory is empty
            await writer
            await settle()
    assert work.failed == []
    for bucket in BUCKETS:
        await cluster.wait_current(bucket, 3)
    # brainlessdb, connected to the wiped node, reads everything we wrote.
    await verify(url, work, peer_url=f"nats://{cluster.nodes[lost].address}")
    # The wiped node got everything back: it and one other node suffice to read it all.
    other = next(n.index for n in cluster.nodes if n.index != lost)
    cluster.kill(other)
    await cluster.wait_ready()
    survivors = [n.index for n in cluster.nodes if n.running]
    await verify(cluster.url(OPTIONS, nodes=survivors), work)


async def test_node_restarted_with_an_empty_store(cluster: NatsCluster) -> None:
    url = cluster.url(OPTIONS, "replicas=3")
    async with collection(url) as coll:
        work = Workload(coll)
        async with watching(cluster.url(OPTIONS), work) as settle:
            await work.sequential(0, 30)
            leader = await cluster.stream_leader(NAME)
            follower = next(n.index for n in cluster.nodes if n.index != leader)
            await cluster.restart(follower, wipe=True)
            await work.sequential(30, 30)
            await settle()
    assert work.failed == []
    await cluster.wait_current(NAME, 3)
    await verify(url, work)


async def test_opening_while_the_first_seed_is_down(cluster: NatsCluster) -> None:
    async with collection(cluster.url(OPTIONS)) as coll:  # the buckets exist (3 replicas)
        work = Workload(coll)
        await work.sequential(0, 10)
    cluster.kill(0)
    await cluster.wait_ready()
    url = cluster.url(OPTIONS, nodes=[0, 1])
    async with collection(url) as coll:
        work.coll = coll
        await work.sequential(10, 10)
    assert work.failed == []
    assert len(work.acked) == 20
    with pytest.raises(adapters.BackendUnavailable):
        async with adapters.connect(cluster.url(OPTIONS, nodes=[0]), connect_timeout=1):
            pass


async def test_replicas_one_bucket_fails_with_its_node(cluster: NatsCluster) -> None:
    async with collection(cluster.url(OPTIONS, "replicas=1")) as coll:  # one copy each
        work = Workload(coll)
        await work.sequential(0, 5)
    host = await cluster.stream_leader(NAME)  # the config bucket's only server
    others = [n.index for n in cluster.nodes if n.index != host]
    async with collection(cluster.url(OPTIONS, "write_timeout=2", nodes=others)) as coll:
        work.coll = coll
        assert connected_node(cluster, coll._store) != host
        cluster.kill(host)
        started = time.monotonic()
        with pytest.raises(adapters.BackendUnavailable):
            await coll.insert(work.device(99))
        assert time.monotonic() - started >= 2  # retried for write_timeout first
        await cluster.restart(host)
        await cluster.wait_current(NAME, 1)
        await work.sequential(5, 5)
    assert work.failed == []
    await verify(cluster.url(OPTIONS), work, watched=False)  # file storage: nothing lost


async def test_two_nodes_down_with_replicas_three(cluster: NatsCluster) -> None:
    url = cluster.url(OPTIONS, "replicas=3", "write_timeout=3")
    async with collection(url) as coll:
        work = Workload(coll)
        await work.sequential(0, 20)
        down = [n.index for n in cluster.nodes if n.index != connected_node(cluster, coll._store)]
        for index in down:
            cluster.kill(index)
        started = time.monotonic()
        with pytest.raises(adapters.BackendUnavailable, match=r"JetStream|acknowledge"):
            await coll.insert(work.device(99))
        assert time.monotonic() - started < 10  # fails after write_timeout, does not hang
        for index in down:
            await cluster.restart(index, wait=False)
        await cluster.wait_ready()
        for bucket in BUCKETS:
            await cluster.wait_current(bucket, 3)
        await work.sequential(20, 10)
    assert work.failed == []
    await verify(cluster.url(OPTIONS), work, watched=False)


async def test_replicas_raised_on_an_existing_bucket_never_lowered(
    cluster: NatsCluster, caplog: pytest.LogCaptureFixture
) -> None:
    async with collection(cluster.url(OPTIONS, "replicas=1")):
        pass
    admin = await cluster._admin(cluster.nodes)
    try:
        js = admin.jetstream()
        assert (await js.stream_info(f"KV_{NAME}")).config.num_replicas == 1
        with caplog.at_level(logging.INFO, logger="adapters"):
            async with collection(cluster.url(OPTIONS, "replicas=3")):
                pass
        assert f"bucket {NAME} raised from 1 to 3 replicas" in caplog.text
        assert (await js.stream_info(f"KV_{NAME}")).config.num_replicas == 3
        async with collection(cluster.url(OPTIONS, "replicas=1")):
            pass
        assert (await js.stream_info(f"KV_{NAME}")).config.num_replicas == 3
        # auto on a three-node cluster: new buckets get 3 replicas (the lock bucket too).
        async with adapters.connect(cluster.url(OPTIONS)) as store:
            await store.collection("AutoV1").insert({"a": 1})
            async with store.lock("job", ttl=10):
                pass
        assert (await js.stream_info("KV_AutoV1")).config.num_replicas == 3
        assert (await js.stream_info("KV_h-locks")).config.num_replicas == 3
        # ... and the dead-letter bucket, created when a row cannot be decoded.
        await (await js.key_value("AutoV1")).put("00000000-0000-4000-8000-000000000000", b"{")
        async with adapters.connect(cluster.url(OPTIONS)) as store:
            await store.collection("AutoV1").count()
        assert (await js.stream_info("KV_brainless_dlq")).config.num_replicas == 3
        with pytest.raises(adapters.BackendError, match="5 replicas"):
            async with collection(cluster.url(OPTIONS, "replicas=5")):
                pass
    finally:
        await admin.close()


SECRET = "s3cret-Pw"


async def test_credentials_given_once_never_shown(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with NatsCluster(3, auth=("app", SECRET)) as cluster:
        async with collection(cluster.url(OPTIONS, "replicas=3")) as coll:
            store = coll._store
            assert SECRET not in repr(store)
            assert SECRET not in store.url
            work = Workload(coll)
            await work.sequential(0, 3)
            # The next server (listed or advertised) is reached with the same credentials.
            cluster.kill(connected_node(cluster, store))
            await work.sequential(3, 3)
            assert work.failed == []
        bad = cluster.url(OPTIONS).replace(SECRET, "wrong-" + SECRET[::-1])
        with pytest.raises(adapters.BackendUnavailable) as caught:
            async with adapters.connect(bad, connect_timeout=1):
                pass
        for text in (str(caught.value), repr(caught.value), str(caught.value.__cause__)):
            assert SECRET not in text
            assert SECRET[::-1] not in text
    for record in caplog.records:
        message = record.getMessage()
        assert SECRET not in message
        assert SECRET[::-1] not in message
