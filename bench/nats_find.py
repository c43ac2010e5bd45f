"""Indexed lookups on the in-memory mirror vs brainlessdb's ``find(site=...)``.

brainlessdb's ``find`` is synchronous and returns its live object. Ours is
measured twice: the documented synchronous fast path ``NatsCollection.lookup_one``
(mirror-served, cached immutable Records, the like-for-like comparison) and the
async Collection API ``find_one`` (filter validation, a fresh decoded Record).
Goal: <= brainlessdb's time per lookup (1.8 us in its own measurements).
Run: ``.venv/bin/python -m bench.nats_find [N]``.
"""

from __future__ import annotations

import asyncio
import time

import adapters
from adapters.backends.nats import NatsCollection

from .nats_common import (
    NATS_URL,
    BrainlessPeer,
    Device,
    brainless_recorder,
    drop_class_buckets,
    unique_class_name,
)
from .results import Recorder


async def main(n: int, recorder: Recorder) -> None:
    name = unique_class_name("Find")
    try:
        async with adapters.connect(f"{NATS_URL}?namespace=appa&reads=local") as store:
            coll = store.collection(name, model=Device)
            await coll.insert_many(
                [Device(serial=f"S{i}", site=f"s{i % 100}", status=i) for i in range(n)]
            )
            peer = await BrainlessPeer.start(name, "appb", flush_interval=3600, wait=120)
            try:
                theirs = float(await peer.call("bench_find", n=n))
            finally:
                await peer.close()
            sites = [f"s{i % 100}" for i in range(n)]
            serials = [f"S{i}" for i in range(n)]
            assert isinstance(coll, NatsCollection)
            for site in sites[:100]:  # first use builds the cached Records, as in theirs
                coll.lookup_one("site", site)
            for serial in serials:
                coll.lookup_one("serial", serial)
            t0 = time.perf_counter()
            for site in sites:
                coll.lookup_one("site", site)
            fast = (time.perf_counter() - t0) / n
            t0 = time.perf_counter()
            for serial in serials:
                coll.lookup_one("serial", serial)
            fast_unique = (time.perf_counter() - t0) / n
            t0 = time.perf_counter()
            for site in sites:
                await coll.find_one({"site": site})
            ours = (time.perf_counter() - t0) / n
            t0 = time.perf_counter()
            for serial in serials:
                await coll.find_one({"serial": serial})
            ours_unique = (time.perf_counter() - t0) / n
    finally:
        await drop_class_buckets(name)
    print(f"indexed find over {n} records, {n} lookups")
    print(f"  brainlessdb find(site=...)       : {theirs * 1e6:8.2f} us/op")
    print(f"  ours lookup_one('site', ...)     : {fast * 1e6:8.2f} us/op (sync, cached Record)")
    print(f"  ours lookup_one('serial', ...)   : {fast_unique * 1e6:8.2f} us/op (UNIQUE)")
    print(f"  ours find_one({{'site': ...}})     : {ours * 1e6:8.2f} us/op (async, fresh Record)")
    print(f"  ours find_one({{'serial': ...}})   : {ours_unique * 1e6:8.2f} us/op (UNIQUE)")
    print(f"  ratio (brainlessdb / lookup_one) : {theirs / fast:8.2f}x  (goal >= 1x)")
    print(f"  ratio (brainlessdb / find_one)   : {theirs / ours:8.2f}x")
    group = recorder.group(
        "Indexed lookups", ours="ours", baseline="brainlessdb find(site=...)", better="higher"
    )
    group.add("lookup_one('site', ...)", fast * 1e6, theirs * 1e6, "us", goal=1.0)
    group.add("lookup_one('serial', ...), unique", fast_unique * 1e6, theirs * 1e6, "us")
    group.add("find_one({'site': ...})", ours * 1e6, theirs * 1e6, "us")
    group.add("find_one({'serial': ...}), unique", ours_unique * 1e6, theirs * 1e6, "us")
    recorder.note(
        f"{n} records, {n} lookups. lookup_one (sync, cached Record) is the like-for-like"
        " path; find_one is the async Collection API returning a fresh decoded Record."
    )
    recorder.write()


if __name__ == "__main__":
    n, recorder = brainless_recorder(
        "nats_find",
        "Indexed lookups on the in-memory mirror vs brainlessdb's find",
        __doc__,
        10_000,
    )
    asyncio.run(main(n, recorder))
