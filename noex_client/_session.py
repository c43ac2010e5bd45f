"""Sans-I/O protocol state for one connection: ids, matching, push routing, ping→pong.

A :class:`Session` never performs I/O and imports no asyncio. The I/O layer
feeds it every received frame with :meth:`Session.receive` and acts on the
returned events (dispatched with ``match``); frames the session wants to send
on its own (pongs) are collected with :meth:`Session.data_to_send`.

Push routing. A server subscription id is *bound* to a caller-chosen key with
:meth:`Session.bind`. Pushes for a bound id are returned as :class:`Deliver`.
Pushes for an id that is not bound yet are buffered (the server may push before
the subscribe result is read) as long as a subscribe request is in flight or
its result named that id; :meth:`Session.bind` hands them over in order. Once
no subscribe is in flight, pushes for unknown ids are dropped: they belong to
subscriptions that no longer exist. A new connection always gets a new
session, so ids from an earlier connection can never reach a subscription.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Final, Generic, TypeVar

import msgspec

from ._errors import BackpressureError
from ._protocol import (
    Error,
    Ping,
    Push,
    Result,
    System,
    Welcome,
    decode,
    encode_pong,
    encode_request,
)

__all__ = [
    "SUBSCRIBE_OPS",
    "Deliver",
    "Dropped",
    "Event",
    "Held",
    "Reply",
    "ServerError",
    "Session",
    "StrayReply",
]

K = TypeVar("K")

#: Request types whose successful result carries a new ``subscriptionId``.
SUBSCRIBE_OPS: Final = frozenset({"store.subscribe", "rules.subscribe", "logic.subscribeView"})


# Events are short-lived and acyclic: gc=False keeps them out of the cyclic GC.


class Reply(msgspec.Struct, frozen=True, gc=False):
    """The response (``Result`` or ``Error``) to a pending request ``op``."""

    op: str
    message: Result | Error


class StrayReply(msgspec.Struct, frozen=True, gc=False):
    """A response whose id matches no pending request (e.g. after a timeout)."""

    message: Result | Error


class ServerError(msgspec.Struct, frozen=True, gc=False):
    """An error with ``id: 0``: the server could not parse something we sent."""

    message: Error


class Deliver(msgspec.Struct, Generic[K], frozen=True, gc=False):
    """A push for the subscription bound to ``key``."""

    key: K
    push: Push


class Held(msgspec.Struct, frozen=True, gc=False):
    """A push buffered until its subscription id is bound (see :meth:`Session.bind`)."""

    push: Push


class Dropped(msgspec.Struct, frozen=True, gc=False):
    """A push for a subscription id nobody is waiting for."""

    push: Push


Event = Welcome | Ping | System | Reply | StrayReply | ServerError | Deliver[Any] | Held | Dropped


class Session(Generic[K]):
    """Protocol state of one connection.

    Args:
        max_pending: Requests awaiting a response at once.
        max_buffered_pushes: Pushes held for not-yet-bound subscription ids.
        heartbeat: Queue a pong for every ping.
    """

    def __init__(
        self, *, max_pending: int = 10_000, max_buffered_pushes: int = 1_000, heartbeat: bool = True
    ) -> None:
        self._next_id = 1
        self._pending: dict[int | float, str] = {}
        self._max_pending = max_pending
        self._max_buffered = max_buffered_pushes
        self._heartbeat = heartbeat
        self._bound: dict[str, K] = {}
        # Ids named by a subscribe result, not yet bound: their pushes wait for bind().
        self._announced: dict[str, deque[Push]] = {}
        # Pushes for ids not yet named by any result, while a subscribe is in flight.
        self._orphans: deque[Push] = deque()
        self._subscribes_in_flight = 0
        self._outgoing: list[bytes] = []
        self.welcome: Welcome | None = None
        self.last_ping: int | float | None = None

    @property
    def pending_count(self) -> int:
        """Requests sent and not yet answered or forgotten."""
        return len(self._pending)

    def start_request(self, op: str, fields: dict[str, Any]) -> tuple[int, bytes]:
        """Allocate an id (1, 2, ...; never 0) and encode the request frame.

        Raises:
            BackpressureError: ``max_pending`` requests are already in flight.
            TypeError: A field cannot be encoded as JSON.
        """
        if len(self._pending) >= self._max_pending:
            raise BackpressureError(
                message=f"{self._max_pending} requests already awaiting a response"
            )
        request_id = self._next_id
        frame = encode_request(request_id, op, fields)
        self._next_id += 1
        self._pending[request_id] = op
        if op in SUBSCRIBE_OPS:
            self._subscribes_in_flight += 1
        return request_id, frame

    def forget_request(self, request_id: int) -> None:
        """Stop waiting for ``request_id`` (timed out or cancelled)."""
        op = self._pending.pop(request_id, None)
        if op is not None and op in SUBSCRIBE_OPS:
            self._subscribe_finished()

    def receive(self, frame: str | bytes) -> Event:
        """Process one received frame and return what it means.

        Raises:
            ProtocolError: The frame is not a valid server message.
        """
        message = decode(frame)
        match message:
            case Result() | Error() if message.id in self._pending:
                op = self._pending.pop(message.id)
                if op in SUBSCRIBE_OPS:
                    if isinstance(message, Result):
                        self._announce(message.data)
                    self._subscribe_finished()
                return Reply(op, message)
            case Error() if message.id == 0:
                return ServerError(message)
            case Result() | Error():
                return StrayReply(message)
            case Push():
                return self._route(message)
            case Ping():
                self.last_ping = message.timestamp
                if self._heartbeat:
                    self._outgoing.append(encode_pong(message.timestamp))
                return message
            case Welcome():
                self.welcome = message
                return message
            case System():
                return message

    def data_to_send(self) -> list[bytes]:
        """Frames the session produced itself (pongs); empties the queue."""
        out, self._outgoing = self._outgoing, []
        return out

    def bind(self, subscription_id: str, key: K) -> list[Push]:
        """Route pushes for ``subscription_id`` to ``key``; return those already buffered."""
        self._bound[subscription_id] = key
        held = self._announced.pop(subscription_id, None)
        return list(held) if held else []

    def unbind(self, subscription_id: str) -> None:
        """Stop routing (and buffering) pushes for ``subscription_id``."""
        self._bound.pop(subscription_id, None)
        self._announced.pop(subscription_id, None)

    def _route(self, push: Push) -> Deliver[K] | Held | Dropped:
        sid = push.subscription_id
        key = self._bound.get(sid)
        if key is not None:
            return Deliver(key, push)
        held = self._announced.get(sid)
        if held is not None:
            return Held(push) if self._hold(held, push) else Dropped(push)
        if self._subscribes_in_flight and self._hold(self._orphans, push):
            return Held(push)
        return Dropped(push)

    def _hold(self, buffer: deque[Push], push: Push) -> bool:
        if self._max_buffered <= 0:
            return False
        buffer.append(push)
        if self._buffered_total() > self._max_buffered:
            # Bounded memory: the oldest held push goes first.
            (self._orphans or buffer).popleft()
        return True

    def _buffered_total(self) -> int:
        return len(self._orphans) + sum(len(q) for q in self._announced.values())

    def _announce(self, data: Any) -> None:
        sid = data.get("subscriptionId") if isinstance(data, dict) else None
        if not isinstance(sid, str) or sid in self._bound:
            return
        held = self._announced.setdefault(sid, deque())
        keep: deque[Push] = deque()
        for push in self._orphans:
            (held if push.subscription_id == sid else keep).append(push)
        self._orphans = keep

    def _subscribe_finished(self) -> None:
        self._subscribes_in_flight -= 1
        if not self._subscribes_in_flight:
            self._orphans.clear()
