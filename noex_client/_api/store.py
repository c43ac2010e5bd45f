"""``StoreAPI``: buckets and reactive query subscriptions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._events import Unsubscribe
from ._base import Requester
from .bucket import BucketAPI

__all__ = ["StoreAPI"]


class StoreAPI:
    """Store operations; access it as ``client.store``."""

    __slots__ = ("_client",)

    def __init__(self, client: Requester) -> None:
        self._client = client

    def bucket(self, name: str) -> BucketAPI:
        """A handle for the bucket ``name`` (no request is made)."""
        return BucketAPI(self._client, name)

    async def subscribe(
        self, query: str, callback: Callable[[Any], Any], params: Any = None
    ) -> Unsubscribe:
        """Subscribe to the server-side query ``query``.

        ``callback(data)`` gets the initial result, every pushed result, and a
        fresh result after every reconnect. Returns a **synchronous**
        unsubscribe callable.

        Raises:
            DisconnectedError: Not connected.
            QueryNotDefinedError: No such query.
            RateLimitedError: Subscription limit reached.
        """
        sub = await self._client._subscriptions.open(
            "store.subscribe",
            {"query": query, "params": params},
            unsubscribe_op="store.unsubscribe",
            on_result=lambda result: callback(result.get("data")),
            on_push=callback,
        )
        return sub.close

    async def unsubscribe(self, subscription_id: str) -> None:
        """Cancel a subscription by its server-assigned id.

        Raises:
            NotFoundError: The server knows no such store subscription.
        """
        for sub in self._client._subscriptions.active():
            if sub.server_id == subscription_id and sub.op == "store.subscribe":
                self._client._subscriptions.close(sub)
                return
        await self._client.request("store.unsubscribe", subscriptionId=subscription_id)
