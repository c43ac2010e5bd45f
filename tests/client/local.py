"""A client connected to a fresh in-process ``LocalServer``, shared by the API tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from noex_client import ClientOptions, NoexClient, ReconnectOptions
from noex_client.testing import LocalServer

__all__ = ["USERS_BUCKET", "local_client"]

USERS_BUCKET: dict[str, Any] = {
    "name": "users",
    "key": "id",
    "schema": {
        "id": {"type": "string", "generated": "uuid"},
        "name": {"type": "string", "required": True},
        "role": {"type": "string", "default": "user"},
        "age": {"type": "number"},
    },
}

FAST = ReconnectOptions(initial_delay_ms=1, max_delay_ms=5, jitter_ms=1)


@asynccontextmanager
async def local_client(
    *,
    buckets: list[dict[str, Any]] | None = None,
    queries: dict[str, Any] | None = None,
    **options: Any,
) -> AsyncIterator[tuple[LocalServer, NoexClient]]:
    """Start a ``LocalServer`` (default: the ``users`` bucket and an ``all-users``
    query) and yield it with a connected client; both are closed afterwards."""
    server = LocalServer(
        buckets=[USERS_BUCKET] if buckets is None else buckets,
        queries={"all-users": {"type": "all", "bucket": "users"}} if queries is None else queries,
        **options,
    )
    async with server:
        client = NoexClient(
            server.url,
            ClientOptions(request_timeout_ms=5_000, connect_timeout_ms=5_000, reconnect=FAST),
        )
        await client.connect()
        try:
            yield server, client
        finally:
            await client.disconnect()
