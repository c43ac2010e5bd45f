"""Benchmark: client CPU and wall time per request over each WebSocket transport.

Run: ``.venv/bin/python -m bench.transports [--n 5000] [--rounds 7]``.

Starts ``python -m noex_client.testing serve`` as a separate process, so the
client's process CPU time (``time.process_time``) counts the client alone.
Four contestants each run N sequential and N pipelined inserts and gets on one
connection:

- ``raw websockets`` and ``raw picows``: the floor of each library, a bare
  connection writing the same JSON frames (msgspec, as the client uses) with no
  request matching: one frame in flight (sequential), or all N written then all
  N read (pipelined);
- ``client/websockets`` and ``client/picows``: ``NoexClient`` with
  ``ClientOptions(transport=...)``; pipelined is ``asyncio.gather`` of N calls.

Each round runs every contestant once per case, in a rotating order, and each
keeps its best CPU and best wall time over the rounds, so load from other
processes favours no one; every insert run starts on an empty bucket. Against
this server, wall time for pipelined requests is bound by the server (a Python
process): the raw floors show how much any client can gain there. The goal: client CPU per sequential request over
picows <= 0.6x of the client over websockets, and pipelined throughput >= 1.5x.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect

from bench.results import Recorder, add_json_option
from bench.server_process import local_server_process
from noex_client import ClientOptions, NoexClient

try:
    import picows
except ImportError:  # pragma: no cover - the fast extra is not installed
    picows = None  # type: ignore[assignment]

__all__ = ["main"]

GOAL_CPU = 0.6
GOAL_THROUGHPUT = 1.5

Frames = list[tuple[str, dict[str, Any]]]
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


def encode(request_id: int, op: str, fields: dict[str, Any]) -> bytes:
    return _encode({"id": request_id, "type": op, **fields})


class RawWebsockets:
    """The websockets floor: hand-made frames, nothing matched by id."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.next_id = 1

    async def sequential(self, frames: Frames) -> list[Any]:
        out = []
        for op, fields in frames:
            await self.ws.send(encode(self.next_id, op, fields), text=True)
            self.next_id += 1
            out.append(_decode(await self.ws.recv(decode=False))["data"])
        return out

    async def pipelined(self, frames: Frames) -> list[Any]:
        for op, fields in frames:
            await self.ws.send(encode(self.next_id, op, fields), text=True)
            self.next_id += 1
        return [_decode(await self.ws.recv(decode=False))["data"] for _ in frames]


class RawPicows:
    """The picows floor: its core API (a listener callback per frame)."""

    def __init__(self) -> None:
        self.next_id = 1
        self.transport: Any = None
        self.inbox: list[bytes] = []
        self.expected = 0
        self.waiter: asyncio.Future[None] | None = None

    def listener(self) -> Any:
        raw = self

        class Listener(picows.WSListener):
            def on_ws_frame(self, transport: Any, frame: Any) -> None:
                if frame.msg_type == picows.WSMsgType.TEXT:
                    raw.inbox.append(frame.get_payload_as_bytes())
                    if len(raw.inbox) >= raw.expected and raw.waiter is not None:
                        raw.waiter.set_result(None)
                        raw.waiter = None

        return Listener()

    async def _wait_for(self, count: int) -> None:
        self.expected = count
        if len(self.inbox) < count:
            self.waiter = asyncio.get_running_loop().create_future()
            await self.waiter

    def _take(self) -> list[Any]:
        out = [_decode(payload)["data"] for payload in self.inbox]
        self.inbox.clear()
        return out

    async def sequential(self, frames: Frames) -> list[Any]:
        out = []
        text = picows.WSMsgType.TEXT
        for op, fields in frames:
            self.transport.send(text, encode(self.next_id, op, fields))
            self.next_id += 1
            await self._wait_for(1)
            out += self._take()
        return out

    async def pipelined(self, frames: Frames) -> list[Any]:
        text = picows.WSMsgType.TEXT
        for op, fields in frames:
            self.transport.send(text, encode(self.next_id, op, fields))
            self.next_id += 1
        await self._wait_for(len(frames))
        return self._take()


@dataclass
class Best:
    cpu: float = float("inf")
    wall: float = float("inf")
    samples: list[tuple[float, float]] = field(default_factory=list)

    def add(self, cpu: float, wall: float) -> None:
        self.cpu, self.wall = min(self.cpu, cpu), min(self.wall, wall)
        self.samples.append((cpu, wall))


async def measure(run: Callable[[], Awaitable[Any]]) -> tuple[float, float]:
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    await run()
    return time.process_time() - cpu, time.perf_counter() - wall


Case = dict[str, Callable[[], Awaitable[Any]]]


async def contestants(
    url: str, n: int, stack: Any
) -> tuple[dict[str, Case], Callable[[], Awaitable[None]]]:
    """Open one connection per contestant; return each one's four cases, and a
    function emptying the bucket the inserts go to."""
    inserts: Frames = [("store.insert", {"bucket": "bench", "data": {"n": i}}) for i in range(n)]
    ws = await stack.enter_async_context(
        ws_connect(url, compression=None, ping_interval=None, max_size=None)
    )
    await ws.recv()  # welcome
    raw_ws = RawWebsockets(ws)
    fill: Frames = [("store.insert", {"bucket": "keys", "data": {"n": i}}) for i in range(n)]
    keys = [r["id"] for r in await raw_ws.pipelined(fill)]
    gets: Frames = [("store.get", {"bucket": "keys", "key": k}) for k in keys]

    def raw_cases(raw: RawWebsockets | RawPicows) -> Case:
        return {
            "sequential insert": lambda: raw.sequential(inserts),
            "sequential get": lambda: raw.sequential(gets),
            "pipelined insert": lambda: raw.pipelined(inserts),
            "pipelined get": lambda: raw.pipelined(gets),
        }

    def client_cases(client: NoexClient) -> Case:
        bucket = client.store.bucket("bench")

        async def seq_insert() -> None:
            for i in range(n):
                await bucket.insert({"n": i})

        async def seq_get() -> None:
            for key in keys:
                await bucket.get(key)

        return {
            "sequential insert": seq_insert,
            "sequential get": seq_get,
            "pipelined insert": lambda: asyncio.gather(
                *(bucket.insert({"n": i}) for i in range(n))
            ),
            "pipelined get": lambda: asyncio.gather(*(bucket.get(key) for key in keys)),
        }

    out = {"raw websockets": raw_cases(raw_ws)}
    if picows is not None:
        raw_pw = RawPicows()
        welcome = asyncio.get_running_loop().create_future()
        raw_pw.waiter, raw_pw.expected = welcome, 1
        raw_pw.transport, _ = await picows.ws_connect(raw_pw.listener, url)
        stack.callback(raw_pw.transport.disconnect)
        await welcome
        raw_pw.inbox.clear()
        out["raw picows"] = raw_cases(raw_pw)
    for name in ("websockets", "picows") if picows is not None else ("websockets",):
        options = ClientOptions(
            reconnect=False, request_timeout_ms=60_000, liveness_timeout_ms=0, transport=name
        )
        client = await stack.enter_async_context(NoexClient(url, options))
        out[f"client/{name}"] = client_cases(client)
    return out, client.store.bucket("bench").clear


async def run(url: str, n: int, rounds: int) -> dict[tuple[str, str], Best]:
    from contextlib import AsyncExitStack

    async with AsyncExitStack() as stack:
        table, clear = await contestants(url, n, stack)
        names = list(table)
        cases = list(table[names[0]])
        results = {(who, case): Best() for who in names for case in cases}
        for round_no in range(rounds):
            order = names[round_no % len(names) :] + names[: round_no % len(names)]
            for case in cases:
                for who in order:
                    if "insert" in case:
                        await clear()  # every insert run meets an empty bucket
                    results[who, case].add(*await measure(table[who][case]))
    return results


def report(results: dict[tuple[str, str], Best], n: int, rounds: int) -> None:
    names = list(dict.fromkeys(who for who, _ in results))
    cases = list(dict.fromkeys(case for _, case in results))
    print(f"client CPU per request (us) and wall time (ms), n={n}, best of {rounds} rounds")
    print(f"{'case':<19}" + "".join(f"{who:>22}" for who in names))
    for case in cases:
        cells = "".join(
            f"{results[who, case].cpu / n * 1e6:>10.1f}us{results[who, case].wall * 1e3:>8.0f}ms  "
            for who in names
        )
        print(f"{case:<19}{cells}")
    if "client/picows" not in names:
        print("picows is not installed: pip install 'noex-client[fast]'")
        return
    print()
    print(
        f"{'ratios':<19}{'CPU pw/ws':>11}{'thrpt pw/ws':>13}{'raw CPU pw/ws':>15}"
        f"{'client/raw ws':>15}{'client/raw pw':>15}"
    )
    for case in cases:
        ws, pw = results["client/websockets", case], results["client/picows", case]
        raw_ws, raw_pw = results["raw websockets", case], results["raw picows", case]
        print(
            f"{case:<19}{pw.cpu / ws.cpu:>10.2f}x{ws.wall / pw.wall:>12.2f}x"
            f"{raw_pw.cpu / raw_ws.cpu:>14.2f}x{ws.cpu / raw_ws.cpu:>14.2f}x"
            f"{pw.cpu / raw_pw.cpu:>14.2f}x"
        )
    seq = max(
        results["client/picows", c].cpu / results["client/websockets", c].cpu
        for c in cases
        if c.startswith("sequential")
    )
    thr = min(
        results["client/websockets", c].wall / results["client/picows", c].wall
        for c in cases
        if c.startswith("pipelined")
    )
    print()
    print(
        f"goal: sequential CPU <= {GOAL_CPU}x: {seq:.2f}x {'met' if seq <= GOAL_CPU else 'not met'}"
    )
    print(
        f"goal: pipelined throughput >= {GOAL_THROUGHPUT}x: {thr:.2f}x "
        f"{'met' if thr >= GOAL_THROUGHPUT else 'not met'}"
    )


def record(results: dict[tuple[str, str], Best], recorder: Recorder) -> None:
    """Put the ratios that ``report`` prints into ``recorder``."""
    names = list(dict.fromkeys(who for who, _ in results))
    cases = list(dict.fromkeys(case for _, case in results))
    if "client/picows" not in names:
        recorder.result.status = "skipped"
        recorder.result.reason = "picows is not installed (pip install 'noex-client[fast]')"
        return
    n = int(recorder.result.params["n"])
    cpu = recorder.group(
        "Client CPU per request: picows vs websockets transport",
        ours="client/picows",
        baseline="client/websockets",
        better="lower",
    )
    wall = recorder.group(
        "Throughput (wall time): picows vs websockets transport",
        ours="client/picows",
        baseline="client/websockets",
        better="higher",
    )
    raw = recorder.group(
        "The libraries' own floor, CPU per request: raw picows vs raw websockets",
        ours="raw picows",
        baseline="raw websockets",
        better="lower",
    )
    overhead = recorder.group(
        "What the client adds to its library's raw loop, CPU per request",
        ours="client",
        baseline="raw loop",
        better="lower",
    )
    for case in cases:
        ws, pw = results["client/websockets", case], results["client/picows", case]
        raw_ws, raw_pw = results["raw websockets", case], results["raw picows", case]
        seq = case.startswith("sequential")
        cpu.add(case, pw.cpu / n * 1e6, ws.cpu / n * 1e6, "us", goal=GOAL_CPU if seq else None)
        wall.add(case, pw.wall * 1e3, ws.wall * 1e3, "ms", goal=None if seq else GOAL_THROUGHPUT)
        raw.add(case, raw_pw.cpu / n * 1e6, raw_ws.cpu / n * 1e6, "us")
        overhead.add(f"{case}, websockets", ws.cpu / n * 1e6, raw_ws.cpu / n * 1e6, "us")
        overhead.add(f"{case}, picows", pw.cpu / n * 1e6, raw_pw.cpu / n * 1e6, "us")
    recorder.note(
        f"{n} requests per case, best of {recorder.result.params['rounds']} rounds;"
        " CPU is the client process's own time (the server runs in its own process)."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=7)
    add_json_option(parser)
    args = parser.parse_args()
    recorder = Recorder(
        "transports",
        "Client CPU and wall time per WebSocket transport",
        args.json,
        n=args.n,
        rounds=args.rounds,
    )
    with local_server_process() as url:
        results = asyncio.run(run(url, args.n, args.rounds))
    report(results, args.n, args.rounds)
    record(results, recorder)
    recorder.write()


if __name__ == "__main__":
    main()
