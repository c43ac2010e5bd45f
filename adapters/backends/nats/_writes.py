"""The writes of one ``Publisher.write_many`` call and the acknowledgements they await.

A bulk insert queues tens of thousands of writes; :class:`Writes` keeps them
as parallel lists, and :class:`AckBatch` finds each reply's slot by arithmetic
on its reply token, so a batch costs no object per write.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from ._kv import Marker, PubAck, outcome

__all__ = ["RETRY", "AckBatch", "OnResult", "Writes"]

logger = logging.getLogger("adapters")


class Writes:
    """KV writes for :meth:`Publisher.write_many`, kept as parallel lists.

    A bulk insert queues tens of thousands of writes; parallel lists of strings,
    bytes and ints hold them without an object per write.
    """

    __slots__ = ("buckets", "expected", "keys", "ops", "payloads")

    def __init__(self) -> None:
        self.buckets: list[str] = []
        self.keys: list[str] = []
        self.payloads: list[bytes] = []
        self.expected: list[int | None] = []
        self.ops: list[Marker] = []

    def add(
        self, bucket: str, key: str, payload: bytes, expected: int | None = None, op: Marker = None
    ) -> None:
        """Queue one write (same arguments as :meth:`Publisher.write`)."""
        self.buckets.append(bucket)
        self.keys.append(key)
        self.payloads.append(payload)
        self.expected.append(expected)
        self.ops.append(op)

    def __len__(self) -> int:
        return len(self.keys)

    def rows(
        self,
    ) -> zip[tuple[str, str, bytes, int | None, Marker]]:
        """``(bucket, key, payload, expected, op)`` of each write, in order."""
        return zip(self.buckets, self.keys, self.payloads, self.expected, self.ops, strict=True)


RETRY = object()  # a batch item JetStream did not take: re-send it

OnResult = Callable[[int, "int | Exception"], None]
"""``(index, revision or error)`` of one ``write_many`` item, as soon as it is known."""


class AckBatch:
    """The acknowledgements of one ``write_many``: one future for the whole batch.

    Item ``i`` uses reply token (and message id number) ``start + i``, so a reply
    finds its batch and index by arithmetic: a batch of thousands of writes costs
    no per-write entry, future or done-callback. With ``on_result``, each final
    outcome is also reported as its reply arrives.
    """

    __slots__ = ("closed", "done", "end", "left", "on_result", "outcomes", "reported", "start")

    def __init__(
        self, start: int, size: int, loop: asyncio.AbstractEventLoop, on_result: OnResult | None
    ) -> None:
        self.start = start
        self.end = start + size
        # Per item: None until a reply came, then what ``outcome()`` made of it
        # (RETRY when JetStream was not there and the item must be re-sent).
        self.outcomes: list[int | Exception | object | None] = [None] * size
        self.reported: list[bool] = [False] * size
        self.on_result = on_result
        self.left = size  # replies still expected
        self.closed = False
        self.done: asyncio.Future[None] = loop.create_future()

    def settle(self, index: int, ack: PubAck) -> None:
        if self.outcomes[index] is None:
            result = outcome(ack)
            self.outcomes[index] = RETRY if result is None else result
            self.left -= 1
            if result is not None:
                self.report(index, result)
            if not self.left and not self.done.done():
                self.done.set_result(None)

    def report(self, index: int, result: int | Exception) -> None:
        """Tell ``on_result`` about item ``index`` (once; it must not raise)."""
        if self.on_result is not None and not self.reported[index]:
            self.reported[index] = True
            try:
                self.on_result(index, result)
            except Exception:  # pragma: no cover - the callbacks catch their own errors
                logger.exception("nats: write_many result callback failed")

    def close(self) -> None:
        """The publisher stopped: the replies still missing will never come."""
        self.closed = True
        if not self.done.done():
            self.done.set_result(None)
