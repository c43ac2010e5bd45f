"""One benchmark round through the documented ``noex_client`` API; prints JSON.

Run by ``bench/vs_published.py`` with the Python of either client's virtualenv,
as a script (``python bench/published_driver.py URL N [TRANSPORT]``), so
``import noex_client`` is whichever client that virtualenv has. It uses only
the API both clients document: ``NoexClient(url, ClientOptions(...))``,
``connect()``, ``store.bucket(name).insert/get/clear/count``, ``store.subscribe`` and
``disconnect()``; ``ClientOptions(transport=..., liveness_timeout_ms=0)`` only
when TRANSPORT is given (our client).

Scenarios, each timed in wall time and process CPU time:

- ``sequential``: N inserts then N gets, one at a time;
- ``concurrent``: N inserts then N gets, each batch in one ``asyncio.gather``;
- ``push``: with a subscription to a count query, M inserts one at a time, each
  timed from the insert call to the push carrying the new count (median and
  99th percentile in microseconds).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from typing import Any

from noex_client import ClientOptions, NoexClient


async def timed(work: Any) -> dict[str, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    await work
    return {"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall}


async def main(url: str, n: int, transport: str | None) -> dict[str, Any]:
    # Ours only: the server pings every 10 minutes, beyond our default liveness window.
    extra: dict[str, Any] = {}
    if transport is not None:
        extra = {"transport": transport, "liveness_timeout_ms": 0}
    options = ClientOptions(reconnect=False, request_timeout_ms=60_000, **extra)
    client = NoexClient(url, options)
    await client.connect()
    bucket = client.store.bucket("bench")
    await bucket.clear()  # every run meets the same store

    async def sequential() -> None:
        keys = [(await bucket.insert({"n": i}))["id"] for i in range(n)]
        for key in keys:
            await bucket.get(key)

    async def concurrent() -> None:
        records = await asyncio.gather(*(bucket.insert({"n": i}) for i in range(n)))
        await asyncio.gather(*(bucket.get(r["id"]) for r in records))

    out: dict[str, Any] = {
        "sequential": await timed(sequential()),
        "concurrent": await timed(concurrent()),
    }

    loop = asyncio.get_running_loop()
    waiting: dict[int, asyncio.Future[float]] = {}

    def on_count(count: Any) -> None:
        future = waiting.pop(count, None)
        if future is not None:
            future.set_result(time.perf_counter())

    feed = client.store.bucket("feed")
    await feed.clear()
    base = await feed.count()
    unsubscribe = await client.store.subscribe("feed-count", on_count)
    latencies = []
    cpu = time.process_time()
    for i in range(1, n // 5 + 1):
        arrived = waiting[base + i] = loop.create_future()
        started = time.perf_counter()
        await feed.insert({"n": i})
        latencies.append(await arrived - started)
    out["push"] = {
        "cpu": time.process_time() - cpu,
        "median_us": statistics.median(latencies) * 1e6,
        "p99_us": statistics.quantiles(latencies, n=100)[98] * 1e6,
    }
    unsubscribe()
    await client.disconnect()
    return out


if __name__ == "__main__":
    arguments = sys.argv[1:]
    transport = arguments[2] if len(arguments) > 2 else None
    result = asyncio.run(main(arguments[0], int(arguments[1]), transport))
    sys.stdout.write(json.dumps(result) + "\n")
