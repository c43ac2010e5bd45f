"""Locks of ``nats://`` stores: one KV key per lock, changed by compare-and-set.

Each lock's FIFO queue is the value of one key of the bucket ``h-locks``
(after the store's ``prefix``; ``h-`` followed by a non-hex name is never a
collection's bucket, so ``collections()`` does not list it). The queue logic is
``adapters._lockqueue``: every change is a put with
``Nats-Expected-Last-Subject-Sequence``, time is the stream's message
timestamps (the server's clock, so clients' clocks may disagree), and waiters
are woken by a core subscription on the key's subject. The bucket keeps one
revision per key and is created where the collections' buckets are
(``Connection.ensure_bucket``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import nats.errors
import nats.js.errors

from ..._lease import Lease, LockService, Waker
from ..._lockqueue import QueueLease, Register, Snapshot
from ._conn import Connection
from ._kv import KV_OP, KVUnavailable, KVWriteError, WrongRevision, translate
from ._layout import encode_key

__all__ = ["LOCK_BUCKET", "NatsLocks"]

LOCK_BUCKET = "h-locks"

_FAILURES = (nats.errors.Error, nats.js.errors.Error, OSError, TimeoutError)


class _KeyRegister(Register):
    def __init__(self, service: NatsLocks, name: str) -> None:
        self._service = service
        self._name = name
        self._key = encode_key(name)
        self._bucket = service.bucket
        self._subject = f"$KV.{self._bucket}.{self._key}"

    async def read(self) -> Snapshot:
        conn = self._service.conn
        try:
            await self._service.ready()
        except _FAILURES as exc:
            raise translate(conn.url, exc, self._bucket, self._name) from exc
        try:
            msg = await conn.js.get_last_msg(f"KV_{self._bucket}", self._subject)
        except nats.js.errors.NotFoundError:
            return Snapshot(None, 0, 0.0)
        except _FAILURES as exc:
            raise translate(conn.url, exc, self._bucket, self._name) from exc
        deleted = (msg.headers or {}).get(KV_OP) in ("DEL", "PURGE")
        stamp = msg.time.timestamp() if msg.time is not None else 0.0
        return Snapshot(None if deleted else msg.data or b"", msg.seq or 0, stamp)

    async def write(self, value: bytes | None, expected: int) -> bool:
        conn = self._service.conn
        try:
            await conn.publisher.write(
                self._bucket,
                self._key,
                b"" if value is None else value,
                expected=expected,
                op="DEL" if value is None else None,
            )
        except WrongRevision:
            return False
        except (KVUnavailable, KVWriteError, *_FAILURES) as exc:
            raise translate(conn.url, exc, self._bucket, self._name) from exc
        return True

    def watch(self, waker: Waker) -> AbstractAsyncContextManager[None]:
        return self._watch(waker)

    @asynccontextmanager
    async def _watch(self, waker: Waker) -> AsyncIterator[None]:
        conn = self._service.conn

        async def changed(_msg: Any) -> None:
            waker.wake()

        try:
            sub = await conn.nc.subscribe(self._subject, cb=changed)
        except _FAILURES as exc:
            raise translate(conn.url, exc, self._bucket, self._name) from exc
        try:
            yield
        finally:
            with contextlib.suppress(*_FAILURES):
                await sub.unsubscribe()


class NatsLocks(LockService):
    """The locks of a NATS store."""

    def __init__(self, url: str, conn: Connection) -> None:
        super().__init__(url, "nats")
        self.conn = conn
        self.bucket = conn.bucket(LOCK_BUCKET)

    async def ready(self) -> None:
        """Bind or create the lock bucket (once per connection)."""
        await self.conn.ensure_bucket(self.bucket, history=1)

    def lease(self, name: str, ttl: float) -> Lease:
        return QueueLease(self, name, ttl, _KeyRegister(self, name))
