"""Replay recorded real-server transcripts against the in-process server.

For each server of a transcript (its ``meta.server_configs``), a
:class:`~noex_client.testing.LocalServer` is started with that config; the
recorded ``send`` frames are sent per ``conn`` label over raw ``websockets``
connections and every ``recv`` frame, ``close`` and ``connect_error`` is
compared with what the in-process server does.

Only the values the transcripts' README lists as non-deterministic are
ignored (their type is still checked), plus a few more that are clocks or
timings by nature (``NONDETERMINISTIC_KEYS``). Record ids (uuids) and rule
event ids are mapped: the first time a recorded id shows up, the id the
in-process server produced in its place is remembered, later frames must
use it consistently, and later ``send`` frames that quote a recorded id are
rewritten to ours. Pings are timer-driven, so they are matched apart from the
other frames of a connection; everything else must arrive in recorded order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import signal
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from noex_client.testing import LocalServer
from tests.transcripts import Line, Transcript

__all__ = [
    "NONDETERMINISTIC_KEYS",
    "Ids",
    "Mismatch",
    "Segment",
    "compare",
    "replay",
    "split_segments",
]

# Keys whose values are clocks or timings: the README's `_createdAt`,
# `_updatedAt`, `serverTime`, ping/event `timestamp`, `retryAfterMs`, identity
# session `expiresAt` (a `null` expiresAt is still compared), and by
# the same token fact timestamps, rule `createdAt`/`updatedAt`, the
# `connectedAt` of server.connections and rules.stats' `avgProcessingTimeMs`.
NONDETERMINISTIC_KEYS = frozenset(
    {
        "_createdAt",
        "_updatedAt",
        "serverTime",
        "timestamp",
        "retryAfterMs",
        "expiresAt",
        "createdAt",
        "updatedAt",
        "connectedAt",
        "avgProcessingTimeMs",
    }
)
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_EVENT_ID = re.compile(r"^[0-9a-z]{6,}-[0-9a-z]{9}$")
# The recording harness named each store after its start time.
_STORE_NAME = re.compile(r"^py-test-\d+$")
_RETRY_MESSAGE = re.compile(r"^(Rate limit exceeded\. Retry after )\d+(ms)$")
TIMEOUT = 5.0


class Mismatch(AssertionError):
    """The in-process server did not answer like the recorded server."""


@dataclass
class Segment:
    """The lines of one recorded server process and its config."""

    label: str
    config: dict[str, Any]
    lines: list[Line]


def split_segments(transcript: Transcript) -> list[Segment]:
    """Split a transcript into one segment per recorded server.

    A new server starts when a connection label that was already closed
    comes back, or when a connection opens after a SIGTERM.
    """
    configs = transcript.server_configs
    groups: list[list[Line]] = [[]]
    seen: set[str] = set()
    closed: set[str] = set()
    stopped = False
    for line in transcript.lines:
        conn = line.conn
        fresh = conn is not None and conn not in seen
        reopened = conn is not None and conn in closed
        if (reopened or (stopped and fresh)) and len(groups) < len(configs):
            groups.append([])
            seen, closed, stopped = set(), set(), False
        groups[-1].append(line)
        if conn is not None:
            seen.add(conn)
            if line.dir in ("close", "connect_error"):
                closed.add(conn)
        if line.dir == "server_signal" and line.raw.get("signal") == "SIGTERM":
            stopped = True
    if len(groups) != len(configs):
        raise Mismatch(f"{transcript.name}: {len(groups)} segments for {len(configs)} configs")
    return [
        Segment(str(c.get("label")), dict(c["config"]), g)
        for c, g in zip(configs, groups, strict=True)
    ]


@dataclass
class Ids:
    """Recorded value -> our value, for ids and ping timestamps."""

    strings: dict[str, str] = field(default_factory=dict)
    pings: dict[float, float] = field(default_factory=dict)

    def bind(self, expected: str, actual: str, where: str) -> None:
        known = self.strings.get(expected)
        if known is not None and known != actual:
            raise Mismatch(f"{where}: {expected!r} was mapped to {known!r}, got {actual!r}")
        self.strings[expected] = actual

    def rewrite(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.strings.get(value, value)
        if isinstance(value, dict):
            return {k: self.rewrite(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.rewrite(v) for v in value]
        return value


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    return type(value).__name__


def compare(expected: Any, actual: Any, ids: Ids, where: str = "$", key: str = "") -> None:
    """Assert ``actual`` equals the recorded ``expected`` (module docstring rules)."""
    if key in NONDETERMINISTIC_KEYS and expected is not None:
        if not isinstance(actual, int | float) or isinstance(actual, bool):
            raise Mismatch(f"{where}: expected a number, got {actual!r}")
        return
    if isinstance(expected, str) and (_UUID.match(expected) or _EVENT_ID.match(expected)):
        if not isinstance(actual, str):
            raise Mismatch(f"{where}: expected an id string, got {actual!r}")
        ids.bind(expected, actual, where)
        return
    if key == "name" and isinstance(expected, str) and _STORE_NAME.match(expected):
        if not isinstance(actual, str):
            raise Mismatch(f"{where}: expected a store name, got {actual!r}")
        return
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            raise Mismatch(f"{where}: expected an object, got {actual!r}")
        if set(expected) != set(actual):
            raise Mismatch(
                f"{where}: keys differ: missing {sorted(set(expected) - set(actual))}, "
                f"unexpected {sorted(set(actual) - set(expected))}"
            )
        for k in expected:
            compare(expected[k], actual[k], ids, f"{where}.{k}", k)
        return
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            raise Mismatch(f"{where}: expected {expected!r}, got {actual!r}")
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            compare(e, a, ids, f"{where}[{i}]")
        return
    if _kind(expected) != _kind(actual) or expected != actual:
        if isinstance(expected, str) and isinstance(actual, str):
            retry_e, retry_a = _RETRY_MESSAGE.match(expected), _RETRY_MESSAGE.match(actual)
            if retry_e and retry_a:
                return
        raise Mismatch(f"{where}: expected {expected!r}, got {actual!r}")


class _Conn:
    """One client connection and the frames it received."""

    def __init__(self, label: str, ws: ClientConnection) -> None:
        self.label = label
        self.ws = ws
        self.frames: list[Any] = []
        self.arrived = asyncio.Event()
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for message in self.ws:
                self.frames.append(json.loads(message))
                self.arrived.set()
        self.arrived.set()

    @property
    def closed(self) -> bool:
        return self.reader.done()

    async def next(self, ping: bool, where: str) -> Any:
        async with asyncio.timeout(TIMEOUT):
            while True:
                for i, frame in enumerate(self.frames):
                    if (isinstance(frame, dict) and frame.get("type") == "ping") == ping:
                        return self.frames.pop(i)
                if self.closed:
                    raise Mismatch(f"{where}: connection closed ({self.ws.close_code})")
                self.arrived.clear()
                await self.arrived.wait()

    def leftovers(self) -> list[Any]:
        return [f for f in self.frames if not (isinstance(f, dict) and f.get("type") == "ping")]


class _Run:
    def __init__(self, name: str, heartbeat_ms: int | None) -> None:
        self.name = name
        self.heartbeat_ms = heartbeat_ms
        self.ids = Ids()
        self.ports: dict[int, int] = {}
        self.server: LocalServer | None = None
        self.conns: dict[str, _Conn] = {}
        self.tasks: list[asyncio.Task[Any]] = []

    async def segment(self, seg: Segment) -> None:
        config = dict(seg.config)
        recorded_port = config.pop("port", None)
        if recorded_port in self.ports:
            config["port"] = self.ports[recorded_port]
        if self.heartbeat_ms is not None and "heartbeat" in config:
            config["heartbeat"] = {**config["heartbeat"], "intervalMs": self.heartbeat_ms}
        self.server = LocalServer.from_config(config)
        await self.server.start()
        if recorded_port is not None:
            self.ports[recorded_port] = self.server.port
        self.conns = {}
        try:
            for line in seg.lines:
                await self.line(line, f"{self.name}#{line.seq} ({seg.label})")
            for label, conn in self.conns.items():
                extra = conn.leftovers()
                if extra:
                    raise Mismatch(
                        f"{self.name} ({seg.label}): unexpected frames on {label}: {extra}"
                    )
        finally:
            for conn in self.conns.values():
                await conn.ws.close()
                with contextlib.suppress(BaseException):
                    await conn.reader
            for task in self.tasks:
                await task
            self.tasks.clear()
            await self.server.stop()

    async def conn(self, label: str) -> _Conn:
        conn = self.conns.get(label)
        if conn is None:
            assert self.server is not None
            ws = await connect(self.server.url, max_size=None, ping_interval=None)
            conn = self.conns[label] = _Conn(label, ws)
        return conn

    async def line(self, line: Line, where: str) -> None:
        raw = line.raw
        if line.dir == "recv":
            assert line.conn is not None
            conn = await self.conn(line.conn)
            expected = raw["frame"]
            actual = await conn.next(expected.get("type") == "ping", where)
            compare(expected, actual, self.ids, where)
            if expected.get("type") == "ping":
                self.ids.pings[expected["timestamp"]] = actual["timestamp"]
        elif line.dir == "send":
            await self.send(line, where)
        elif line.dir == "close":
            await self.close(line, where)
        elif line.dir == "connect_error":
            await self.connect_error(where)
        elif line.dir == "server_signal":
            assert self.server is not None
            if raw["signal"] == signal.Signals.SIGTERM.name:
                self.tasks.append(asyncio.create_task(self.server.shutdown()))
            else:
                self.server.revoke_sessions()

    async def send(self, line: Line, where: str) -> None:
        assert line.conn is not None
        conn = await self.conn(line.conn)
        if conn.closed:
            return  # the recording client wrote after the server closed; nothing to compare
        raw = line.raw
        if "binary_hex" in raw:
            await conn.ws.send(bytes.fromhex(raw["binary_hex"]))
        elif "raw" in raw:
            await conn.ws.send(raw["raw"])
        else:
            frame = self.ids.rewrite(raw["frame"])
            if frame.get("type") == "pong" and frame.get("timestamp") in self.ids.pings:
                frame["timestamp"] = self.ids.pings[frame["timestamp"]]
            await conn.ws.send(json.dumps(frame))

    async def close(self, line: Line, where: str) -> None:
        assert line.conn is not None
        conn = await self.conn(line.conn)
        raw = line.raw
        if raw["initiator"] == "client":
            await conn.ws.close(raw["code"], raw["reason"])
        async with asyncio.timeout(TIMEOUT):
            await asyncio.shield(conn.reader)
        code = conn.ws.close_code
        reason = conn.ws.close_reason
        if raw["initiator"] == "server" and (code, reason) != (raw["code"], raw["reason"]):
            raise Mismatch(
                f"{where}: expected close {raw['code']} {raw['reason']!r}, got {code} {reason!r}"
            )

    async def connect_error(self, where: str) -> None:
        assert self.server is not None
        url = self.server.url + "not-the-noex-path" if self.server.running else self.server.url
        try:
            ws = await connect(url, open_timeout=TIMEOUT)
        except Exception:  # refused at TCP level, or no valid HTTP response
            return
        await ws.close()
        raise Mismatch(f"{where}: connecting to {url} succeeded")


async def replay(
    transcript: Transcript, heartbeat_ms: int | None = None, skip: Iterable[str] = ()
) -> None:
    """Replay every segment of ``transcript`` against a fresh in-process server.

    Args:
        transcript: A loaded transcript.
        heartbeat_ms: Replaces the recorded ``heartbeat.intervalMs`` (keeps tests fast).
        skip: Labels of server configs not to replay.

    Raises:
        Mismatch: The first difference found.
    """
    run = _Run(transcript.name, heartbeat_ms)
    for seg in split_segments(transcript):
        if seg.label not in set(skip):
            await run.segment(seg)
