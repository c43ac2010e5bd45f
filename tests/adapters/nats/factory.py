"""The NATS entry of the contract suite: fresh prefixed buckets on the real server."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import adapters
from adapters.backends.nats import NatsStore

__all__ = ["NATS_URL", "fresh_url", "nats_backend", "nats_url"]

NATS_URL = "nats://127.0.0.1:4222"


def nats_url(**options: str) -> str:
    """A store URL with a unique bucket prefix (plus ``options``)."""
    query = {"namespace": "tests", "prefix": f"t{uuid.uuid4().hex[:10]}_", **options}
    return NATS_URL + "?" + "&".join(f"{k}={v}" for k, v in query.items())


@contextlib.asynccontextmanager
async def fresh_url(**options: str) -> AsyncIterator[str]:
    """Yield a store URL on a fresh bucket prefix (plus ``options``); drop its buckets after."""
    url = nats_url(**options)
    try:
        yield url
    finally:
        async with adapters.connect(url) as store:
            assert isinstance(store, NatsStore)
            await store.drop_buckets()


@contextlib.asynccontextmanager
async def nats_backend() -> AsyncIterator[
    Callable[..., AbstractAsyncContextManager[adapters.Store]]
]:
    """Yield an opener of stores on one fresh bucket prefix; drop its buckets afterwards."""
    async with fresh_url() as url:

        def opener(**options: Any) -> AbstractAsyncContextManager[adapters.Store]:
            return adapters.connect(url, **options)

        yield opener
