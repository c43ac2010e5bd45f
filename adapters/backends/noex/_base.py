"""``NoexBase``: what a noex store's collections share — the connection, buckets, the write lock.

Every request goes through :meth:`NoexBase.call`; server errors are translated
by their code (``adapters._translate``). A transaction that touches a bucket
another store dropped fails with ``INTERNAL_ERROR``; :meth:`NoexBase.transact`
then asks the server whether one of its buckets is undefined (defining it is
idempotent: ``ALREADY_EXISTS`` says it was there) and retries once.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Final, TypeVar

from noex_client import AlreadyExistsError, ConflictError, NoexClient, NoexClientError

from ..._errors import AdapterError, BackendUnavailable
from ..._store import Store
from ..._translate import ErrorKind, error_for, noex_kind

__all__ = ["LOCK_BUCKET", "RESERVED_PREFIX", "WATCH_PREFIX", "NoexBase", "is_undefined"]

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


def is_undefined(exc: NoexClientError) -> bool:
    """Whether a plain (non-transaction) request failed because its bucket is not defined."""
    return exc.code == "BUCKET_NOT_DEFINED"


class NoexBase(Store):
    """The connection services of a noex store (see the package docstring).

    States: *open* after ``open_store`` connected; *closed* after ``close()``.
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

    @property
    def client(self) -> NoexClient:
        """The underlying connection."""
        return self._client

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

    # -- the request path ---------------------------------------------------------

    async def call(self, what: str, make: Callable[[], Awaitable[T]]) -> T:
        """Await ``make()`` (a ``noex_client`` call); connection problems become
        :class:`~adapters.BackendUnavailable` naming ``what``.

        While the client reconnects, the call waits for it (up to the request
        timeout) instead of failing at once. Other server errors are re-raised
        as ``noex_client`` errors for the caller to handle or :meth:`translate`.
        """
        self._check_open()
        if self._client.state != "connected":
            await self._wait_reconnected()
        try:
            return await make()
        except NoexClientError as exc:
            if noex_kind(exc.code) is ErrorKind.UNAVAILABLE:
                raise self.translate(exc, what=what) from exc
            raise

    def translate(
        self, exc: NoexClientError, *, what: str = "", collection: str = "", key: str | None = None
    ) -> AdapterError:
        """The adapters error for a server error, by its code."""
        detail = exc.message or exc.code
        reason = f"{what}: {detail}" if what else f"{exc.code}: {detail}"
        return error_for(
            noex_kind(exc.code),
            backend="noex",
            code=exc.code,
            url=self.url,
            reason=reason,
            collection=collection,
            key=key,
        )

    async def transact(self, ops: list[dict[str, Any]], buckets: tuple[str, ...]) -> list[Any]:
        """Run one transaction over ``buckets``; the ``data`` of each result.

        A bucket another store dropped is defined again and the transaction
        retried once. ``CONFLICT`` is re-raised as ``noex_client``'s
        ``ConflictError`` for the caller to interpret.
        """
        api = self._client.store
        for bucket in buckets:
            await self.ensure_bucket(bucket)
        for attempt in (1, 2):
            try:
                result = await self.call("transaction", lambda: api.transaction(ops))
            except ConflictError:
                raise
            except NoexClientError as exc:
                if attempt == 1 and exc.code == "INTERNAL_ERROR" and await self._redefine(buckets):
                    continue
                raise self.translate(exc, what="transaction") from exc
            return [entry.get("data") for entry in result.get("results", [])]
        raise AssertionError("unreachable")  # pragma: no cover

    async def _redefine(self, buckets: tuple[str, ...]) -> bool:
        """Define ``buckets`` anew; whether any of them was missing."""
        missing = False
        for bucket in buckets:
            self._defined.discard(bucket)
            missing = not await self.ensure_bucket(bucket) or missing
        return missing

    # -- buckets and queries ------------------------------------------------------------

    async def ensure_bucket(self, name: str) -> bool:
        """Define the bucket ``name`` unless this store knows it exists; whether it existed."""
        if name in self._defined:
            return True
        api = self._client.store
        config = _LOCK_CONFIG if name == LOCK_BUCKET else _COLLECTION_CONFIG
        existed = False
        try:
            await self.call("defineBucket", lambda: api.define_bucket(name, config))
        except AlreadyExistsError:
            existed = True
        except NoexClientError as exc:
            raise self.translate(exc, what="defineBucket") from exc
        self._defined.add(name)
        return existed

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
                raise self.translate(exc, what="defineQuery") from exc
            self._queries.add(name)
        return name

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
        deadline = time.monotonic() + self._lock_timeout_s
        delay = 0.001
        op = {"op": "insert", "bucket": LOCK_BUCKET, "data": {"key": bucket, "owner": self._owner}}
        while True:
            try:
                await self.transact([op], (LOCK_BUCKET,))
                return
            except ConflictError:
                pass
            if time.monotonic() >= deadline:
                # A lock nobody releases (its holder is stalled or gone), not a lost race.
                raise BackendUnavailable(
                    self.url, f"the write lock of collection {bucket!r} stayed taken"
                )
            # Another writer holds the lock: back off briefly (with jitter so
            # contenders do not retry in lockstep) and try again.
            await asyncio.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 0.05)
