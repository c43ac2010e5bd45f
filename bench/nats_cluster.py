"""Inserts on a loopback three-node cluster, and the write stall when a stream leader dies.

Throughput: ``insert_many`` of N typed records (config, state and unique-claim
rows) on a single server (the baseline, started by this script), on the cluster
with ``replicas=1`` and with ``replicas=3``; best of three rounds each, printed
as records/s and as ratios to the single server. Goal: replicas 3 at least 0.5x.

Stall: one writer inserts one record at a time on the cluster (``replicas=3``)
while the config bucket's stream leader is SIGKILLed; per-write latency p50,
p99 and max over the run (the max is the stall). Goal: under 3 s.
Every server runs on free loopback ports and is stopped by PID at the end.
Run: ``.venv/bin/python -m bench.nats_cluster [N] [--json PATH]``.
"""

from __future__ import annotations

import asyncio
import time

import adapters
from tests.adapters.nats.cluster import NatsCluster

from .nats_common import Device, n_recorder, percentile
from .results import Recorder

ROUNDS = 3
STALL_TRIALS = 3


async def insert_rate(url: str, n: int, tag: str) -> float:
    """Best records/s of ``insert_many`` of ``n`` records over ``ROUNDS`` fresh collections."""
    best = float("inf")
    async with adapters.connect(url) as store:
        for round_ in range(ROUNDS):
            coll = store.collection(f"{tag}{round_}V1", model=Device)
            await coll.count()  # creates the buckets outside the timing
            devices = [Device(serial=f"S{i}", site=f"s{i % 100}", status=i) for i in range(n)]
            t0 = time.perf_counter()
            records = await coll.insert_many(devices)
            best = min(best, time.perf_counter() - t0)
            assert len(records) == n
    return n / best


async def stall(cluster: NatsCluster, trial: int) -> tuple[list[float], int]:
    """Per-write latencies of a sequential writer around a leader kill; and failures."""
    name = f"Stall{trial}V1"
    latencies: list[float] = []
    failed = 0
    async with adapters.connect(cluster.url("namespace=bench", "replicas=3")) as store:
        coll = store.collection(name, model=Device)
        await coll.count()
        leader = await cluster.stream_leader(name)
        start = time.monotonic()
        killed_at: float | None = None
        i = 0
        while killed_at is None or time.monotonic() - killed_at < 20:
            if killed_at is None and time.monotonic() - start > 1.0:
                cluster.kill(leader)
                killed_at = time.monotonic()
            t0 = time.perf_counter()
            try:
                await coll.insert(Device(serial=f"T{i}"))
            except adapters.BackendUnavailable:
                failed += 1
            latencies.append(time.perf_counter() - t0)
            i += 1
            if killed_at is not None and latencies[-1] > 0.5:
                killed_at = time.monotonic() - 17  # recovered: 3 more seconds of writes
    await cluster.restart(leader)
    return latencies, failed


async def main(n: int, recorder: Recorder) -> None:
    async with NatsCluster(1) as single:
        base = await insert_rate(single.url("namespace=bench"), n, "Single")
    async with NatsCluster(3) as cluster:
        r1 = await insert_rate(cluster.url("namespace=bench", "replicas=1"), n, "Rone")
        r3 = await insert_rate(cluster.url("namespace=bench", "replicas=3"), n, "Rthree")
        stalls = [await stall(cluster, trial) for trial in range(STALL_TRIALS)]
    print(f"{n} durable inserts per insert_many (config + state + unique claim), best of {ROUNDS}")
    print(f"  single server         : {base:9,.0f} rec/s  (baseline)")
    print(f"  cluster, replicas 1   : {r1:9,.0f} rec/s  ({r1 / base:.2f}x)")
    print(f"  cluster, replicas 3   : {r3:9,.0f} rec/s  ({r3 / base:.2f}x)  goal >= 0.5x")
    print("sequential inserts while the stream leader is SIGKILLed (replicas 3):")
    for trial, (latencies, failed) in enumerate(stalls):
        ms = [x * 1000 for x in latencies]
        print(
            f"  trial {trial}: {len(ms)} writes, {failed} failed; latency p50 "
            f"{percentile(ms, 0.5):.1f} ms, p99 {percentile(ms, 0.99):.1f} ms, "
            f"max (the stall) {max(ms) / 1000:.2f} s  goal < 3 s"
        )
    inserts = recorder.group(
        "Inserts on a three-server cluster vs a single server",
        ours="cluster",
        baseline="single server",
        better="higher",
    )
    inserts.add(f"{n} inserts, replicas 1", n / r1, n / base, "s")
    inserts.add(f"{n} inserts, replicas 3", n / r3, n / base, "s", goal=0.5)
    stall_group = recorder.group(
        "Longest write stall while the stream leader is SIGKILLed (replicas 3)",
        ours="longest write",
        baseline="the 3 s goal",
        better="lower",
    )
    for trial, (latencies, failed) in enumerate(stalls):
        ms = [x * 1000 for x in latencies]
        stall_group.add(
            f"trial {trial}",
            max(latencies),
            3.0,
            "s",
            goal=1.0,
            note=(
                f"{len(ms)} writes, {failed} failed; p50 {percentile(ms, 0.5):.1f} ms,"
                f" p99 {percentile(ms, 0.99):.1f} ms"
            ),
        )
    recorder.note(
        f"Inserts: insert_many of {n} typed records (config, state and unique-claim rows),"
        f" best of {ROUNDS}; every server on loopback on this machine. The stall is the"
        " election: nats-server waits a randomised election timeout of several seconds"
        " before a follower takes over a stream whose leader died."
    )
    recorder.write()


if __name__ == "__main__":
    n, recorder = n_recorder(
        "nats_cluster", "Inserts and failover on a three-server NATS cluster", __doc__, 5000
    )
    asyncio.run(main(n, recorder))
