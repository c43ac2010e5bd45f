"""10,000 durable inserts: our pipelined ``insert_many`` vs brainlessdb ``add`` + ``flush``.

Both write config + state rows (the model has a STATE field); ours also writes
a claim per unique value (cross-process uniqueness). Goal: >= 5x faster.
Run: ``.venv/bin/python -m bench.nats_insert [N]``.
"""

from __future__ import annotations

import asyncio
import time

import adapters

from .nats_common import (
    NATS_URL,
    Address,
    BrainlessPeer,
    Device,
    brainless_recorder,
    drop_class_buckets,
    unique_class_name,
)
from .results import Recorder

ROUNDS = 3


async def main(n: int, recorder: Recorder) -> None:
    # The two sides alternate for ROUNDS rounds and each keeps its best time, so
    # load from other processes on the machine does not favour either side.
    ours_names = [unique_class_name("InsOurs") for _ in range(ROUNDS)]
    theirs_name = unique_class_name("InsBdb")
    theirs = ours = float("inf")
    try:
        peer = await BrainlessPeer.start(theirs_name, "appb", flush_interval=3600)
        try:
            async with adapters.connect(f"{NATS_URL}?namespace=appa") as store:
                for name in ours_names:
                    theirs = min(theirs, float(await peer.call("bench_insert", n=n)))
                    coll = store.collection(name, model=Device)
                    await coll.count()  # load (creates the buckets) outside the timing
                    devices = [
                        Device(
                            serial=f"S{i}", site=f"s{i % 100}", status=i, address=Address("M", "P")
                        )
                        for i in range(n)
                    ]
                    t0 = time.perf_counter()
                    records = await coll.insert_many(devices)
                    ours = min(ours, time.perf_counter() - t0)
                    assert len(records) == n
        finally:
            await peer.close()
    finally:
        for name in ours_names:
            await drop_class_buckets(name)
        await drop_class_buckets(theirs_name)
    print(f"{n} durable inserts (config + state rows; ours also unique claims), best of {ROUNDS}")
    print(f"  brainlessdb add+flush : {theirs:8.3f} s  ({n / theirs:,.0f} rec/s)")
    print(f"  ours insert_many      : {ours:8.3f} s  ({n / ours:,.0f} rec/s)")
    print(f"  speed-up              : {theirs / ours:8.1f}x  (goal >= 5x)")
    group = recorder.group(
        "Durable inserts",
        ours="ours insert_many",
        baseline="brainlessdb add+flush",
        better="higher",
    )
    group.add(f"{n} inserts", ours, theirs, "s", goal=5.0)
    recorder.note(
        f"Best of {ROUNDS} alternating rounds; both write config and state rows, ours also"
        " a claim per unique value."
    )
    recorder.write()


if __name__ == "__main__":
    n, recorder = brainless_recorder(
        "nats_insert", "Durable inserts: the NATS backend vs brainlessdb 0.17.3", __doc__, 10_000
    )
    asyncio.run(main(n, recorder))
