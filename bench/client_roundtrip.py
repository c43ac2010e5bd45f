"""Benchmark: NoexClient against a raw ``websockets`` loop sending the same frames.

Run: ``.venv/bin/python -m bench.client_roundtrip [--n 5000] [--rounds 5]``.

Starts ``python -m noex_client.testing serve`` as a separate process and, on
one connection each, measures N sequential inserts, N sequential gets, N
concurrent inserts and N concurrent gets (``asyncio.gather``) through the
client over ``transport="websockets"`` (``bench.transports`` compares the
transports). The floor is a raw ``websockets`` client writing the same JSON
frames: one request in flight for the sequential cases, all N written then
all N read for the concurrent ones; ``*`` rows compare against a minimal raw
multiplexer (one future per id, one reader) driven by the same
``asyncio.gather``. The two sides alternate for several rounds and each keeps
its best time, so load from other processes does not favour either. Goals:
sequential within 1.05x of the floor, concurrent within 1.2x.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from bench.results import Recorder, add_json_option
from bench.server_process import local_server_process
from noex_client import ClientOptions, NoexClient

GOALS = {"sequential": 1.05, "concurrent": 1.2}


class Raw:
    """The floor: a bare websockets connection with hand-made frames."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.next_id = 1

    def _frame(self, op: str, **fields: Any) -> str:
        frame = json.dumps({"id": self.next_id, "type": op, **fields})
        self.next_id += 1
        return frame

    async def sequential(self, frames: list[tuple[str, dict[str, Any]]]) -> list[Any]:
        out = []
        for op, fields in frames:
            await self.ws.send(self._frame(op, **fields))
            out.append(json.loads(await self.ws.recv())["data"])
        return out

    async def pipelined(self, frames: list[tuple[str, dict[str, Any]]]) -> list[Any]:
        for op, fields in frames:
            await self.ws.send(self._frame(op, **fields))
        return [json.loads(await self.ws.recv())["data"] for _ in frames]

    async def gathered(self, frames: list[tuple[str, dict[str, Any]]]) -> list[Any]:
        """The least code that lets ``asyncio.gather`` callers share the socket:
        one future per request, one reader resolving them by id."""
        loop = asyncio.get_running_loop()
        waiting: dict[int, asyncio.Future[Any]] = {}

        async def read() -> None:
            for _ in frames:
                message = json.loads(await self.ws.recv())
                waiting.pop(message["id"]).set_result(message.get("data"))

        async def call(op: str, fields: dict[str, Any]) -> Any:
            request_id = self.next_id
            frame = self._frame(op, **fields)
            future = waiting[request_id] = loop.create_future()
            await self.ws.send(frame)
            return await future

        reader = asyncio.ensure_future(read())
        out = await asyncio.gather(*(call(op, fields) for op, fields in frames))
        await reader
        return list(out)


async def best(
    ours: Callable[[], Awaitable[Any]], floor: Callable[[], Awaitable[Any]], rounds: int
) -> tuple[float, float]:
    best_ours = best_floor = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        await floor()
        best_floor = min(best_floor, time.perf_counter() - started)
        started = time.perf_counter()
        await ours()
        best_ours = min(best_ours, time.perf_counter() - started)
    return best_ours, best_floor


async def run(url: str, n: int, rounds: int) -> list[tuple[str, float, float]]:
    options = ClientOptions(
        reconnect=False, request_timeout_ms=60_000, liveness_timeout_ms=0, transport="websockets"
    )
    client = NoexClient(url, options)
    await client.connect()
    bucket = client.store.bucket("bench")
    async with connect(url, compression=None, ping_interval=None, max_size=None) as ws:
        await ws.recv()  # welcome
        raw = Raw(ws)
        inserts = [("store.insert", {"bucket": "bench", "data": {"n": i}}) for i in range(n)]
        keys = [r["id"] for r in await raw.pipelined(inserts)]
        gets = [("store.get", {"bucket": "bench", "key": k}) for k in keys]

        async def seq_insert() -> None:
            for i in range(n):
                await bucket.insert({"n": i})

        async def seq_get() -> None:
            for key in keys:
                await bucket.get(key)

        async def conc_insert() -> None:
            await asyncio.gather(*(bucket.insert({"n": i}) for i in range(n)))

        async def conc_get() -> None:
            await asyncio.gather(*(bucket.get(key) for key in keys))

        cases = [
            ("sequential insert", seq_insert, lambda: raw.sequential(inserts)),
            ("sequential get", seq_get, lambda: raw.sequential(gets)),
            ("concurrent insert", conc_insert, lambda: raw.pipelined(inserts)),
            ("concurrent get", conc_get, lambda: raw.pipelined(gets)),
            ("concurrent insert*", conc_insert, lambda: raw.gathered(inserts)),
            ("concurrent get*", conc_get, lambda: raw.gathered(gets)),
        ]
        results = []
        for name, ours, floor in cases:
            ours_s, floor_s = await best(ours, floor, rounds)
            results.append((name, ours_s, floor_s))
    await client.disconnect()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=5)
    add_json_option(parser)
    args = parser.parse_args()
    recorder = Recorder(
        "client_roundtrip",
        "NoexClient vs a raw websockets loop",
        args.json,
        n=args.n,
        rounds=args.rounds,
    )
    group = recorder.group(
        "Round trips, websockets transport", ours="client", baseline="raw", better="lower"
    )
    with local_server_process() as url:
        results = asyncio.run(run(url, args.n, args.rounds))
    print(f"noex_client round trips, n={args.n}, best of {args.rounds} rounds")
    print("raw = one websockets connection: one frame in flight (sequential), all frames")
    print("written then all read (concurrent), *: gather over a minimal future-per-id reader")
    print(f"{'case':<20}{'client':>10}{'raw':>10}{'ratio':>8}{'goal':>7}")
    for name, ours, floor in results:
        goal = GOALS[name.split()[0]]
        verdict = "ok" if ours / floor <= goal else "over"
        print(
            f"{name:<20}{ours * 1000:>8.0f}ms{floor * 1000:>8.0f}ms"
            f"{ours / floor:>7.2f}x{goal:>6.2f}x {verdict}"
        )
        group.add(name, ours * 1000, floor * 1000, "ms", goal=goal)
    recorder.note(
        f"{args.n} requests per case, best of {args.rounds} rounds; raw = one websockets"
        " connection: one frame in flight (sequential), all frames written then all read"
        " (concurrent), *: asyncio.gather over a minimal future-per-id reader."
    )
    recorder.write()


if __name__ == "__main__":
    main()
