"""Helpers shared by the NATS benchmarks and interop test: the brainlessdb peer process."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Annotated, Any

import msgspec
import nats
import nats.js.errors
from msgspec import Meta

from adapters.backends.nats import Flag
from bench.results import Recorder, add_json_option

__all__ = [
    "BRAINLESS_VERSION",
    "NATS_URL",
    "Address",
    "AppaLocal",
    "AppbLocal",
    "BrainlessPeer",
    "Device",
    "brainless_python",
    "brainless_recorder",
    "drop_class_buckets",
    "n_recorder",
    "percentile",
    "unique_class_name",
]

NATS_URL = os.environ.get("NOEX_NATS_URL", "nats://127.0.0.1:4222")

BRAINLESS_VERSION = "0.17.3"
_DRIVER = Path(__file__).with_name("nats_brainless_peer.py")


def brainless_python() -> Path | None:
    """The Python of brainlessdb's virtualenv (made by ``scripts/ensure-services``)."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    venv = Path(
        os.environ.get("NOEX_BRAINLESS_VENV")
        or Path(cache) / "noex-client" / f"brainlessdb-venv-{BRAINLESS_VERSION}"
    )
    python = venv / "bin" / "python"
    return python if python.exists() else None


def brainless_recorder(
    scenario: str, title: str, doc: str | None, default_n: int
) -> tuple[int, Recorder]:
    """Like :func:`n_recorder`, for a benchmark against brainlessdb.

    Stops the script, recorded as skipped, when brainlessdb's virtualenv is missing.
    """
    n, recorder = n_recorder(scenario, title, doc, default_n)
    if brainless_python() is None:
        recorder.unavailable("brainlessdb virtualenv missing; run scripts/ensure-services")
    return n, recorder


def n_recorder(scenario: str, title: str, doc: str | None, default_n: int) -> tuple[int, Recorder]:
    """Parse a NATS benchmark's arguments (``[N] [--json PATH]``); return N and its recorder."""
    parser = argparse.ArgumentParser(description=(doc or title).splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=default_n, metavar="N")
    add_json_option(parser)
    args = parser.parse_args()
    return args.n, Recorder(scenario, title, args.json, n=args.n)


class BrainlessPeer:
    """A brainlessdb process (its own venv) driven by JSON Lines over a pipe."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self._proc = proc
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(
        cls,
        class_name: str,
        namespace: str,
        flush_interval: float = 0.0,
        wait: float = 30,
        url: str | None = None,
    ) -> BrainlessPeer:
        """Start the peer (on ``url``, default :data:`NATS_URL`); it has loaded and is watching."""
        python = brainless_python()
        if python is None:
            raise RuntimeError("brainlessdb virtualenv missing; run scripts/ensure-services")
        proc = await asyncio.create_subprocess_exec(
            str(python),
            str(_DRIVER),
            class_name,
            namespace,
            str(flush_interval),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=sys.stderr,
            limit=1 << 24,
            env={**os.environ, "NOEX_NATS_URL": url or NATS_URL},
        )
        peer = cls(proc)
        async with asyncio.timeout(wait):
            first = await peer._replies.get()
        if first.get("ok") != "ready":
            await peer.close()
            raise RuntimeError(f"brainlessdb peer failed to start: {first}")
        return peer

    async def _read(self) -> None:
        assert self._proc.stdout is not None
        while True:
            line = await self._proc.stdout.readline()
            if not line:
                await self._replies.put({"error": "peer exited"})
                return
            msg = json.loads(line)
            if "event" in msg:
                await self.events.put(msg)
            else:
                await self._replies.put(msg)

    async def call(self, op: str, wait: float = 60, **args: Any) -> Any:
        """Run one command in the peer and return its result.

        Raises:
            RuntimeError: the peer reported an error.
        """
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps({"op": op, **args}).encode() + b"\n")
        await self._proc.stdin.drain()
        async with asyncio.timeout(wait):
            reply = await self._replies.get()
        if "error" in reply:
            raise RuntimeError(f"brainlessdb peer {op}: {reply['error']}")
        return reply["ok"]

    async def close(self) -> None:
        """Ask the peer to stop; kill it if it does not exit promptly."""
        try:
            if self._proc.returncode is None and self._proc.stdin is not None:
                self._proc.stdin.write(b'{"op": "quit"}\n')
                await self._proc.stdin.drain()
            async with asyncio.timeout(10):
                await self._proc.wait()
        except (TimeoutError, ConnectionError):
            self._proc.kill()
            await self._proc.wait()
        self._reader.cancel()


class Address(msgspec.Struct, tag_field="TYPE", tag=True):
    """Nested struct, tagged like brainlessdb's ``BrainlessStruct``."""

    street: str = ""
    city: str = ""


class AppaLocal(msgspec.Struct, tag_field="TYPE", tag=True):
    """App-local data of namespace ``appa``."""

    cursor: int = 0


class AppbLocal(msgspec.Struct, tag_field="TYPE", tag=True):
    """App-local data of namespace ``appb``."""

    note: str = ""


class Device(msgspec.Struct, kw_only=True):
    """Our side of the peer's model: same fields, same brainlessdb flags."""

    serial: Annotated[str, Meta(extra={"brainlessdb_flags": Flag.UNIQUE})]
    site: Annotated[str, Meta(extra={"brainlessdb_flags": Flag.INDEX})] = ""
    status: Annotated[int, Meta(extra={"brainlessdb_flags": Flag.STATE})] = 0
    address: Address | None = None
    _: AppaLocal | AppbLocal | None = None


def unique_class_name(tag: str) -> str:
    """A fresh ``NameV1`` class/bucket name."""
    return f"{tag}{uuid.uuid4().hex[:8]}V1"


async def drop_class_buckets(name: str, url: str = NATS_URL) -> None:
    """Delete the buckets brainlessdb and we use for class ``name``."""
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        for bucket in (
            name,
            *(f"{name}-{s}" for s in ("State", "AppaLocal", "AppbLocal", "Unique")),
        ):
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await js.delete_key_value(bucket)
    finally:
        await nc.close()


def percentile(values: list[float], q: float) -> float:
    """The ``q``-quantile (0..1) of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]
