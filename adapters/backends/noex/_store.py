"""``NoexStore``: one ``NoexClient`` connection, bucket definitions and the write lock."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Final, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from noex_client import (
    AlreadyExistsError,
    AuthOptions,
    BucketNotDefinedError,
    ClientOptions,
    ConflictError,
    DisconnectedError,
    ForbiddenError,
    InternalServerError,
    NoexClient,
    NoexClientError,
    QueryNotDefinedError,
    RequestTimeoutError,
    UnauthorizedError,
)

from ..._collection import Collection
from ..._errors import AdapterError, BackendUnavailable
from ..._store import Store

__all__ = ["LOCK_BUCKET", "RESERVED_PREFIX", "NoexStore", "open_store"]

T = TypeVar("T")

RESERVED_PREFIX: Final = "_adapters."
LOCK_BUCKET: Final = "_adapters.locks"
WATCH_PREFIX: Final = "_adapters.watch."

_LOCK_TTL: Final = "30s"
_COLLECTION_CONFIG: Final[dict[str, Any]] = {
    "key": "key",
    "schema": {
        "key": {"type": "string", "required": True},
        "doc": {"type": "object", "required": True},
    },
}
_LOCK_CONFIG: Final[dict[str, Any]] = {
    "key": "key",
    "schema": {"key": {"type": "string", "required": True}, "owner": {"type": "string"}},
    "ttl": _LOCK_TTL,
}


def is_undefined_bucket(exc: NoexClientError) -> bool:
    """Whether ``exc`` says a bucket is not defined (plain op or inside a transaction)."""
    if isinstance(exc, BucketNotDefinedError):
        return True
    return isinstance(exc, InternalServerError) and "is not defined" in exc.message


class NoexStore(Store):
    """A store over one noex-server connection (see the package docstring).

    States: *open* after :func:`open_store` connected; *closed* after ``close()``.
    """

    def __init__(self, url: str, client: NoexClient, lock_timeout_s: float) -> None:
        super().__init__(url)
        self._client = client
        self._lock_timeout_s = lock_timeout_s
        self._defined: set[str] = set()
        self._queries: set[str] = set()
        self._local_locks: dict[str, asyncio.Lock] = {}
        self._owner = uuid.uuid4().hex
        self._state_changed = asyncio.Event()
        for event in ("reconnected", "disconnected"):
            client.on(event, self._on_state)

    def _on_state(self, *_args: Any) -> None:
        self._state_changed.set()
        self._state_changed = asyncio.Event()

    async def _wait_reconnected(self) -> None:
        """While the client reconnects, wait (up to the request timeout) for it."""
        timeout_s = self._client.options.request_timeout_ms / 1000.0
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                while self._client.state in ("reconnecting", "connecting"):
                    await self._state_changed.wait()

    def _make_collection(
        self,
        name: str,
        model: type[Any] | None,
        indexes: tuple[str, ...],
        unique: tuple[str, ...],
    ) -> Collection[Any]:
        from ._collection import NoexCollection

        if name.startswith(RESERVED_PREFIX):
            raise ValueError(f"collection names starting with {RESERVED_PREFIX!r} are reserved")
        return NoexCollection(self, name, model, indexes, unique)

    # -- the request path ---------------------------------------------------------

    async def call(self, what: str, make: Callable[[], Awaitable[T]]) -> T:
        """Await ``make()`` (a ``noex_client`` call); connection problems become
        :class:`~adapters.BackendUnavailable` naming ``what``.

        While the client reconnects, the call waits for it (up to the request
        timeout) instead of failing at once. Server errors are re-raised as
        ``noex_client`` errors for the caller to map (see :meth:`unexpected`).
        """
        self._check_open()
        if self._client.state != "connected":
            await self._wait_reconnected()
        try:
            return await make()
        except (DisconnectedError, RequestTimeoutError) as exc:
            raise BackendUnavailable(self.url, f"{what}: {exc.message or exc.code}") from exc

    def unexpected(self, exc: NoexClientError) -> AdapterError:
        """Translate a server error no caller expected."""
        if isinstance(exc, UnauthorizedError | ForbiddenError):
            return BackendUnavailable(self.url, f"not allowed: {exc.message}")
        return AdapterError(f"noex-server error {exc.code}: {exc.message}")

    # -- buckets and queries ------------------------------------------------------------

    async def ensure_bucket(self, name: str, *, fresh: bool = False) -> None:
        """Define the bucket ``name`` unless this store already knows it exists."""
        api = self._client.store
        if fresh:
            self._defined.discard(name)
        if name in self._defined:
            return
        config = _LOCK_CONFIG if name == LOCK_BUCKET else _COLLECTION_CONFIG
        try:
            await self.call("defineBucket", lambda: api.define_bucket(name, config))
        except AlreadyExistsError:
            pass
        except NoexClientError as exc:
            raise self.unexpected(exc) from exc
        self._defined.add(name)

    async def ensure_watch_query(self, bucket: str) -> str:
        """Define the declarative query returning the whole bucket; return its name."""
        api = self._client.store
        name = WATCH_PREFIX + bucket
        if name not in self._queries:
            await self.ensure_bucket(bucket)
            try:
                await self.call("defineQuery", lambda: api.define_query(name, {"bucket": bucket}))
            except AlreadyExistsError:
                pass
            except NoexClientError as exc:
                raise self.unexpected(exc) from exc
            self._queries.add(name)
        return name

    @property
    def client(self) -> NoexClient:
        """The underlying connection."""
        return self._client

    # -- the per-collection write lock ------------------------------------------------------

    @contextlib.asynccontextmanager
    async def write_lock(self, bucket: str) -> AsyncIterator[dict[str, Any]]:
        """Hold the write lock of ``bucket``; yields the transaction op that releases it.

        Put the yielded op into the transaction that commits the write. If the
        block fails, the lock is released with a separate request.

        Raises:
            BackendUnavailable: the lock stayed taken past ``lock_timeout_s``.
        """
        api = self._client.store
        local = self._local_locks.setdefault(bucket, asyncio.Lock())
        async with local:
            await self._acquire(bucket)
            release = {"op": "delete", "bucket": LOCK_BUCKET, "key": bucket}
            try:
                yield release
            except BaseException:
                with contextlib.suppress(AdapterError, NoexClientError):
                    await self.call("delete", lambda: api.bucket(LOCK_BUCKET).delete(bucket))
                raise

    async def _acquire(self, bucket: str) -> None:
        api = self._client.store
        deadline = time.monotonic() + self._lock_timeout_s
        delay = 0.001
        op = {"op": "insert", "bucket": LOCK_BUCKET, "data": {"key": bucket, "owner": self._owner}}
        while True:
            await self.ensure_bucket(LOCK_BUCKET)
            try:
                await self.call("transaction", lambda: api.transaction([op]))
                return
            except ConflictError:
                pass
            except NoexClientError as exc:
                if not is_undefined_bucket(exc):
                    raise self.unexpected(exc) from exc
                self._defined.discard(LOCK_BUCKET)
                continue
            if time.monotonic() >= deadline:
                raise BackendUnavailable(
                    self.url, f"the write lock of collection {bucket!r} stayed taken"
                )
            # Another writer holds the lock: back off briefly (with jitter so
            # contenders do not retry in lockstep) and try again.
            await asyncio.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 0.05)

    # -- Store primitives ---------------------------------------------------------------

    async def _collections(self) -> list[str]:
        api = self._client.store
        try:
            stats = await self.call("stats", api.stats)
        except NoexClientError as exc:
            raise self.unexpected(exc) from exc
        per_bucket: dict[str, Any] = stats.get("records", {}).get("perBucket", {})
        return [
            name
            for name, count in per_bucket.items()
            if count and not name.startswith(RESERVED_PREFIX)
        ]

    async def _drop(self, name: str) -> bool:
        api = self._client.store
        try:
            count = await self.call("count", api.bucket(name).count)
            await self.call("dropBucket", lambda: api.drop_bucket(name))
        except NoexClientError as exc:
            if is_undefined_bucket(exc):
                self._defined.discard(name)
                return False
            raise self.unexpected(exc) from exc
        self._defined.discard(name)
        query = WATCH_PREFIX + name
        self._queries.discard(query)
        with contextlib.suppress(QueryNotDefinedError):
            await self.call("undefineQuery", lambda: api.undefine_query(query))
        return bool(count)

    async def _close(self) -> None:
        await self._client.disconnect()


def _split_token(url: str) -> tuple[str, str | None]:
    """Remove a ``token`` query parameter from ``url``; return (url, token)."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    token = next((v for k, v in pairs if k == "token"), None)
    query = urlencode([(k, v) for k, v in pairs if k != "token"])
    return urlunsplit(parts._replace(query=query)), token


async def open_store(
    url: str,
    *,
    token: str | None = None,
    client_options: ClientOptions | None = None,
    lock_timeout_s: float = 40.0,
) -> Store:
    """Connect to the noex-server at ``url`` and return a store.

    Args:
        url: ``ws://host:port`` or ``wss://host:port`` (``?token=`` logs in).
        token: Token for ``auth.login`` (overrides the URL's).
        client_options: Options for the underlying :class:`noex_client.NoexClient`.
        lock_timeout_s: How long a write waits for a collection's write lock.

    Raises:
        BackendUnavailable: the server cannot be reached or rejected the login.
    """
    dial, url_token = _split_token(url)
    token = token if token is not None else url_token
    options = client_options if client_options is not None else ClientOptions()
    if token is not None:
        options = dataclasses.replace(options, auth=AuthOptions(token=token))
    client = NoexClient(dial, options)
    store = NoexStore(url, client, lock_timeout_s)
    try:
        await client.connect()
    except (NoexClientError, OSError) as exc:
        await client.disconnect()
        raise BackendUnavailable(
            store.url, str(getattr(exc, "message", "")) or type(exc).__name__
        ) from exc
    return store
