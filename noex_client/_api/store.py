"""``StoreAPI``: buckets, reactive query subscriptions, transactions and administration."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar, overload

import msgspec

from .._events import Unsubscribe
from .._subscriptions import SubscriptionManager
from .._watch import Watch
from ._base import Requester, initial_data, require_text
from .bucket import BucketAPI
from .typed_bucket import TypedBucketAPI

__all__ = ["StoreAPI"]

S = TypeVar("S", bound=msgspec.Struct)


class StoreAPI:
    """Store operations; access it as ``client.store``.

    Every request method raises :class:`~noex_client.DisconnectedError` when
    not connected, :class:`~noex_client.RequestTimeoutError` on timeout and
    the server's error otherwise. Administration (``define_bucket`` …
    ``list_queries``) needs the admin tier when the server uses auth
    (:class:`~noex_client.ForbiddenError` otherwise).
    """

    __slots__ = ("_client", "_subscriptions")

    def __init__(self, client: Requester, subscriptions: SubscriptionManager) -> None:
        self._client = client
        self._subscriptions = subscriptions

    def __repr__(self) -> str:
        return "StoreAPI()"

    @overload
    def bucket(self, name: str) -> BucketAPI: ...
    @overload
    def bucket(self, name: str, model: type[S]) -> TypedBucketAPI[S]: ...
    def bucket(self, name: str, model: type[S] | None = None) -> BucketAPI | TypedBucketAPI[S]:
        """A handle for the bucket ``name`` (no request is made).

        Args:
            name: The bucket name.
            model: A ``msgspec.Struct`` type: the handle then returns and
                accepts instances of it (:class:`TypedBucketAPI`).

        Raises:
            TypeError: ``name`` is not a string or ``model`` is not a Struct type.
            ValueError: ``name`` is empty.
        """
        bucket = BucketAPI(self._client, require_text(name, "bucket name"))
        if model is None:
            return bucket
        if not (isinstance(model, type) and issubclass(model, msgspec.Struct)):
            raise TypeError(f"model must be a msgspec.Struct subclass, got {model!r}")
        return TypedBucketAPI(bucket, model)

    # -- subscriptions ---------------------------------------------------------------------

    async def subscribe(
        self, query: str, callback: Callable[[Any], Any], params: Any = None
    ) -> Unsubscribe:
        """Subscribe to the server-side query ``query``.

        ``callback(data)`` gets the initial result, every pushed result (the
        whole new result, never a diff), and a fresh result after every
        reconnect. If it raises on the initial result, the subscription is
        cancelled and ``subscribe`` re-raises; later, a callback that raises
        is isolated: the exception goes to the ``error`` event and the log,
        other subscriptions are unaffected. It may be a coroutine function.
        Returns a **synchronous** unsubscribe callable.

        Raises:
            DisconnectedError: Not connected.
            QueryNotDefinedError: No such query.
            RateLimitedError: Subscription limit reached.
            Exception: What ``callback`` raised on the initial result.
        """
        sub = await self._subscriptions.open(
            "store.subscribe",
            {"query": query, "params": params},
            unsubscribe_op="store.unsubscribe",
            on_result=lambda result: callback(initial_data(result)),
            on_push=callback,
        )
        return sub.close

    def watch(self, query: str, params: Any = None, *, buffer_size: int = 16) -> Watch[Any]:
        """Iterate over the results of ``query``: ``async with store.watch(q) as updates``.

        Yields the initial result, then every new result. When the consumer
        falls ``buffer_size`` results behind, the oldest unread result is
        dropped (the latest is always kept).

        Raises:
            ValueError: ``buffer_size`` is not positive.
            DisconnectedError: On entry, when not connected.
            QueryNotDefinedError: On entry, the query is not defined.
            RateLimitedError: On entry, when the server rate-limits the client.
        """

        return self._subscriptions.watch(
            "store.subscribe",
            {"query": query, "params": params},
            unsubscribe_op="store.unsubscribe",
            initial=initial_data,
            buffer_size=buffer_size,
            overflow="keep_latest",
            what=f"store query {query!r}",
        )

    async def unsubscribe(self, subscription_id: str) -> None:
        """Cancel a subscription by its server-assigned id.

        Raises:
            NotFoundError: The server knows no such store subscription.
        """
        await self._subscriptions.unsubscribe_by_id(
            "store.subscribe", "store.unsubscribe", subscription_id
        )

    # -- transactions ----------------------------------------------------------------------

    async def transaction(self, operations: list[dict[str, Any]]) -> dict[str, Any]:
        """Run ``operations`` atomically; returns ``{"results": [{"index", "data"}, ...]}``.

        Each operation is ``{"op", "bucket", "key"?, "data"?, "filter"?}`` with
        ``op`` one of get, insert, update, delete, where, findOne, count.

        Raises:
            ValidationError: A malformed operation (the message names its index).
            ConflictError: A concurrent change or an insert of an existing key.
            InternalServerError: Unknown bucket or update of a missing key.
        """
        result: dict[str, Any] = await self._client.request(
            "store.transaction", operations=operations
        )
        return result

    # -- administration ----------------------------------------------------------------------

    async def define_bucket(self, name: str, config: dict[str, Any]) -> dict[str, Any]:
        """Define bucket ``name`` (``config``: ``{"key", "schema", "indexes"?, ...}``).

        Returns ``{"name", "created": True}``.

        Raises:
            AlreadyExistsError: The bucket exists.
            InternalServerError: The definition is invalid (e.g. unknown key field).
        """
        result: dict[str, Any] = await self._client.request(
            "store.defineBucket", name=name, config=config
        )
        return result

    async def update_bucket(self, name: str, updates: dict[str, Any]) -> dict[str, Any]:
        """Change bucket ``name``: ``{"addFields"?: {...}, "addIndexes"?: [...], "ttl"?: ...}``.

        The published client documented ``{"schema": {...}}`` here; that shape
        is translated to the wire's ``addFields`` (and ``indexes`` to
        ``addIndexes``) so such code keeps working. Returns ``{"name", "updated": True}``.

        Raises:
            BucketNotDefinedError: No such bucket.
            InternalServerError: A field exists already or an index field is unknown.
        """
        wire = dict(updates)
        if "schema" in wire and "addFields" not in wire:
            wire["addFields"] = wire.pop("schema")
        if "indexes" in wire and "addIndexes" not in wire:
            wire["addIndexes"] = wire.pop("indexes")
        result: dict[str, Any] = await self._client.request(
            "store.updateBucket", name=name, updates=wire
        )
        return result

    async def get_bucket_schema(self, name: str) -> dict[str, Any]:
        """``{"name", "config"}``: the definition as stored.

        Raises:
            BucketNotDefinedError: No such bucket.
        """
        result: dict[str, Any] = await self._client.request("store.getBucketSchema", name=name)
        return result

    async def drop_bucket(self, name: str) -> dict[str, Any]:
        """Drop bucket ``name`` and its records; returns ``{"name", "dropped": True}``.

        Raises:
            BucketNotDefinedError: No such bucket.
        """
        result: dict[str, Any] = await self._client.request("store.dropBucket", name=name)
        return result

    async def define_query(self, name: str, config: Mapping[str, Any]) -> dict[str, Any]:
        """Define a declarative query: ``{"bucket", "filter"?, "sort"?, "limit"?, ...}``.

        String values ``"{{ params.x }}"`` are replaced by subscribe params.
        Returns ``{"name", "defined": True}``.

        Raises:
            BucketNotDefinedError: ``config["bucket"]`` is unknown.
            AlreadyExistsError: The query exists.
        """
        result: dict[str, Any] = await self._client.request(
            "store.defineQuery", name=name, config=dict(config)
        )
        return result

    async def undefine_query(self, name: str) -> dict[str, Any]:
        """Remove query ``name``; its subscriptions stop silently.

        Raises:
            QueryNotDefinedError: No such query.
        """
        result: dict[str, Any] = await self._client.request("store.undefineQuery", name=name)
        return result

    async def list_queries(self) -> dict[str, Any]:
        """``{"queries": [{"name", "type", "activeSubscriptions", "config"?}]}``."""
        result: dict[str, Any] = await self._client.request("store.listQueries")
        return result

    # -- metadata --------------------------------------------------------------------------

    async def buckets(self) -> dict[str, Any]:
        """``{"count", "names"}`` of the defined buckets."""
        result: dict[str, Any] = await self._client.request("store.buckets")
        return result

    async def stats(self) -> dict[str, Any]:
        """Store statistics (records, indexes, queries, persistence, ttl)."""
        result: dict[str, Any] = await self._client.request("store.stats")
        return result
