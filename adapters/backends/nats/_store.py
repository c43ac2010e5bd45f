"""``NatsStore`` and ``open_store``: one NATS connection, one core per collection."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import nats.errors
import nats.js.errors

from ..._errors import BackendUnavailable
from ..._store import Store
from ._base import NatsBase
from ._collection import NatsCollection
from ._conn import Connection, parse_url
from ._feed import BucketFeed
from ._kv import Event
from ._layout import bucket_collection, collection_bucket
from ._lock import NatsLocks

__all__ = ["NatsStore", "open_store"]

logger = logging.getLogger("adapters")

# Buckets that belong to a collection without being one (brainlessdb's naming).
_NOT_A_COLLECTION = re.compile(r"(-State|-[A-Z][A-Za-z0-9_]*Local|-Unique)\Z|\Abrainless_")


class NatsStore(NatsBase):
    """A store over NATS JetStream KV in brainlessdb's layout (see the package docs)."""

    collection_class = NatsCollection

    async def flush(self) -> None:
        """Wait until every write issued so far is durable (or has failed).

        Also sends a batch held back by ``flush_interval`` at once. Safe to call at
        any time, including while a scheduled batch is being sent.
        """
        publisher = self._conn.publisher
        publisher.eager += 1
        try:
            await publisher.flush()
            # Operations already started but not yet at the publisher write eagerly now.
            while self._ops:
                await asyncio.wait(list(self._ops))
        finally:
            publisher.eager -= 1

    async def drop_buckets(self) -> int:
        """Delete every bucket whose name starts with this store's ``prefix``.

        Meant for cleaning up isolated (prefixed) data, e.g. after tests.

        Raises:
            ValueError: the store has no prefix (that would hit shared buckets).
            BackendUnavailable: NATS cannot be reached.
        """
        self._check_open()
        prefix = self._conn.options.prefix
        if not prefix:
            raise ValueError("drop_buckets() needs a store opened with a prefix")
        for core in self._cores.values():
            await core.close()
            core.mirror.reset()
        try:
            names = [
                (info.config.name or "")[3:]
                for info in await self._conn.js.streams_info()
                if (info.config.name or "").startswith("KV_" + prefix)
            ]
            for bucket in names:
                await self._conn.drop_bucket(bucket)
        except (nats.errors.Error, nats.js.errors.Error, OSError) as exc:
            raise BackendUnavailable(self.url, type(exc).__name__) from exc
        return len(names)

    async def _live_keys(self, bucket: str) -> int:
        live: set[str] = set()

        def track(event: Event) -> None:
            if event.deleted:
                live.discard(event.key)
            else:
                live.add(event.key)

        conn = self._conn
        feed = BucketFeed(
            conn.nc,
            conn.js,
            bucket,
            track,
            heartbeat=conn.options.heartbeat,
            patience=conn.patience,
        )
        try:
            await feed.start()
            await feed.ready.wait()
        finally:
            await feed.stop()
        return len(live)

    async def _collections(self) -> list[str]:
        prefix = "KV_" + self._conn.options.prefix
        names: list[str] = []
        try:
            streams = await self._conn.js.streams_info()
            for info in streams:
                stream = info.config.name or ""
                if not stream.startswith(prefix):
                    continue
                bucket = stream[3:]
                name = bucket_collection(bucket[len(self._conn.options.prefix) :])
                if name is None or _NOT_A_COLLECTION.search(bucket):
                    continue
                if await self._live_keys(bucket):
                    names.append(name)
        except (nats.errors.Error, nats.js.errors.Error, OSError) as exc:
            raise BackendUnavailable(self.url, type(exc).__name__) from exc
        return names

    async def _drop(self, name: str) -> bool:
        bucket = self._conn.bucket(collection_bucket(name))
        buckets = {bucket}
        for core in [c for c in self._cores.values() if c.name == name]:
            buckets.update(core.buckets())
            await core.close()
            core.mirror.reset()
        try:
            held = await self._live_keys(bucket) if await self._exists(bucket) else 0
            for each in sorted(buckets):
                await self._conn.drop_bucket(each)
        except (nats.errors.Error, nats.js.errors.Error, OSError) as exc:
            raise BackendUnavailable(self.url, type(exc).__name__) from exc
        return held > 0

    async def _exists(self, bucket: str) -> bool:
        try:
            await self._conn.js.stream_info(f"KV_{bucket}")
        except nats.js.errors.NotFoundError:
            return False
        return True

    def _lock_service(self) -> NatsLocks:
        return NatsLocks(self.url, self._conn)

    async def _close(self) -> None:
        await asyncio.gather(*(core.close() for core in self._cores.values()))
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._conn.close()


async def open_store(url: str, **options: Any) -> Store:
    """Open a ``nats://host:port?namespace=app`` store.

    Options (URL query or keyword arguments) are the fields of
    :class:`~adapters.backends.nats.Options`.

    Raises:
        ValueError: an unknown or malformed option.
        BackendUnavailable: NATS cannot be reached.
    """
    seeds, parsed = parse_url(url, options)
    conn = Connection(seeds, parsed)
    try:
        await conn.connect()
    except (nats.errors.Error, OSError, TimeoutError) as exc:
        await conn.close()
        raise BackendUnavailable(conn.url, type(exc).__name__) from exc
    return NatsStore(url, conn)
