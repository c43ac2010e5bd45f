"""``watch`` on NATS: a collection's config bucket read in stream order.

Each feed is its own ordered consumer (:class:`~._feed.BucketFeed`) on the
config bucket's stream, starting after a stream sequence: the KV revision of
the last change seen, which is the cursor. History and live changes come from
the same consumer, so a resumed feed has no gap and no duplicate; after a
reconnect or a server restart the consumer is recreated after the last
revision applied. Stream sequences are the same on every server of a cluster,
so a cursor does not depend on the server a store is connected to.

A record's previous state (``old``) is the revision named by the write's
compare-and-set header, taken from what the feed saw, from the mirror, or
read from the stream. STATE and app-local fields of typed brainlessdb models
live in other buckets: they show their current value, and a write that
changes only them is not a change of the feed. Revisions pruned by the
bucket's history (``history`` option, 64 per key) cannot be replayed: a
cursor before one of them raises :class:`~adapters.CursorExpired`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from typing import Any

import msgspec
import nats.errors
import nats.js.errors

from ..._errors import CursorExpired
from ..._feed import format_cursor, parse_cursor
from ..._records import ChangeKind
from ..._stored import RawChange, Stored, from_seconds
from ._core import CollectionCore
from ._feed import BucketFeed
from ._kv import KV_OP, Event
from ._layout import decode_key
from ._wire import ConfigValue, decode_config

__all__ = ["ChangeFeed", "check_cursor", "open_feed"]

logger = logging.getLogger("adapters")

_TAG = "n"
_REMEMBERED = 10_000  # records kept per feed to report ``old`` without a request


class _State(msgspec.Struct):
    first_seq: int = 0
    last_seq: int = 0
    num_deleted: int = 0
    deleted: list[int] | None = None


class _Info(msgspec.Struct):
    state: _State = msgspec.field(default_factory=_State)
    error: dict[str, Any] | None = None


_info = msgspec.json.Decoder(_Info)


class _Gap(msgspec.Struct, frozen=True):
    after: int  # the last sequence read before the missing ones


def check_cursor(since: str) -> int:
    """The stream sequence of a NATS cursor.

    Raises:
        ValueError: not a cursor of the NATS backend.
    """
    return parse_cursor(since, _TAG, 1, "nats")[0]


async def _stream_state(core: CollectionCore, details: bool = False) -> _State:
    """The bucket stream's sequences, retried through a leader election."""
    request = b'{"deleted_details":true}' if details else b""
    conn = core.conn

    async def ask() -> _State:
        reply = await conn.nc.request(
            f"$JS.API.STREAM.INFO.KV_{core.layout.bucket}",
            request,
            timeout=conn.options.attempt_timeout,
        )
        info = _info.decode(reply.data)
        if info.error is not None:
            raise nats.js.errors.APIError.from_error(info.error)
        return info.state

    return await conn.patience.run(f"reading {core.layout.bucket}'s sequences", ask)


async def open_feed(core: CollectionCore, since: str | None) -> ChangeFeed:
    """Start a feed of ``core``'s collection from now, or after the change at ``since``.

    Raises:
        CursorExpired: a revision after ``since`` is no longer in the stream.
        ValueError: ``since`` is ahead of the stream (a cursor of other data).
    """
    state = await _stream_state(core)
    if since is None:
        start = state.last_seq
    else:
        start = check_cursor(since)
        if start > state.last_seq:
            raise ValueError(f"cursor {since!r} is ahead of this collection's stream")
        lost = start + 1 < state.first_seq and state.first_seq <= state.last_seq
        if not lost and state.num_deleted:
            detailed = await _stream_state(core, details=True)
            lost = any(seq > start for seq in detailed.deleted or ())
        if lost:
            raise CursorExpired(core.name, since, "the bucket's history no longer holds it")
    feed = ChangeFeed(core, start)
    await feed.start()
    return feed


class ChangeFeed:
    """A :class:`~adapters._stored.Subscription` of one collection, in stream order."""

    def __init__(self, core: CollectionCore, start: int) -> None:
        self._core = core
        self._pending: deque[Event | _Gap] = deque()
        self._signal = asyncio.Event()
        self._closed = False
        self._last = start
        self._known: OrderedDict[str, tuple[int, Stored]] = OrderedDict()
        conn = core.conn
        self._feed = BucketFeed(
            conn.nc,
            conn.js,
            core.layout.bucket,
            self._on_event,
            heartbeat=conn.options.heartbeat,
            patience=conn.patience,
            start_after=start,
            on_gap=self._on_gap,
        )

    async def start(self) -> None:
        await self._feed.start()

    def _on_event(self, event: Event) -> None:
        self._pending.append(event)
        self._signal.set()

    def _on_gap(self, after: int, sequence: int) -> None:
        self._pending.append(_Gap(after))
        self._signal.set()

    async def get(self) -> RawChange | None:
        while True:
            if self._pending:
                item = self._pending[0]
                if isinstance(item, _Gap):
                    cursor = format_cursor(_TAG, item.after)
                    detail = "the bucket's history dropped revisions before they were read"
                    raise CursorExpired(self._core.name, cursor, detail)
                # Converted before it is taken: a cancelled get loses nothing.
                change = await self._convert(item)
                self._pending.popleft()
                self._last = item.revision
                if change is not None:
                    return change
                continue
            if self._closed:
                return None
            self._signal.clear()
            await self._signal.wait()

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            self._signal.set()
            await self._feed.stop()

    # -- turning entries into changes ------------------------------------------

    def _remember(self, key: str, revision: int, record: Stored | None) -> None:
        if record is None:
            self._known.pop(key, None)
            return
        self._known[key] = (revision, record)
        self._known.move_to_end(key)
        if len(self._known) > _REMEMBERED:
            self._known.popitem(last=False)

    def _record(self, key: str, value: ConfigValue, revision: int) -> Stored:
        meta = value.m
        state, local = self._core.mirror.parts(key)
        doc = self._core.layout.join(key, value.d, state, local)
        created = from_seconds(meta.created_at)
        updated = created if meta.updated_at == meta.created_at else from_seconds(meta.updated_at)
        return Stored(key, doc, meta.v if meta.v else revision, created, updated)

    async def _previous(self, key: str, event: Event) -> Stored | None:
        """The record before ``event``: the revision its compare-and-set named."""
        known = self._known.get(key)
        expected = event.expected
        if expected is None:  # a write without compare-and-set (a foreign writer)
            return None if known is None else known[1]
        if expected == 0:
            return None
        if known is not None and known[0] == expected:
            return known[1]
        entry = self._core.mirror.entries.get(key)
        if entry is not None and entry.revision == expected:
            return entry.stored()
        stream = f"KV_{self._core.layout.bucket}"
        try:
            msg = await self._core.conn.js.get_msg(stream, seq=expected)
        except (nats.errors.Error, nats.js.errors.Error, TimeoutError) as exc:
            logger.debug("nats: previous revision %d of %r unreadable: %s", expected, key, exc)
            return None
        if (msg.headers or {}).get(KV_OP) in ("DEL", "PURGE") or not msg.data:
            return None
        try:
            return self._record(key, decode_config(msg.data), expected)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return None

    async def _convert(self, event: Event) -> RawChange | None:
        try:
            key = decode_key(event.key)
        except ValueError:
            key = event.key
        name = self._core.name
        cursor = format_cursor(_TAG, event.revision)
        old = await self._previous(key, event)
        if event.deleted:
            self._remember(key, event.revision, None)
            return RawChange(name, "deleted", key, None, old, cursor)
        try:
            value = decode_config(event.value)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            logger.warning("nats: feed of %r skips undecodable %r: %s", name, key, exc)
            return None
        record = self._record(key, value, event.revision)
        self._remember(key, event.revision, record)
        kind: ChangeKind
        if value.m.v:
            kind = "inserted" if value.m.v == 1 else "updated"
        elif event.expected is not None:
            kind = "inserted" if event.expected == 0 else "updated"
        else:
            kind = "updated" if old is not None else "inserted"
        return RawChange(name, kind, key, record, old if kind == "updated" else None, cursor)
