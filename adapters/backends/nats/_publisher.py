"""Pipelined KV writes: every write a compare-and-set put, thousands in flight.

Writes do not go through ``nats.js.kv.KeyValue.put`` (one awaited request at a
time): every write is a plain publish to ``$KV.<bucket>.<key>`` with a reply
subject under one wildcard inbox, so thousands can be in flight; replies come
straight from the protocol parser (``_client``) and resolve a single write's
future, or a slot of a ``write_many`` batch found by its token. Each write
carries a ``Nats-Msg-Id`` so a retry after a lost reply is deduplicated by the
server instead of being applied twice. :meth:`Publisher.write_many` sends a
whole batch before awaiting any acknowledgement and then waits for all of them
at once (bulk inserts). Frames are queued on the connection directly (see
``_client`` for the nats-py internals this relies on).

On a single server, a write without an acknowledgement on a healthy connection
is a backlog and is only re-sent after a reconnect. On a cluster
(:attr:`Publisher.clustered`), a write routed to a stream leader that died
meanwhile is lost without any error, so a write still unacknowledged after
``attempt_timeout`` is re-sent (same message id: applied at most once).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from typing import Any

import msgspec
import nats.errors

from ._client import Client
from ._kv import (
    EXPECTED_LAST,
    KV_OP,
    MSG_ID,
    NO_RESPONDERS,
    KVUnavailable,
    Marker,
    PubAck,
    ack_decoder,
    header_block,
    outcome,
)
from ._writes import AckBatch, OnResult, Writes

__all__ = ["Publisher"]


class Publisher:
    """Pipelined KV writes with compare-and-set, retried within a deadline."""

    def __init__(
        self,
        nc: Client,
        *,
        write_timeout: float,
        attempt_timeout: float,
        retry_delay: float,
        flush_interval: float = 0.0,
    ) -> None:
        self._nc = nc
        self._flush_interval = flush_interval
        self._gate: asyncio.Future[None] | None = None
        self._gate_timer: asyncio.TimerHandle | None = None
        self._inflight: set[asyncio.Future[None]] = set()
        self.eager = 0  # > 0 while a flush runs: no batch window
        self.generation = 0  # bumped on every reconnect
        self.clustered = False  # re-send unacknowledged writes after attempt_timeout
        self.write_timeout = write_timeout
        self._attempt_timeout = attempt_timeout
        self._retry_delay = retry_delay
        # Reply tokens (also message id numbers) are taken from one counter. A
        # single write's token maps to its future; write_many batches own ranges.
        self._next_id = 1
        self._pending: dict[int, asyncio.Future[PubAck | None]] = {}
        self._batches: list[AckBatch] = []
        self._prefix = ""
        self._sub: Any = None
        self.origin = uuid.uuid4().hex[:12]

    async def start(self) -> None:
        """Subscribe the reply inbox (delivered directly when the client allows it)."""
        self._prefix = self._nc.new_inbox() + "."
        self._sub = await self._nc.subscribe(self._prefix + "*")
        self._nc.direct(self._sub, self._on_raw_reply)

    async def stop(self) -> None:
        """Drop the reply inbox and fail writes still waiting."""
        if self._sub is not None:
            self._nc.undirect(self._sub)
            with contextlib.suppress(nats.errors.Error):
                await self._sub.unsubscribe()
            self._sub = None
        for slot in self._pending.values():
            if not slot.done():
                slot.set_exception(KVUnavailable("store closed"))
        self._pending.clear()
        for batch in self._batches:
            batch.close()

    def _on_raw_reply(self, subject: bytes, reply: bytes, data: bytes, headers: bytes) -> None:
        # A status-only block ("NATS/1.0 503") is the server's "no responders".
        unavailable = headers.startswith(b"NATS/1.0 503") if headers else False
        self._settle(subject[len(self._prefix) :], data, unavailable)

    def _settle(self, token: str | bytes, data: bytes, unavailable: bool) -> None:
        try:
            number = int(token)
        except ValueError:
            return  # not one of our tokens
        slot = self._pending.pop(number, None)
        batch: AckBatch | None = None
        if slot is None:
            for candidate in self._batches:
                if candidate.start <= number < candidate.end:
                    batch = candidate
                    break
            else:
                return  # a late reply to a write that gave up waiting
        ack: PubAck | None
        if unavailable:
            ack = None  # no responders: JetStream not (yet) there
        else:
            try:
                ack = ack_decoder.decode(data)
            except msgspec.DecodeError:
                ack = PubAck(error={"code": 0, "description": "undecodable ack"})
        if batch is not None:
            batch.settle(number - batch.start, NO_RESPONDERS if ack is None else ack)
        elif slot is not None and not slot.done():
            slot.set_result(ack)

    def _open_gate(self) -> None:
        gate, self._gate = self._gate, None
        if self._gate_timer is not None:
            self._gate_timer.cancel()
            self._gate_timer = None
        if gate is not None and not gate.done():
            gate.set_result(None)

    async def _batch(self) -> None:
        """Hold a write until the current batch window closes (or :meth:`flush`)."""
        if self._flush_interval <= 0 or self.eager:
            return
        if self._gate is None:
            loop = asyncio.get_running_loop()
            self._gate = loop.create_future()
            self._gate_timer = loop.call_later(self._flush_interval, self._open_gate)
        await asyncio.shield(self._gate)

    async def flush(self) -> None:
        """Send the batch now and wait until every write issued so far is settled.

        Safe to call at any time, also while a scheduled batch is being sent: each
        write is published exactly once, by its own caller.
        """
        self._open_gate()
        pending = list(self._inflight)
        if pending:
            await asyncio.wait(pending)

    def _take_ids(self, count: int) -> int:
        """Reserve ``count`` consecutive id numbers; return the first."""
        first = self._next_id
        self._next_id += count
        return first

    def msg_id(self, number: int) -> str:
        """The message id of write ``number``; feeds use its prefix to spot our writes."""
        return f"{self.origin}.{number}"

    def new_msg_id(self) -> str:
        """A fresh write id (see :meth:`msg_id`)."""
        return self.msg_id(self._take_ids(1))

    def _headers(self, expected: int | None, op: Marker, msg_id: str | None) -> dict[str, str]:
        headers = {MSG_ID: msg_id or self.new_msg_id()}
        if expected is not None:
            headers[EXPECTED_LAST] = str(expected)
        if op is not None:
            headers[KV_OP] = op
        return headers

    def _frame(self, subject: str, payload: bytes, reply: str, hdr: bytes) -> bytes:
        """The HPUB frame of one message, or ``b""`` when nats-py must send it."""
        nc = self._nc
        if not (nc.is_connected and len(payload) <= nc.max_payload):
            return b""
        return b"HPUB %s %s %d %d\r\n%s%s\r\n" % (
            subject.encode(),
            reply.encode(),
            len(hdr),
            len(hdr) + len(payload),
            hdr,
            payload,
        )

    async def _queue(self, frames: bytes) -> None:
        """Queue ready-made frames on the connection and wake its flusher."""
        nc = self._nc
        await nc._send_command(frames)
        flush_queue = nc._flush_queue
        if flush_queue is not None and flush_queue.empty():
            await nc._flush_pending()

    async def _publish(
        self, subject: str, payload: bytes, reply: str, headers: dict[str, str]
    ) -> None:
        """Queue one message on the connection.

        While connected, the HPUB frame is built here and queued directly: our
        subjects and header names are fixed and valid, and nats-py's generic
        per-header validation was the largest cost of a bulk write. Otherwise (and
        for payloads over the server limit) nats-py's ``publish`` does the checks
        and raises its errors.
        """
        hdr = header_block(headers[MSG_ID].encode(), headers.get(EXPECTED_LAST), headers.get(KV_OP))
        frame = self._frame(subject, payload, reply, hdr)
        if frame:
            await self._queue(frame)
        else:
            await self._nc.publish(subject, payload, reply=reply, headers=headers)

    async def write_many(
        self, writes: Writes, on_result: OnResult | None = None
    ) -> list[int | Exception]:
        """Send every write, then await them all.

        Same guarantees as :meth:`write` per item (compare-and-set, durable on
        return, retried within the write deadline), but the whole batch is on the
        wire before the first acknowledgement is awaited. Returns, per item, the
        new revision or the exception :meth:`write` would have raised.

        Args:
            on_result: called once per item with the same outcome, as soon as it
                is known (from the receive path: it must be quick and not raise).
        """
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._inflight.add(done)
        try:
            await self._batch()
            return await self._send_many(writes, on_result)
        finally:
            self._inflight.discard(done)
            done.set_result(None)

    async def _send_many(self, writes: Writes, on_result: OnResult | None) -> list[int | Exception]:
        deadline = time.monotonic() + self.write_timeout
        first = self._take_ids(len(writes))
        batch = AckBatch(first, len(writes), asyncio.get_running_loop(), on_result)
        self._batches.append(batch)
        generation = self.generation
        try:
            failed = not await self._send_batch(writes, first)
            while batch.left and not failed and not batch.closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                left = batch.left
                await asyncio.wait((batch.done,), timeout=min(self._attempt_timeout, remaining))
                if self.generation != generation or not self._nc.is_connected:
                    break
                if self.clustered and batch.left == left:
                    break  # no reply for a whole attempt: a leader died, re-send the rest
        finally:
            self._batches.remove(batch)
        results: list[int | Exception] = []
        retries: list[tuple[int, asyncio.Task[int]]] = []
        for index, (bucket, key, payload, expected, op) in enumerate(writes.rows()):
            result = batch.outcomes[index]
            if result is None and batch.closed:
                results.append(KVUnavailable("store closed"))
                batch.report(index, results[-1])
                continue
            if not isinstance(result, int | Exception):
                # Not acknowledged (or JetStream not ready): the one-by-one path
                # re-sends with the same message id, so nothing is applied twice.
                headers = self._headers(expected, op, self.msg_id(first + index))
                retry = asyncio.create_task(
                    self._send(f"$KV.{bucket}.{key}", payload, headers, deadline)
                )
                retries.append((index, retry))
                results.append(0)
            else:
                results.append(result)
                batch.report(index, result)
        if retries:
            await asyncio.wait([r for _, r in retries])
            for index, task in retries:
                exc = task.exception()
                if exc is None:
                    results[index] = task.result()
                elif isinstance(exc, Exception):
                    results[index] = exc
                else:  # pragma: no cover - cancellation propagates
                    raise exc
                batch.report(index, results[index])
        return results

    async def _send_batch(self, writes: Writes, first: int) -> bool:
        """Put every write of a batch on the wire; ``False`` if the connection broke.

        Item ``i`` carries reply token and message id number ``first + i``. Frames
        go out in chunks: one queue operation per ~64 KiB.
        """
        origin = self.origin.encode()
        prefix = self._prefix
        frames: list[bytes] = []
        size = 0
        try:
            for number, (bucket, key, payload, expected, op) in enumerate(writes.rows(), first):
                subject = f"$KV.{bucket}.{key}"
                reply = f"{prefix}{number}"
                # msg_id(number), built as bytes: this loop runs once per write.
                hdr = header_block(b"%s.%d" % (origin, number), expected, op)
                frame = self._frame(subject, payload, reply, hdr)
                if frame:
                    frames.append(frame)
                    size += len(frame)
                    if size >= 65536:
                        await self._queue(b"".join(frames))
                        frames, size = [], 0
                else:
                    if frames:
                        await self._queue(b"".join(frames))
                        frames, size = [], 0
                    headers = self._headers(expected, op, self.msg_id(number))
                    await self._nc.publish(subject, payload, reply=reply, headers=headers)
            if frames:
                await self._queue(b"".join(frames))
        except nats.errors.Error:
            return False
        return True

    async def write(
        self,
        bucket: str,
        key: str,
        payload: bytes,
        *,
        expected: int | None = None,
        op: Marker = None,
        msg_id: str | None = None,
    ) -> int:
        """Put (or delete) ``key``; return the new revision once it is durable.

        Args:
            expected: compare-and-set on the key's last revision (0 = must not exist).
            op: ``"DEL"``/``"PURGE"`` for a delete marker.
            msg_id: idempotency id (defaults to a fresh one).

        Raises:
            WrongRevision: ``expected`` did not match.
            KVUnavailable: no acknowledgement before the write deadline.
            KVWriteError: JetStream rejected the write.
        """
        headers = self._headers(expected, op, msg_id)
        subject = f"$KV.{bucket}.{key}"
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._inflight.add(done)
        try:
            await self._batch()
            return await self._send(
                subject, payload, headers, time.monotonic() + self.write_timeout
            )
        finally:
            self._inflight.discard(done)
            done.set_result(None)

    async def _send(
        self, subject: str, payload: bytes, headers: dict[str, str], deadline: float
    ) -> int:
        last_error = "no acknowledgement"
        while True:
            token = self._take_ids(1)
            fut: asyncio.Future[PubAck | None] = asyncio.get_running_loop().create_future()
            self._pending[token] = fut
            generation = self.generation
            try:
                await self._publish(subject, payload, f"{self._prefix}{token}", headers)
                # A slow acknowledgement on a healthy connection is a backlog, not a
                # loss: keep waiting (re-sending would only add load). Re-send only
                # after a reconnect, when the message may have been lost.
                while not fut.done():
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    await asyncio.wait((fut,), timeout=min(self._attempt_timeout, remaining))
                    if self.generation != generation or not self._nc.is_connected:
                        break
                    if self.clustered:
                        break  # the stream leader may have died with it: re-send
            except nats.errors.Error as exc:
                last_error = type(exc).__name__
            finally:
                self._pending.pop(token, None)
            ack = fut.result() if fut.done() else None
            if ack is not None:
                result = outcome(ack)
                if isinstance(result, int):
                    return result
                if result is not None:
                    raise result
                last_error = "JetStream unavailable"
            if time.monotonic() + self._retry_delay >= deadline:
                raise KVUnavailable(last_error)
            await asyncio.sleep(self._retry_delay)  # backoff between attempts, not a wait
