"""Record writes of one collection: CAS on the config row, then state and local rows.

Write order differs from brainlessdb on purpose: the config row is written first,
with compare-and-set on its revision, because it is the record's existence and
version; state/local rows follow only once it succeeded. (brainlessdb writes them
first, which would let a failed create clobber another record's state.)
Writes to one key are serialised inside the process, so our own writers never
conflict with each other; a conflict with another process re-reads the key and
retries (for updates without ``if_version``), so no update is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import msgspec

from ._conn import Connection
from ._kv import BucketFeed, Event, read_last
from ._layout import Layout, decode_key, encode_key
from ._mirror import Entry, Mirror
from ._wire import ConfigValue, Meta, decode_config, decode_object, encode

__all__ = ["CollectionCore", "Exists", "Missing", "RevisionMismatch"]

logger = logging.getLogger("adapters")


class Exists(Exception):
    """The key (or a unique value, named in ``args``) is already taken."""


class Missing(Exception):
    """The key does not exist."""


class RevisionMismatch(Exception):
    """``if_version`` did not match the current revision."""


class CollectionCore:
    """Mirror + feeds + writes of one collection."""

    def __init__(self, conn: Connection, layout: Layout) -> None:
        self.conn = conn
        self.layout = layout
        self.mirror = Mirror(layout, conn.dead_letter)
        self._feeds: list[BucketFeed] = []
        self._locks: dict[str, asyncio.Lock] = {}

    # -- lifecycle ------------------------------------------------------------

    async def open(self) -> None:
        """Bind/create the buckets and load the latest value of every key."""
        layout = self.layout
        plan: list[tuple[str, Callable[[Event], None]]] = [(layout.bucket, self._on_config)]
        if layout.state_bucket:
            plan.append((layout.state_bucket, self._on_state))
        if layout.local_bucket:
            plan.append((layout.local_bucket, self._on_local))
        for bucket, _ in plan:
            await self.conn.ensure_bucket(bucket)
        self._feeds = [
            BucketFeed(self.conn.js, bucket, handler, heartbeat=self.conn.options.heartbeat)
            for bucket, handler in plan
        ]
        await asyncio.gather(*(feed.start() for feed in self._feeds))
        await asyncio.gather(*(feed.ready.wait() for feed in self._feeds))

    async def close(self) -> None:
        """Stop the feeds."""
        await asyncio.gather(*(feed.stop() for feed in self._feeds))
        self._feeds = []

    # -- feed handlers ----------------------------------------------------------

    def _is_ours(self, event: Event) -> bool:
        return event.msg_id.startswith(self.conn.publisher.origin + ".")

    def _on_config(self, event: Event) -> None:
        try:
            key = decode_key(event.key)
        except ValueError:
            key = event.key
        if event.deleted:
            self.mirror.apply_config(key, None, None, event.revision, self._is_ours(event))
            return
        try:
            value = decode_config(event.value)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            if key not in self.mirror.quarantined:
                self.mirror.quarantined.add(key)
                self.conn.dead_letter(self.layout.bucket, event.key, event.value, str(exc))
            return
        self.mirror.apply_config(key, event.value, value, event.revision, self._is_ours(event))

    def _on_state(self, event: Event) -> None:
        value: dict[str, Any] | None = None
        if not event.deleted:
            try:
                value = decode_object(event.value)
            except msgspec.DecodeError as exc:
                logger.warning("nats: skipping undecodable state of %s: %s", event.key, exc)
                return
        key = decode_key(event.key)
        self.mirror.apply_state(key, value, event.revision, self._is_ours(event))

    def _on_local(self, event: Event) -> None:
        value: Any = None
        if not event.deleted:
            try:
                value = msgspec.json.decode(event.value)
            except msgspec.DecodeError as exc:
                logger.warning("nats: skipping undecodable local data of %s: %s", event.key, exc)
                return
        key = decode_key(event.key)
        self.mirror.apply_local(key, value, event.revision, self._is_ours(event))

    # -- writes -----------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def locked(self, key: str) -> AsyncIterator[None]:
        """Serialise writes to one key inside this process."""
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        try:
            async with lock:
                yield
        finally:
            if not lock.locked() and not getattr(lock, "_waiters", None):
                self._locks.pop(key, None)

    async def refresh(self, key: str) -> None:
        """Re-read ``key``'s rows from the streams (after a lost CAS race)."""
        kv_key = encode_key(key)
        layout = self.layout
        if layout.state_bucket:
            ev = await read_last(self.conn.js, layout.state_bucket, kv_key)
            if ev is not None:
                self._on_state(ev)
        if layout.local_bucket:
            ev = await read_last(self.conn.js, layout.local_bucket, kv_key)
            if ev is not None:
                self._on_local(ev)
        ev = await read_last(self.conn.js, layout.bucket, kv_key)
        if ev is not None:
            self._on_config(ev)

    def check_unique(self, key: str, doc: dict[str, Any]) -> None:
        """Raise :class:`Exists` if another visible record holds a unique value."""
        for name in self.layout.unique_fields:
            value = doc.get(name)
            if value is None:
                continue
            for other in self.mirror.holders(name, value):
                if other != key and self.mirror.get(other) is not None:
                    raise Exists(name, value)

    async def write(self, key: str, data: Any, expected: int, old: Entry | None) -> Entry:
        """Write a validated record with CAS on ``expected``; return the new entry.

        Raises:
            WrongRevision: the config row is not at ``expected``.
            KVUnavailable / KVWriteError: from the KV layer.
        """
        layout = self.layout
        doc = layout.to_doc(data)
        self.check_unique(key, doc)
        d, state, local = layout.split(doc)
        now = time.time()
        meta = Meta(
            created_at=old.meta.created_at if old else now,
            updated_at=now,
            created_by=old.meta.created_by if old else layout.namespace,
        )
        config = ConfigValue(d=d, l=layout.namespace, m=meta)
        kv_key = encode_key(key)
        pub = self.conn.publisher
        rev = await pub.write(layout.bucket, kv_key, encode(config), expected=expected)
        extra: list[Any] = []
        if layout.state_bucket and state is not None:
            extra.append(pub.write(layout.state_bucket, kv_key, encode(state)))
        if layout.local_bucket and local is not None:
            extra.append(pub.write(layout.local_bucket, kv_key, encode(local)))
        revs = await asyncio.gather(*extra)
        mirror = self.mirror
        i = 0
        if layout.state_bucket and state is not None:
            mirror.apply_state(key, state, revs[i], local=True)
            i += 1
        if layout.local_bucket and local is not None:
            mirror.apply_local(key, local, revs[i], local=True)
        mirror.apply_config(key, None, config, rev, local=True)
        entry = mirror.entries.get(key)
        if entry is None:  # pragma: no cover - our own value always decodes
            raise RuntimeError("written record vanished from the mirror")
        return entry

    async def remove(self, key: str, expected: int) -> None:
        """Delete the config row (CAS), then the state and local rows."""
        layout = self.layout
        kv_key = encode_key(key)
        pub = self.conn.publisher
        rev = await pub.write(layout.bucket, kv_key, b"", expected=expected, op="DEL")
        self.mirror.apply_config(key, None, None, rev, local=True)
        if layout.state_bucket and self.mirror.part_revision("state", key):
            srev = await pub.write(layout.state_bucket, kv_key, b"", op="DEL")
            self.mirror.apply_state(key, None, srev, local=True)
        if layout.local_bucket and self.mirror.part_revision("local", key):
            lrev = await pub.write(layout.local_bucket, kv_key, b"", op="DEL")
            self.mirror.apply_local(key, None, lrev, local=True)
