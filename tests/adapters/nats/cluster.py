"""A throw-away nats-server JetStream cluster on loopback ports, for tests and benchmarks.

:class:`NatsCluster` starts ``size`` ``nats-server`` processes (``-js``, each
with its own store directory, routes to every other node), waits until the
cluster has a JetStream meta leader (polled with a deadline) and stops every
process it started by PID. Nodes can be SIGKILLed and restarted, optionally
with an empty store directory (a lost disk); :meth:`stream_leader` names the
node leading a bucket's stream. Readiness is read from each node's HTTP
monitoring endpoint (``/jsz``). ``NatsCluster(1)`` is a plain single server
(no cluster), a baseline for benchmarks.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import nats
from nats.aio.client import Client
from nats.js.api import StreamInfo

T = TypeVar("T")

__all__ = ["DAEMON", "NatsCluster", "Node", "free_ports", "have_daemon"]

DAEMON = "/usr/sbin/nats-server"


def have_daemon() -> bool:
    """Whether the nats-server binary is installed."""
    return os.access(DAEMON, os.X_OK)


def free_ports(count: int) -> list[int]:
    """``count`` distinct free TCP ports on 127.0.0.1 (bound, read, released)."""
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            socks.append(sock)
        return [s.getsockname()[1] for s in socks]
    finally:
        for sock in socks:
            sock.close()


@dataclass
class Node:
    """One server of the cluster."""

    index: int
    name: str
    port: int
    cluster_port: int
    http_port: int
    store: Path
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    routes: list[str] = field(default_factory=list)

    @property
    def address(self) -> str:
        """``127.0.0.1:<client port>``."""
        return f"127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        """Whether its process is alive."""
        return self.proc is not None and self.proc.poll() is None


class NatsCluster:
    """``size`` nats-server processes forming one JetStream cluster (an async context manager)."""

    def __init__(
        self,
        size: int = 3,
        *,
        name: str = "adapters",
        ready_timeout: float = 30.0,
        auth: tuple[str, str] | None = None,
    ) -> None:
        self.size = size
        self.auth = auth
        self.name = name
        self.ready_timeout = ready_timeout
        self._root = Path(tempfile.mkdtemp(prefix="nats-cluster-"))
        ports = free_ports(3 * size)
        self.nodes: list[Node] = []
        for i in range(size):
            self.nodes.append(
                Node(
                    index=i,
                    name=f"n{i}",
                    port=ports[3 * i],
                    cluster_port=ports[3 * i + 1],
                    http_port=ports[3 * i + 2],
                    store=self._root / f"n{i}",
                    log=self._root / f"n{i}.log",
                )
            )
        for node in self.nodes:
            node.routes = [
                f"nats://127.0.0.1:{other.cluster_port}"
                for other in self.nodes
                if other is not node
            ]

    # -- addresses ------------------------------------------------------------------

    def url(self, *options: str, nodes: list[int] | None = None, scheme: str = "nats") -> str:
        """A seed-list URL of ``nodes`` (default: all) plus ``options`` (``"k=v"``)."""
        chosen = [self.nodes[i] for i in (nodes if nodes is not None else range(self.size))]
        creds = f"{self.auth[0]}:{self.auth[1]}@" if self.auth else ""
        base = f"{scheme}://{creds}" + ",".join(n.address for n in chosen)
        return base + ("?" + "&".join(options) if options else "")

    def node_named(self, name: str) -> Node:
        """The node whose server name is ``name``."""
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    # -- lifecycle ------------------------------------------------------------------

    async def __aenter__(self) -> NatsCluster:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def start(self) -> None:
        """Start every node and wait until the cluster has a meta leader."""
        try:
            for node in self.nodes:
                self._spawn(node)
            await self.wait_ready()
        except BaseException:
            self.stop()
            raise

    def _spawn(self, node: Node) -> None:
        node.store.mkdir(parents=True, exist_ok=True)
        args = [
            DAEMON,
            *("-a", "127.0.0.1", "-p", str(node.port), "-n", node.name),
            *("-m", str(node.http_port), "-js", "-sd", str(node.store)),
            *(
                (
                    "--cluster",
                    f"nats://127.0.0.1:{node.cluster_port}",
                    "--cluster_name",
                    self.name,
                    "--routes",
                    ",".join(node.routes),
                )
                if self.size > 1
                else ()
            ),
            *("-l", str(node.log)),
            *(("--user", self.auth[0], "--pass", self.auth[1]) if self.auth else ()),
        ]
        node.proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def kill(self, index: int) -> None:
        """SIGKILL node ``index`` (no goodbye to its peers) and reap it."""
        node = self.nodes[index]
        if node.proc is not None and node.proc.poll() is None:
            os.kill(node.proc.pid, signal.SIGKILL)
            node.proc.wait()
        node.proc = None

    async def restart(self, index: int, *, wipe: bool = False, wait: bool = True) -> None:
        """Start node ``index`` again (``wipe``: with an empty store directory).

        With ``wait``, returns once every running node sees a meta leader and
        the restarted node is one of its peers again.
        """
        node = self.nodes[index]
        self.kill(index)
        if wipe:
            shutil.rmtree(node.store, ignore_errors=True)
        self._spawn(node)
        if wait:
            await self.wait_ready()

    def stop(self) -> None:
        """Kill every node started here (by PID) and remove their directories."""
        for node in self.nodes:
            if node.proc is not None and node.proc.poll() is None:
                node.proc.terminate()
        for node in self.nodes:
            if node.proc is not None:
                try:
                    node.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    node.proc.kill()
                    node.proc.wait()
                node.proc = None
        shutil.rmtree(self._root, ignore_errors=True)

    # -- state ----------------------------------------------------------------------

    def _jsz(self, node: Node) -> dict[str, Any] | None:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{node.http_port}/jsz", timeout=1
            ) as reply:
                found: dict[str, Any] = json.loads(reply.read())
                return found
        except (OSError, urllib.error.URLError, ValueError):
            return None

    def _meta_ready(self) -> bool:
        running = [n for n in self.nodes if n.running]
        if self.size == 1:
            return all(self._jsz(n) is not None for n in running)
        leaders: set[str] = set()
        for node in running:
            info = self._jsz(node)
            meta = (info or {}).get("meta_cluster") or {}
            if not meta.get("leader"):
                return False
            leaders.add(meta["leader"])
        names = {n.name for n in running}
        return len(leaders) == 1 and leaders <= names

    async def wait_ready(self, limit: float | None = None) -> None:
        """Poll until every running node agrees on one running meta leader.

        Raises:
            TimeoutError: no agreed leader before the deadline (the logs are kept).
        """
        deadline = time.monotonic() + (limit or self.ready_timeout)
        while True:
            if await asyncio.to_thread(self._meta_ready):
                return
            if time.monotonic() >= deadline:
                raise TimeoutError(f"the NATS cluster in {self._root} elected no meta leader")
            await asyncio.sleep(0.05)  # polling interval of the deadline loop

    async def _admin(self, running: list[Node]) -> Client:
        user, password = self.auth if self.auth else (None, None)
        return await nats.connect(
            servers=[f"nats://{n.address}" for n in running],
            connect_timeout=2,
            user=user,
            password=password,
        )

    async def stream_leader(self, bucket: str, limit: float = 15.0) -> int:
        """The index of the node leading ``KV_<bucket>`` (waits while there is none)."""

        def leader(info: StreamInfo) -> int | None:
            name = info.cluster.leader if info.cluster else None
            return self.node_named(name).index if name else None

        return await self._poll_stream(bucket, leader, limit, "has no leader")

    async def wait_current(self, bucket: str, replicas: int, limit: float = 30.0) -> None:
        """Poll until ``KV_<bucket>`` has a leader and ``replicas - 1`` current followers."""

        def settled(info: StreamInfo) -> bool | None:
            cluster = info.cluster
            if not (cluster and cluster.leader):
                return None
            current = [r for r in cluster.replicas or [] if r.current and not r.offline]
            return True if len(current) >= replicas - 1 else None

        await self._poll_stream(bucket, settled, limit, f"did not get {replicas} current replicas")

    async def _poll_stream(
        self, bucket: str, check: Callable[[StreamInfo], T | None], limit: float, failure: str
    ) -> T:
        """Poll ``KV_<bucket>``'s info until ``check`` gives a value; ``TimeoutError`` after ``limit``."""
        deadline = time.monotonic() + limit
        running = [n for n in self.nodes if n.running]
        nc = await nats.connect(servers=[f"nats://{n.address}" for n in running], connect_timeout=2)
        try:
            js = nc.jetstream(timeout=2)
            while True:
                try:
                    found = check(await js.stream_info(f"KV_{bucket}"))
                    if found is not None:
                        return found
                except (nats.errors.Error, TimeoutError):
                    pass
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"KV_{bucket} {failure}")
                await asyncio.sleep(0.05)  # polling interval of the deadline loop
        finally:
            await nc.close()
