"""Fixtures for the in-process server tests: a server and raw client connections."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from noex_client.testing import LocalServer

USERS = {
    "name": "users",
    "schema": {
        "name": {"type": "string", "required": True},
        "role": {"type": "string", "default": "user"},
        "age": {"type": "number"},
    },
}


class Client:
    """A raw WebSocket client that numbers its requests.

    Pushes that arrive while :meth:`request` waits for its response are kept
    in :attr:`pushes`, in arrival order.
    """

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self._next_id = 0
        self.pushes: list[dict[str, Any]] = []

    async def recv(self) -> dict[str, Any]:
        """The next frame, skipping server pings."""
        while True:
            frame = json.loads(await self.ws.recv())
            assert isinstance(frame, dict)
            if frame.get("type") != "ping":
                return frame

    async def request(self, op: str, **fields: Any) -> dict[str, Any]:
        """Send a request and return its response (the next non-push frame)."""
        self._next_id += 1
        await self.ws.send(json.dumps({"id": self._next_id, "type": op, **fields}))
        while True:
            frame = await self.recv()
            if frame.get("type") in ("result", "error"):
                assert frame["id"] == self._next_id
                return frame
            if frame.get("type") == "push":
                self.pushes.append(frame)

    async def ok(self, op: str, **fields: Any) -> Any:
        """Send a request that must succeed; return its ``data``."""
        frame = await self.request(op, **fields)
        assert frame["type"] == "result", frame
        return frame.get("data")

    async def error(self, op: str, **fields: Any) -> dict[str, Any]:
        """Send a request that must fail; return the error frame."""
        frame = await self.request(op, **fields)
        assert frame["type"] == "error", frame
        return frame


ClientFactory = Callable[[LocalServer], Awaitable[Client]]


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    """A server with a ``users`` bucket and an ``all-users`` query."""
    async with LocalServer(
        buckets=[USERS], queries={"all-users": {"type": "all", "bucket": "users"}}
    ) as srv:
        yield srv


@pytest.fixture
async def client_factory() -> AsyncIterator[ClientFactory]:
    """Opens clients (welcome consumed) and closes them at the end."""
    opened: list[ClientConnection] = []

    async def make(srv: LocalServer) -> Client:
        ws = await connect(srv.url, ping_interval=None)
        opened.append(ws)
        welcome = json.loads(await ws.recv())
        assert welcome["type"] == "welcome"
        return Client(ws)

    try:
        yield make
    finally:
        for ws in opened:
            await ws.close()


@pytest.fixture
async def client(server: LocalServer, client_factory: ClientFactory) -> Client:
    """One client of ``server``."""
    return await client_factory(server)
