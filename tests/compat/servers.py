"""Servers for the compatibility tier: LocalServer, the recorded-transcript
replay server, and scripted ``logic.md`` frames.

Where a recording exists (identity, audit, procedures), a test runs the same
calls against both: :func:`session` with ``kind="replay"`` answers with the
real server's recorded frames, ``kind="local"`` with a LocalServer started
with that recording's server config. Clients are created exactly as code
written for the published client creates them: ``NoexClient(url)`` or
``NoexClient(url, ClientOptions(...))``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from noex_client import ClientOptions, NoexClient, ReconnectOptions
from noex_client.testing import LocalServer
from tests.client.replay_server import ReplayServer, replay_client
from tests.transcripts import load

__all__ = ["FAST", "KINDS", "USERS", "Prepare", "local", "replay", "session"]

#: The two servers a recorded group is checked against.
KINDS = ("replay", "local")
#: Brings a fresh LocalServer to a recorded state (through an admin client that
#: is already logged in when the server needs it); returns the ids it created.
Prepare = Callable[[NoexClient], Awaitable[dict[str, str]]]

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


@asynccontextmanager
async def session(
    kind: str,
    name: str,
    conn: str = "A",
    options: ClientOptions | None = None,
    *,
    start: int = 0,
    recorded: dict[str, str] | None = None,
    prepare: Prepare | None = None,
    secret: str | None = None,
) -> AsyncIterator[tuple[NoexClient, dict[str, str]]]:
    """A connected client and the ids it works with, on either server.

    ``replay``: connection ``conn`` of the recording ``name`` from ``seq``
    ``start`` on; the ids are ``recorded``. ``local``: a LocalServer started
    with the recording's first server config, brought to the recorded state by
    ``prepare`` (whose ids are returned), and a client logged in with the
    admin ``secret`` when given (the state of a recorded connection that is).
    """
    if kind == "replay":
        async with replay(name, conn, options, start=start) as (_server, client):
            yield client, dict(recorded or {})
        return
    assert kind == "local", kind
    config = load(name).server_configs[0]["config"]
    async with LocalServer.from_config(config) as server:
        ids: dict[str, str] = {}
        if prepare is not None:
            async with NoexClient(server.url) as admin:
                ids = await prepare(admin)
        client = NoexClient(server.url, options or ClientOptions(reconnect=False))
        await client.connect()
        try:
            if secret is not None:
                await client.identity.login_with_secret(secret)
            yield client, ids
        finally:
            await client.disconnect()
