"""Servers for the compatibility tier: LocalServer where it serves a group, the
recorded-transcript replay server where it cannot yet (identity, audit,
procedures), and scripted ``logic.md`` frames for the logic engine.

Clients are created exactly as code written for the published client creates
them: ``NoexClient(url)`` or ``NoexClient(url, ClientOptions(...))``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from noex_client import ClientOptions, NoexClient, ReconnectOptions
from noex_client.testing import LocalServer
from tests.client.replay_server import ReplayServer, replay_client
from tests.transcripts import load

__all__ = ["FAST", "USERS", "local", "replay"]

USERS: dict[str, Any] = {
    "name": "users",
    "key": "id",
    "schema": {
        "id": {"type": "string", "generated": "uuid"},
        "name": {"type": "string"},
        "role": {"type": "string"},
        "age": {"type": "number"},
    },
}
QUERIES: dict[str, Any] = {
    "all-users": {"type": "all", "bucket": "users"},
    "users-by-role": {"type": "where", "bucket": "users", "field": "role"},
}

#: Millisecond backoff, so that the lifecycle tests do not wait on the defaults.
FAST = ReconnectOptions(initial_delay_ms=5, max_delay_ms=20, jitter_ms=0)


@asynccontextmanager
async def local(
    options: ClientOptions | None = None, *, connect: bool = True, **server: Any
) -> AsyncIterator[tuple[LocalServer, NoexClient]]:
    """A fresh LocalServer (a ``users`` bucket, ``all-users`` and ``users-by-role``
    queries, a rule engine) and a client for it, connected unless ``connect=False``."""
    server.setdefault("buckets", [USERS])
    server.setdefault("queries", QUERIES)
    async with LocalServer(**server) as running:
        client = NoexClient(running.url, options)
        if connect:
            await client.connect()
        try:
            yield running, client
        finally:
            await client.disconnect()


def replay(
    name: str, conn: str = "A", options: ClientOptions | None = None, *, start: int = 0
) -> AbstractAsyncContextManager[tuple[ReplayServer, NoexClient]]:
    """A client connected to connection ``conn`` of the recorded transcript ``name``,
    from recorded ``seq`` ``start`` on.

    The replay server answers only requests recorded from the real server, so
    every call must send exactly the recorded frame; nothing unrecorded may be sent.
    """
    return replay_client(load(name), conn, options, start=start)
