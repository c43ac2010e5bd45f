"""Feeds, reads and CAS writes of one collection's buckets.

Write order: a new record's state/local rows are created first (with CAS, so a
racing creator's rows are never overwritten), then its config row, like
brainlessdb. An update writes the config row first, with compare-and-set on its
KV revision (the record's version), and the state/local rows only once that
succeeded, so a lost race changes nothing.
Writes to one key are serialised inside the process, so our own writers never
race each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

import msgspec

from ._conn import Connection
from ._feed import BucketFeed
from ._keylocks import KeyLocks
from ._kv import Event, read_last
from ._layout import Layout, decode_key, encode_key
from ._mirror import Entry, Mirror
from ._wire import ConfigValue, Meta, decode_config, decode_object, encode

__all__ = ["CollectionCore"]

logger = logging.getLogger("adapters")


class CollectionCore:
    """Mirror + feeds + writes of one collection (shared by its ``Collection`` objects)."""

    def __init__(self, conn: Connection, name: str, layout: Layout) -> None:
        self.conn = conn
        self.name = name
        self.layout = layout
        self.mirror = Mirror(layout, conn.dead_letter)
        self._feeds: list[BucketFeed] = []
        self.locks = KeyLocks()
        self._opening: asyncio.Lock | None = None
        self.loaded = False

    # -- lifecycle ------------------------------------------------------------

    async def ensure_open(self) -> None:
        """Bind/create the buckets and load the latest value of every key (once)."""
        if self.loaded:
            return
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if not self.loaded:
                await self._open()
                self.loaded = True

    async def _open(self) -> None:
        layout = self.layout
        plan: list[tuple[str, Callable[[Event], None]]] = [(layout.bucket, self._on_config)]
        if layout.state_bucket:
            plan.append((layout.state_bucket, self._on_state))
        if layout.local_bucket:
            plan.append((layout.local_bucket, self._on_local))
        for bucket, _ in plan:
            await self.conn.ensure_bucket(bucket)
        if layout.unique_fields:
            await self.conn.ensure_bucket(self.claims_bucket)
        self._feeds = [
            BucketFeed(
                self.conn.nc,
                self.conn.js,
                bucket,
                handler,
                heartbeat=self.conn.options.heartbeat,
                patience=self.conn.patience,
            )
            for bucket, handler in plan
        ]
        self.mirror.silent = True
        try:
            await asyncio.gather(*(feed.start() for feed in self._feeds))
            await asyncio.gather(*(feed.ready.wait() for feed in self._feeds))
        except BaseException:
            await self.close()
            raise
        self.mirror.finish_load()

    async def close(self) -> None:
        """Stop the feeds; the next operation loads again."""
        feeds, self._feeds = self._feeds, []
        self.loaded = False
        await asyncio.gather(*(feed.stop() for feed in feeds))

    @property
    def claims_bucket(self) -> str:
        """Where our writers claim unique values (see ``_unique``)."""
        return self.layout.bucket + "-Unique"

    def buckets(self) -> list[str]:
        """Every bucket of this collection."""
        layout = self.layout
        found = [b for b in (layout.bucket, layout.state_bucket, layout.local_bucket) if b]
        return [*found, self.claims_bucket] if layout.unique_fields else found

    async def catch_up(self) -> None:
        """Make the mirror include every write acknowledged before this call."""
        await asyncio.gather(*(feed.catch_up() for feed in self._feeds))

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
        if self.mirror.seen("config", key, event.revision):
            return  # the echo of a write already applied: nothing to decode
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
        if self.mirror.seen("state", decode_key(event.key), event.revision):
            return
        if not event.deleted:
            try:
                value = decode_object(event.value)
            except msgspec.DecodeError as exc:
                logger.warning("nats: skipping undecodable state of %s: %s", event.key, exc)
                return
        self.mirror.apply_state(decode_key(event.key), value, event.revision, self._is_ours(event))

    def _on_local(self, event: Event) -> None:
        value: Any = None
        if self.mirror.seen("local", decode_key(event.key), event.revision):
            return
        if not event.deleted:
            try:
                value = msgspec.json.decode(event.value)
            except msgspec.DecodeError as exc:
                logger.warning("nats: skipping undecodable local data of %s: %s", event.key, exc)
                return
        self.mirror.apply_local(decode_key(event.key), value, event.revision, self._is_ours(event))

    # -- writes -----------------------------------------------------------------

    def locked(self, key: str) -> contextlib.AbstractAsyncContextManager[None]:
        """Serialise writes to one key inside this process."""
        return self.locks.hold((key,))

    def locked_many(self, keys: list[str]) -> contextlib.AbstractAsyncContextManager[None]:
        """Serialise writes to several keys at once (taken in key order: no deadlock)."""
        return self.locks.hold(keys)

    async def refresh(self, key: str) -> None:
        """Re-read ``key``'s rows from the streams (after losing a CAS race)."""
        kv_key = encode_key(key)
        layout = self.layout
        js = self.conn.js
        if layout.state_bucket:
            ev = await read_last(js, layout.state_bucket, kv_key)
            if ev is not None:
                self._on_state(ev)
        if layout.local_bucket:
            ev = await read_last(js, layout.local_bucket, kv_key)
            if ev is not None:
                self._on_local(ev)
        ev = await read_last(js, layout.bucket, kv_key)
        if ev is not None:
            self._on_config(ev)

    def prepare(
        self, key: str, doc: dict[str, Any], old: Entry | None
    ) -> tuple[ConfigValue, tuple[tuple[str, str, Any], ...]]:
        """The config value and the ``(which, bucket, value)`` state/local rows of a write."""
        layout = self.layout
        d, state, local = layout.split(doc)
        now = time.time()
        meta = Meta(
            created_at=old.meta.created_at if old else now,
            updated_at=now,
            created_by=old.meta.created_by if old else layout.namespace,
            v=old.version + 1 if old else 1,
        )
        config = ConfigValue(d=d, l=layout.namespace, m=meta)
        parts: tuple[tuple[str, str, Any], ...] = ()
        if layout.state_bucket and state is not None:
            parts += (("state", layout.state_bucket, state),)
        if layout.local_bucket and local is not None:
            parts += (("local", layout.local_bucket, local),)
        return config, parts

    def commit(
        self,
        key: str,
        config: ConfigValue,
        rev: int,
        written: Iterable[tuple[str, int, Any]],
    ) -> Entry:
        """Apply an acknowledged write (config at ``rev``, ``(which, rev, value)`` rows)."""
        state_part = local_part = None
        for which, prev, value in written:
            if which == "state":
                state_part = (prev, value)
            else:
                local_part = (prev, value)
        self.mirror.apply_own(key, config, rev, state_part, local_part)
        entry = self.mirror.entries.get(key)
        if entry is None or entry.revision < rev:  # pragma: no cover - defensive
            raise RuntimeError(f"written record {key!r} did not reach the mirror")
        return entry

    async def write(self, key: str, doc: dict[str, Any], expected: int, old: Entry | None) -> Entry:
        """Write ``doc`` with CAS on the config revision ``expected``; return the entry.

        Raises:
            WrongRevision: the config row is not at ``expected``.
            KVUnavailable / KVWriteError: from the KV layer.
        """
        layout = self.layout
        config, parts = self.prepare(key, doc, old)
        kv_key = encode_key(key)
        pub = self.conn.publisher
        written: list[tuple[str, int, Any]] = []
        if old is None:
            # A new record: its state/local rows go first (brainlessdb readers fetch
            # them when the config row appears), each created with CAS so that a
            # racing creator's rows are never overwritten.
            for which, bucket, value in parts:
                expected_part = self.mirror.part_revision(which, key)
                prev = await pub.write(bucket, kv_key, encode(value), expected=expected_part)
                written.append((which, prev, value))
            rev = await pub.write(layout.bucket, kv_key, encode(config), expected=expected)
        else:
            # An update: the config row is the compare-and-set point, so it goes first.
            rev = await pub.write(layout.bucket, kv_key, encode(config), expected=expected)
            for which, bucket, value in parts:
                prev = await pub.write(bucket, kv_key, encode(value))
                written.append((which, prev, value))
        return self.commit(key, config, rev, written)

    async def remove(self, key: str, expected: int) -> None:
        """Delete the config row (CAS on ``expected``), then the state and local rows."""
        layout = self.layout
        kv_key = encode_key(key)
        pub = self.conn.publisher
        rev = await pub.write(layout.bucket, kv_key, b"", expected=expected, op="DEL")
        self.mirror.apply_config(key, None, None, rev, local=True)
        if layout.state_bucket and self.mirror.has_part("state", key):
            srev = await pub.write(layout.state_bucket, kv_key, b"", op="DEL")
            self.mirror.apply_state(key, None, srev, local=True)
        if layout.local_bucket and self.mirror.has_part("local", key):
            lrev = await pub.write(layout.local_bucket, kv_key, b"", op="DEL")
            self.mirror.apply_local(key, None, lrev, local=True)
