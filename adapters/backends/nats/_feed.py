"""Bucket feeds: the latest value per key, then live changes, of one KV bucket.

Each feed is an ordered push consumer: ephemeral, no acks, flow control and
idle heartbeats, delivering to an inbox of this connection. It starts with
``DeliverPolicy.LAST_PER_SUBJECT``, so a cold load reads one message per live
key whatever the history depth; a change feed (``start_after``) starts after a
given stream sequence instead and reports gaps in the stream sequences
(``on_gap``: messages deleted before they were read). Messages must arrive with consecutive consumer
sequence numbers; a gap, a heartbeat reporting a different last sequence, or
silence for two heartbeat intervals (e.g. a server restart lost the consumer)
makes the feed recreate its consumer from the stream sequence after the last
one applied, on a fresh inbox, so no change is skipped or applied twice.

The bookkeeping lives in :class:`OrderedTracker` (no I/O). Messages are taken
straight from the protocol parser (see ``_client``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable
from typing import Any

import msgspec
import nats.errors
import nats.js.errors
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from ._client import Client, header_block, header_value
from ._kv import EXPECTED_LAST, KV_OP, MSG_ID, Event, KVUnavailable
from ._retry import Patience

__all__ = ["BucketFeed", "OrderedTracker"]

logger = logging.getLogger("adapters")

_DELETED = ("DEL", "PURGE")


class _StreamState(msgspec.Struct):
    last_seq: int = 0


class _StreamInfo(msgspec.Struct):
    state: _StreamState = msgspec.field(default_factory=_StreamState)
    error: dict[str, Any] | None = None


_info_decoder = msgspec.json.Decoder(_StreamInfo)


class OrderedTracker:
    """Sequence bookkeeping of one ordered consumer (pure: no I/O).

    ``consumer_seq`` is the last consumer sequence seen on the current consumer;
    :meth:`restart` forgets it when a new consumer takes over.
    """

    def __init__(self) -> None:
        self.consumer_seq = 0

    def restart(self) -> None:
        """A new consumer starts: its first message has consumer sequence 1."""
        self.consumer_seq = 0

    def data(self, reply: str) -> tuple[int, int] | None:
        """``(stream sequence, messages pending)`` of a data message, from its reply subject.

        ``None`` when a message was missed (the consumer sequence is not the next
        one): the consumer must be recreated. The reply subject is
        ``$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>``,
        or the 12-token form with domain and account hash.

        Raises:
            ValueError: not a JetStream delivery.
        """
        tokens = reply.split(".")
        if len(tokens) == 9:
            sseq, cseq, pending = tokens[5], tokens[6], tokens[8]
        elif len(tokens) >= 12 and tokens[:2] == ["$JS", "ACK"]:
            sseq, cseq, pending = tokens[7], tokens[8], tokens[10]
        else:
            raise ValueError(f"not a JetStream delivery: {reply!r}")
        consumer_seq = int(cseq)
        if consumer_seq != self.consumer_seq + 1:
            return None
        self.consumer_seq = consumer_seq
        return int(sseq), int(pending)

    def heartbeat(self, last_consumer: str | None) -> bool:
        """Whether an idle heartbeat agrees with what was seen (``False``: recreate)."""
        if last_consumer is None:
            return True
        try:
            return int(last_consumer) == self.consumer_seq
        except ValueError:
            return True


class BucketFeed:
    """Latest value per key, then live changes, of one bucket (one ordered consumer)."""

    def __init__(
        self,
        nc: Client,
        js: JetStreamContext,
        bucket: str,
        handler: Callable[[Event], None],
        *,
        heartbeat: float,
        patience: Patience,
        start_after: int | None = None,
        on_gap: Callable[[int, int], None] | None = None,
    ) -> None:
        self._nc = nc
        self._js = js
        self.bucket = bucket
        self._stream = f"KV_{bucket}"
        self._handler = handler
        self._heartbeat = heartbeat
        self._patience = patience
        self._prefix_len = len(f"$KV.{bucket}.")
        self._tracker = OrderedTracker()
        self._sub: Any = None
        self._consumer: str | None = None
        self._generation = 0  # bumped per consumer: older deliveries are ignored
        self._active = time.monotonic()
        self._watchdog: asyncio.Task[None] | None = None
        self._resetting: asyncio.Task[None] | None = None
        self._replies: set[asyncio.Task[None]] = set()
        self._stopped = False
        self.ready = asyncio.Event()
        self.seq = 0 if start_after is None else start_after  # last stream sequence applied
        self._exact = start_after is not None  # every sequence after ``seq``, in order
        self._on_gap = on_gap
        self.delivered = 0  # data messages applied
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []

    # -- lifecycle ----------------------------------------------------------------

    async def start(self) -> None:
        """Subscribe; :attr:`ready` is set once the current values are applied.

        Retried through a leader election (see ``_retry``).
        """
        await self._patience.run(f"subscribing to {self.bucket}", self._subscribe)
        self._watchdog = asyncio.get_running_loop().create_task(self._watch())

    async def stop(self) -> None:
        """Stop delivering and remove the consumer."""
        self._stopped = True
        for task in (self._watchdog, self._resetting):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self._drop()

    async def catch_up(self) -> None:
        """Wait until every message the stream held when called has been applied.

        One request for the stream's last sequence, retried through a leader
        election; gives up quietly when disconnected or once the write deadline
        has passed (the read is then served from what the mirror has).
        """
        nc = self._nc
        if not nc.is_connected:
            return
        deadline = time.monotonic() + self._patience.timeout

        async def last_seq() -> int:
            subject = f"$JS.API.STREAM.INFO.{self._stream}"
            reply = await nc.request(subject, b"", timeout=self._patience.attempt)
            info = _info_decoder.decode(reply.data)
            if info.error is not None:
                raise nats.js.errors.APIError.from_error(info.error)
            return info.state.last_seq

        try:
            target = await self._patience.run(f"reading {self.bucket}'s last revision", last_seq)
        except (nats.errors.Error, msgspec.DecodeError, KVUnavailable) as exc:
            logger.debug("nats: %s: no fresh read (%s)", self.bucket, type(exc).__name__)
            return
        if self.seq >= target:
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((target, fut))
        try:
            async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                await fut
        except TimeoutError:
            logger.debug("nats: %s feed did not catch up in time", self.bucket)
        finally:
            if (target, fut) in self._waiters:
                self._waiters.remove((target, fut))

    async def _subscribe(self) -> None:
        """A fresh inbox and a consumer starting after the last applied sequence."""
        self._generation += 1
        generation = self._generation
        self._tracker.restart()
        inbox = self._nc.new_inbox()
        sub = self._sub = await self._nc.subscribe(inbox)
        self._nc.direct(sub, functools.partial(self._on_raw, generation))
        first = self.seq == 0 and not self._exact
        config = ConsumerConfig(
            deliver_subject=inbox,
            deliver_policy=(
                DeliverPolicy.LAST_PER_SUBJECT if first else DeliverPolicy.BY_START_SEQUENCE
            ),
            opt_start_seq=None if first else self.seq + 1,
            filter_subject=f"$KV.{self.bucket}.>",
            ack_policy=AckPolicy.NONE,
            max_deliver=1,
            flow_control=True,
            idle_heartbeat=self._heartbeat,
            mem_storage=True,
            num_replicas=1,
        )
        try:
            info = await self._js.add_consumer(self._stream, config=config)
        except BaseException:
            # No consumer (e.g. no stream leader yet): drop the inbox before a retry.
            self._sub = None
            self._nc.undirect(sub)
            with contextlib.suppress(nats.errors.Error):
                await sub.unsubscribe()
            raise
        self._consumer = info.name
        self._active = time.monotonic()
        if info.num_pending == 0 and (info.delivered is None or not info.delivered.consumer_seq):
            self.ready.set()

    async def _drop(self, delete: bool = True) -> None:
        """Stop the current subscription and delete its consumer (best effort).

        Without ``delete`` the consumer is left to the server, which removes an
        ephemeral consumer nobody listens to (a resubscription does not wait for
        a request that may time out while its server is gone).
        """
        sub, self._sub = self._sub, None
        consumer, self._consumer = self._consumer, None
        if sub is not None:
            self._nc.undirect(sub)
            with contextlib.suppress(nats.errors.Error):
                await sub.unsubscribe()
        if delete and consumer is not None and self._nc.is_connected:
            # The server also removes an ephemeral consumer nobody listens to.
            with contextlib.suppress(nats.errors.Error, nats.js.errors.Error, TimeoutError):
                await self._js.delete_consumer(self._stream, consumer)

    def _recreate(self) -> None:
        """Replace the consumer (in the background, once at a time)."""
        if self._stopped or (self._resetting is not None and not self._resetting.done()):
            return
        self._generation += 1  # ignore whatever the old consumer still delivers
        self._resetting = asyncio.get_running_loop().create_task(self._reset())

    async def _reset(self) -> None:
        try:
            await self._drop(delete=False)
            await self._patience.run(f"resubscribing to {self.bucket}", self._subscribe)
            logger.debug("nats: %s feed resumed after sequence %d", self.bucket, self.seq)
        except (nats.errors.Error, nats.js.errors.Error, TimeoutError, KVUnavailable) as exc:
            # NATS is not back yet: the watchdog tries again.
            logger.debug("nats: %s feed could not resume: %s", self.bucket, type(exc).__name__)
            self._active = time.monotonic()
        except Exception:
            logger.exception("nats: %s feed could not resume", self.bucket)
            self._active = time.monotonic()

    async def _watch(self) -> None:
        # Two silent heartbeat intervals: the consumer is gone (or stuck); recreate it.
        while True:
            await asyncio.sleep(self._heartbeat)  # a periodic check, not a wait for an event
            if time.monotonic() - self._active > 2 * self._heartbeat:
                self._recreate()

    # -- deliveries ---------------------------------------------------------------

    def _on_raw(
        self, generation: int, subject: bytes, reply: bytes, data: bytes, hdr: bytes
    ) -> None:
        if generation != self._generation:
            return
        if hdr.startswith(b"NATS/1.0 "):
            status, description, fields = header_block(hdr)
            self._control(status, description, fields, reply.decode())
            return
        expected: int | None = None
        if self._exact and hdr:
            text = header_value(hdr, EXPECTED_LAST)
            expected = int(text) if text is not None and text.isdigit() else None
        self._data(
            subject.decode(),
            reply.decode(),
            data,
            header_value(hdr, KV_OP) if hdr else None,
            header_value(hdr, MSG_ID) if hdr else None,
            expected,
        )

    def _control(self, status: str, description: str, fields: dict[str, str], reply: str) -> None:
        self._active = time.monotonic()
        if status != "100":
            logger.debug("nats: %s feed status %s %s", self.bucket, status, description)
            return
        if description.startswith("FlowControl") and reply:
            # Deliveries are applied as they arrive: everything before it is done.
            self._respond(reply)
        elif description.startswith("Idle"):
            stalled = fields.get("Nats-Consumer-Stalled")
            if stalled:
                self._respond(stalled)
            if not self._tracker.heartbeat(fields.get("Nats-Last-Consumer")):
                self._recreate()

    def _respond(self, subject: str) -> None:
        task = asyncio.get_running_loop().create_task(self._publish_empty(subject))
        self._replies.add(task)
        task.add_done_callback(self._replies.discard)

    async def _publish_empty(self, subject: str) -> None:
        with contextlib.suppress(nats.errors.Error):
            await self._nc.publish(subject, b"")

    def _data(
        self,
        subject: str,
        reply: str,
        data: bytes,
        op: str | None,
        msg_id: str | None,
        expected: int | None = None,
    ) -> None:
        self._active = time.monotonic()
        try:
            position = self._tracker.data(reply)
        except ValueError:
            logger.debug("nats: %s feed ignored a message without metadata", self.bucket)
            return
        if position is None:
            self._recreate()  # a message was missed: resume after the last applied
            return
        sequence, pending = position
        if self._exact and sequence != self.seq + 1:
            if sequence <= self.seq:
                return  # already applied (a consumer resumed too early)
            if self._on_gap is not None:
                self._on_gap(self.seq, sequence)
        self.delivered += 1
        try:
            self._handler(
                Event(
                    key=subject[self._prefix_len :],
                    value=data,
                    revision=sequence,
                    deleted=op in _DELETED,
                    msg_id=msg_id or "",
                    expected=expected,
                )
            )
        except Exception:
            # The feed must survive anything a handler does.
            logger.exception("nats: applying %s entry failed", self.bucket)
        if sequence > self.seq:
            self.seq = sequence
            if self._waiters:
                for target, fut in [w for w in self._waiters if w[0] <= sequence]:
                    self._waiters.remove((target, fut))
                    if not fut.done():
                        fut.set_result(None)
        if pending == 0:
            self.ready.set()
