"""Benchmark: our BeaverDB clients against beaver's own client, same server, same run.

Workloads (dict, small JSON value): N sequential ``set``, N sequential ``get``, N
concurrent ``set``. Clients: our sync ``BeaverClient``, our ``AsyncBeaverClient``,
and beaver's own ``BeaverClient``/``AsyncBeaverClient`` (run by the server's Python
3.12 virtualenv in a subprocess). A "floor" row sends the same requests over a bare
socket: the server's own time per request, which bounds what any client can gain. Prints, per workload, the
wall time and the client's own CPU time per operation (which a busy machine does not
distort), each with the ratio ``beaver's / ours`` (> 1 means we are faster), and the
error count.

    .venv/bin/python -m bench.beaver_client [--ops 2000] [--url http://127.0.0.1:8000]

Without ``--url`` a ``beaver serve`` is started on a free port in a temporary
directory, from ``$NOEX_BEAVER_VENV`` (default ``~/.cache/noex-client/beaver-venv-2.4.1``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from adapters.beaver import AsyncBeaverClient, BeaverClient
from bench.results import Recorder, add_json_option

VALUE = {"i": 0, "name": "item", "tags": ["a", "b"], "score": 1.5}

# Run by beaver's own Python: times its sync and async clients on the same workloads.
_BASELINE = r"""
import asyncio, json, sys, time
from beaver.client import AsyncBeaverClient, BeaverClient
url, n, run = sys.argv[1], int(sys.argv[2]), sys.argv[3]
value = {"i": 0, "name": "item", "tags": ["a", "b"], "score": 1.5}
out = {}
def timed(label, fn):
    t, cpu = time.perf_counter(), time.process_time(); errors = fn()
    out[label] = [time.perf_counter() - t, time.process_time() - cpu, errors]
def seq_set(d):
    errors = 0
    for i in range(n):
        try: d.set(f"k{i}", value)
        except Exception: errors += 1
    return errors
def seq_get(d):
    errors = 0
    for i in range(n):
        try: d.get(f"k{i}")
        except Exception: errors += 1
    return errors
db = BeaverClient(url)
d = db.dict(f"bb-sync-{run}")
timed("sync set", lambda: seq_set(d))
timed("sync get", lambda: seq_get(d))
db.close()
async def main():
    db = AsyncBeaverClient(url)
    d = db.dict(f"bb-async-{run}")
    async def aseq_set():
        errors = 0
        for i in range(n):
            try: await d.set(f"k{i}", value)
            except Exception: errors += 1
        return errors
    async def aseq_get():
        errors = 0
        for i in range(n):
            try: await d.get(f"k{i}")
            except Exception: errors += 1
        return errors
    c = db.dict(f"bb-conc-{run}")
    async def conc():
        results = await asyncio.gather(*(c.set(f"k{i}", value) for i in range(n)), return_exceptions=True)
        return sum(isinstance(r, BaseException) for r in results)
    for label, coro in (("async set", aseq_set), ("async get", aseq_get), ("concurrent set", conc)):
        t, cpu = time.perf_counter(), time.process_time(); errors = await coro()
        out[label] = [time.perf_counter() - t, time.process_time() - cpu, errors]
    stored = await c.count()
    if stored != n: out["concurrent set"][2] += n - stored
    await db.close()
asyncio.run(main())
print(json.dumps(out))
"""


def _venv() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache"))
    default = Path(cache) / "noex-client" / "beaver-venv-2.4.1"
    return Path(os.environ.get("NOEX_BEAVER_VENV", default))


@contextmanager
def _server() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [str(_venv() / "bin" / "beaver"), "serve", "--db", f"{tmp}/bench.db"]
        cmd += ["--host", "127.0.0.1", "--port", str(port)]
        with open(f"{tmp}/server.log", "wb") as log:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            with BeaverClient(url, timeout=1.0, queue_poll=0.5) as probe:
                while True:
                    try:
                        probe.dict("probe").count()
                        break
                    except ConnectionError:
                        if time.monotonic() > deadline or proc.poll() is not None:
                            raise RuntimeError("beaver serve did not start") from None
                        time.sleep(0.05)  # startup poll interval, bounded by the deadline
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=10)


class Result(NamedTuple):
    """One workload's outcome."""

    wall: float
    """Elapsed seconds."""
    cpu: float
    """CPU seconds used by the client process (robust to a busy machine)."""
    errors: int


class _Clock:
    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def result(self, errors: int) -> Result:
        return Result(time.perf_counter() - self.wall, time.process_time() - self.cpu, errors)


def _timed(results: dict[str, Result], label: str, fn: Callable[[], int]) -> None:
    clock = _Clock()
    errors = fn()
    results[label] = clock.result(errors)


def _ours_sync(url: str, n: int, run: str) -> dict[str, Result]:
    results: dict[str, Result] = {}
    with BeaverClient(url) as db:
        d = db.dict(f"ours-sync-{run}")

        def seq_set() -> int:
            for i in range(n):
                d.set(f"k{i}", VALUE)
            return 0

        def seq_get() -> int:
            for i in range(n):
                d.get(f"k{i}")
            return 0

        c = db.dict(f"ours-threads-{run}")

        def threads() -> int:
            with ThreadPoolExecutor(max_workers=16) as pool:
                list(pool.map(lambda i: c.set(f"k{i}", VALUE), range(n)))
            return n - len(c)

        _timed(results, "sync set", seq_set)
        _timed(results, "sync get", seq_get)
        _timed(results, "concurrent set (sync, 16 threads)", threads)
    return results


async def _ours_async(url: str, n: int, run: str) -> dict[str, Result]:
    results: dict[str, Result] = {}
    async with AsyncBeaverClient(url) as db:
        d = db.dict(f"ours-async-{run}")
        clock = _Clock()
        for i in range(n):
            await d.set(f"k{i}", VALUE)
        results["async set"] = clock.result(0)
        clock = _Clock()
        for i in range(n):
            await d.get(f"k{i}")
        results["async get"] = clock.result(0)
        c = db.dict(f"ours-conc-{run}")
        clock = _Clock()
        outcomes = await asyncio.gather(
            *(c.set(f"k{i}", VALUE) for i in range(n)), return_exceptions=True
        )
        result = clock.result(sum(isinstance(o, BaseException) for o in outcomes))
        results["concurrent set"] = result._replace(errors=result.errors + n - await c.count())
    return results


def _floor(url: str, n: int, run: str) -> dict[str, Result]:
    """The same requests over one bare keep-alive socket: no client can beat this."""
    host, port = url.removeprefix("http://").split(":")
    body = json.dumps({"value": VALUE}).encode()
    results: dict[str, Result] = {}
    with socket.create_connection((host, int(port))) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = sock.makefile("rb")

        def request(method: str, path: str, content: bytes = b"") -> int:
            head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(content)}"
            sock.sendall(head.encode() + b"\r\nContent-Type: application/json\r\n\r\n" + content)
            status = int(reader.readline().split()[1])
            length = 0
            while (line := reader.readline()) != b"\r\n":
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            reader.read(length)
            return status

        for label, method, content in (("set", "PUT", body), ("get", "GET", b"")):
            clock = _Clock()
            errors = sum(
                request(method, f"/dicts/floor-{run}/k{i}", content) != 200 for i in range(n)
            )
            results[f"floor {label}"] = clock.result(errors)
    return results


def _baseline(url: str, n: int, run: str) -> dict[str, Result]:
    python = _venv() / "bin" / "python"
    proc = subprocess.run(
        [str(python), "-c", _BASELINE, url, str(n), run], capture_output=True, check=True
    )
    raw: dict[str, list[Any]] = json.loads(proc.stdout)
    return {label: Result(float(t), float(c), int(e)) for label, (t, c, e) in raw.items()}


def main() -> None:
    """Run the benchmark and print the comparison table (medians over the rounds)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; medians")
    parser.add_argument("--url", default=None)
    add_json_option(parser)
    args = parser.parse_args()
    n: int = args.ops
    recorder = Recorder(
        "beaver_client",
        "Our BeaverDB clients vs beaver's own client",
        args.json,
        ops=n,
        rounds=args.rounds,
    )
    wall = recorder.group("Wall time", ours="ours", baseline="beaver's client", better="higher")
    cpu = recorder.group(
        "Client CPU per operation", ours="ours", baseline="beaver's client", better="higher"
    )

    def measure(url: str) -> None:
        ours: dict[str, list[Result]] = {}
        theirs: dict[str, list[Result]] = {}
        for r in range(args.rounds):
            run = f"{int(time.time())}-{r}"
            # Alternate who goes first: the server's database grows during a run.
            sides = [("theirs", _baseline), ("ours", _ours), ("ours", _floor)]
            for side, fn in sides if r % 2 == 0 else sides[::-1]:
                for label, result in fn(url, n, run).items():
                    (ours if side == "ours" else theirs).setdefault(label, []).append(result)
        pairs = [
            ("sync set", "sync set"),
            ("sync get", "sync get"),
            ("async set", "async set"),
            ("async get", "async get"),
            ("concurrent set", "concurrent set"),
            ("concurrent set (sync, 16 threads)", "concurrent set"),
            ("floor set", "sync set"),
            ("floor get", "sync get"),
        ]
        print(f"{n} operations per workload, median of {args.rounds} rounds, server {url}")
        print(
            f"{'workload':36} {'ours s':>7} {'beaver s':>8} {'ratio':>5}"
            f" {'cpu ms/op ours':>14} {'beaver':>6} {'ratio':>5} {'errors':>7}"
        )
        for mine, base in pairs:
            o, b = ours[mine], theirs[base]
            wall_o, wall_b = _median(o, "wall"), _median(b, "wall")
            cpu_o, cpu_b = _median(o, "cpu") / n * 1e3, _median(b, "cpu") / n * 1e3
            errors = f"{sum(r.errors for r in o)}/{sum(r.errors for r in b)}"
            note = "" if errors == "0/0" else f"errors {errors}"
            wall.add(mine, wall_o, wall_b, "s", note=note)
            if not mine.startswith("floor"):  # a bare socket's CPU says nothing of a client
                cpu.add(mine, cpu_o, cpu_b, "ms/op", note=note)
            print(
                f"{mine:36} {wall_o:7.2f} {wall_b:8.2f} {wall_b / wall_o:5.2f}"
                f" {cpu_o:14.3f} {cpu_b:6.3f} {cpu_b / cpu_o:5.2f} {errors:>7}"
            )
        print("ratio = beaver's / ours (> 1: we are faster); errors = ours/beaver's, all rounds")
        print("cpu = client process CPU per operation: what the client itself costs, load-proof")
        print(
            "floor = bare keep-alive socket, no client library: the best ratio any client can get"
        )

        recorder.note(
            f"{n} operations per workload, median of {args.rounds} alternating rounds;"
            " errors (ours/beaver's over all rounds) are shown where there were any."
            " The floor rows send the same requests"
            " over a bare keep-alive socket (compared with beaver's sync client): the best"
            " ratio any client can reach against this server."
        )

    if args.url:
        measure(args.url)
    elif not (_venv() / "bin" / "beaver").exists():
        recorder.unavailable(f"beaver serve not found in {_venv()}; run scripts/ensure-services")
    else:
        with _server() as url:
            measure(url)
    recorder.write()


def _ours(url: str, n: int, run: str) -> dict[str, Result]:
    return {**_ours_sync(url, n, run), **asyncio.run(_ours_async(url, n, run))}


def _median(results: list[Result], field: str) -> float:
    return float(statistics.median(float(getattr(r, field)) for r in results))


if __name__ == "__main__":
    main()
