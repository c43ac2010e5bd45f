"""Cold load of 10,000 records with 5 revisions each: ours vs brainlessdb ``start()``.

We read the latest value per key (one message per key); brainlessdb replays every
retained revision. Goals: <= 0.5 s and >= 5x faster.
Run: ``.venv/bin/python -m bench.nats_cold_load [N]``.
"""

from __future__ import annotations

import asyncio
import time

import adapters

from .nats_common import (
    NATS_URL,
    BrainlessPeer,
    Device,
    brainless_recorder,
    drop_class_buckets,
    unique_class_name,
)
from .results import Recorder

REVISIONS = 5


async def _populate(name: str, n: int) -> None:
    async with adapters.connect(f"{NATS_URL}?namespace=appa&reads=local") as store:
        coll = store.collection(name, model=Device)
        records = await coll.insert_many(
            [Device(serial=f"S{i}", site=f"s{i % 100}", status=0) for i in range(n)]
        )
        for rev in range(1, REVISIONS):
            for start in range(0, n, 1000):
                chunk = records[start : start + 1000]
                await asyncio.gather(*(coll.update(r.key, {"status": rev}) for r in chunk))


async def main(n: int, recorder: Recorder) -> None:
    name = unique_class_name("Cold")
    try:
        await _populate(name, n)
        peer = await BrainlessPeer.start(name, "appb", flush_interval=3600, wait=300)
        try:
            theirs = await peer.call("bench_load", wait=300)
        finally:
            await peer.close()
        async with adapters.connect(f"{NATS_URL}?namespace=appa&reads=local") as store:
            coll = store.collection(name, model=Device)
            t0 = time.perf_counter()
            await coll.count()  # the first operation loads the mirror
            ours = time.perf_counter() - t0
            count = await coll.count()
    finally:
        await drop_class_buckets(name)
    print(f"cold load of {n} records x {REVISIONS} revisions (config + state buckets)")
    print(f"  brainlessdb start() : {theirs['seconds']:7.3f} s  ({theirs['count']} records)")
    print(f"  ours first read     : {ours:7.3f} s  ({count} records)")
    print(f"  speed-up            : {theirs['seconds'] / ours:7.1f}x  (goals: <= 0.5 s, >= 5x)")
    group = recorder.group(
        "Cold load", ours="ours first read", baseline="brainlessdb start()", better="higher"
    )
    group.add(f"{n} records x {REVISIONS} revisions", ours, theirs["seconds"], "s", goal=5.0)
    recorder.note(
        "We read the latest value per key; brainlessdb replays every retained revision."
        f" Goal also: ours <= 0.5 s (this run: {ours:.3f} s)."
    )
    recorder.write()


if __name__ == "__main__":
    n, recorder = brainless_recorder(
        "nats_cold_load",
        "Cold load: the NATS backend's first read vs brainlessdb's start()",
        __doc__,
        10_000,
    )
    asyncio.run(main(n, recorder))
