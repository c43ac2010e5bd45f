"""The one subscription mechanism behind store, rules and view subscriptions.

API groups build on :class:`SubscriptionManager` (the client creates one and
hands it to each group that subscribes)::

    sub = await subscriptions.open(
        "store.subscribe",                      # the subscribe op
        {"query": "all-users", "params": None}, # its fields; replayed on reconnect
        unsubscribe_op="store.unsubscribe",
        on_result=lambda result: ...,           # each subscribe result (initial AND after
                                                #   every reconnect: fresh data)
        on_push=lambda data: ...,               # every push's ``data``
    )
    sub.close()                                 # synchronous; unsubscribes in the background
    subscriptions.watch(...)                    # the same subscription as an async iterator
    await subscriptions.unsubscribe_by_id(      # by server id, awaiting the server's answer
        "store.subscribe", "store.unsubscribe", "sub-3")

What the manager guarantees:

* ``open`` sends the subscribe request on the live connection and returns once
  the result arrived and ``on_result`` ran; server errors propagate. If
  ``on_result`` raises on that first result, the subscription is cancelled
  (unsubscribed in the background) and ``open`` re-raises, as the published
  client's ``subscribe`` does.
* The subscription is recorded with its op and fields. After every reconnect,
  :meth:`SubscriptionManager.restore` re-sends it, binds the new server id and
  calls ``on_result`` with the fresh result before the client reports
  ``connected``. If the server rejects the re-subscribe (e.g. the query no
  longer exists), the error goes to the ``error`` event and the subscription
  is removed (``sub.active`` becomes ``False``; ``on_closed`` is called).
* Pushes are routed by server id per connection, so a push for an id from an
  earlier connection can never reach a subscription. Pushes that arrive before
  the subscribe result are buffered by the session and delivered after
  ``on_result``, in order.
* Apart from that first call, a callback (``on_result``/``on_push``) that
  raises is isolated: the exception is logged and emitted as the ``error``
  event; delivery continues.
* A callback may return an awaitable (an ``async def`` callback): those run one
  at a time per subscription, in arrival order. At most ``backlog_limit`` wait;
  beyond that the oldest waiting update is dropped with a warning, so a slow
  application cannot grow memory without bound.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ._errors import DisconnectedError, NoexClientError, RequestTimeoutError
from ._protocol import Push
from ._watch import OverflowPolicy, Watch

if TYPE_CHECKING:
    from ._connection import Connection

__all__ = ["Subscription", "SubscriptionManager"]

logger = logging.getLogger("noex_client")

T = TypeVar("T")


class Subscription:
    """One user subscription, kept alive across reconnects.

    Attributes:
        op: The subscribe op (``store.subscribe``, ``rules.subscribe``,
            ``logic.subscribeView``).
        fields: The subscribe request's fields (replayed on reconnect).
        server_id: The id on the current connection (changes on reconnect).
        active: ``False`` once closed or removed.
    """

    def __init__(
        self,
        manager: SubscriptionManager,
        op: str,
        fields: dict[str, Any],
        unsubscribe_op: str,
        on_result: Callable[[Any], Any],
        on_push: Callable[[Any], Any],
        on_closed: Callable[[Exception | None], Any] | None,
    ) -> None:
        self._manager = manager
        self.op = op
        self.fields = fields
        self.unsubscribe_op = unsubscribe_op
        self.on_result = on_result
        self.on_push = on_push
        self.on_closed = on_closed
        self.server_id: str | None = None
        self.connection: Connection | None = None
        self.active = True
        # Awaitables returned by async callbacks, run one at a time in arrival order.
        self.backlog: deque[Awaitable[Any]] = deque()
        self.worker: asyncio.Task[None] | None = None

    def close(self) -> None:
        """Stop delivery now and unsubscribe on the server in the background (idempotent)."""
        self._manager.close(self)

    def __repr__(self) -> str:
        return f"Subscription(op={self.op!r}, server_id={self.server_id!r}, active={self.active})"


class SubscriptionManager:
    """Opens, routes, restores and closes subscriptions for one client.

    Args:
        live_connection: Returns the live connection or raises
            :class:`~noex_client.DisconnectedError`.
        report_error: Where isolated callback errors and rejected
            re-subscriptions go (the client's ``error`` event).
        timeout_s: Timeout of the subscribe and unsubscribe requests.
        backlog_limit: Updates waiting per slow ``async`` callback.
    """

    def __init__(
        self,
        live_connection: Callable[[], Connection],
        report_error: Callable[[Exception], None],
        timeout_s: float,
        backlog_limit: int = 1_000,
    ) -> None:
        self._live = live_connection
        self._report = report_error
        self._timeout_s = timeout_s
        self._backlog_limit = max(backlog_limit, 1)
        self._subs: dict[int, Subscription] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    def __len__(self) -> int:
        return len(self._subs)

    def active(self) -> list[Subscription]:
        """The subscriptions currently recorded (a copy)."""
        return list(self._subs.values())

    async def open(
        self,
        op: str,
        fields: dict[str, Any],
        *,
        unsubscribe_op: str,
        on_result: Callable[[Any], Any],
        on_push: Callable[[Any], Any],
        on_closed: Callable[[Exception | None], Any] | None = None,
    ) -> Subscription:
        """Subscribe on the live connection; see the module docstring.

        Raises:
            DisconnectedError: Not connected.
            NoexClientError: The server rejected the subscription.
            Exception: What ``on_result`` raised on the first result.
        """
        sub = Subscription(self, op, fields, unsubscribe_op, on_result, on_push, on_closed)
        connection = self._live()
        await self._establish(sub, connection, initial=True)
        if not sub.active:  # closed by the caller while the result was in flight
            return sub
        self._subs[id(sub)] = sub
        if connection.is_closed:
            # The connection dropped after the result: restore() re-subscribes it on the
            # next connection, or already ran, in which case we do it here.
            try:
                live = self._live()
            except DisconnectedError:
                return sub
            if live is not connection:
                await self._establish(sub, live)
        return sub

    def watch(
        self,
        op: str,
        fields: dict[str, Any],
        *,
        unsubscribe_op: str,
        initial: Callable[[Any], T] | None,
        push: Callable[[Any], T] | None = None,
        buffer_size: int,
        overflow: OverflowPolicy,
        what: str,
    ) -> Watch[T]:
        """A :class:`~noex_client.Watch` over a subscription opened on entry.

        ``initial`` turns each subscribe result into an item (``None``: the
        result yields nothing), ``push`` each push's ``data`` (``None``: the
        data is the item).

        Raises:
            ValueError: ``buffer_size`` is not positive.
        """

        async def start(
            put: Callable[[T], None], ended: Callable[[Exception | None], None]
        ) -> Callable[[], None]:
            sub = await self.open(
                op,
                fields,
                unsubscribe_op=unsubscribe_op,
                on_result=(lambda _r: None) if initial is None else (lambda r: put(initial(r))),
                on_push=put if push is None else (lambda data: put(push(data))),
                on_closed=ended,
            )
            return sub.close

        return Watch(start, buffer_size=buffer_size, overflow=overflow, what=what)

    async def restore(self, connection: Connection) -> None:
        """Re-subscribe every recorded subscription on a fresh ``connection``.

        Server rejections remove the subscription (reported through ``error``).

        Raises:
            DisconnectedError, RequestTimeoutError: The connection failed; the
                caller retries the whole reconnect.
        """
        while True:
            todo = [s for s in self._subs.values() if s.connection is not connection]
            if not todo:
                return
            outcomes = await asyncio.gather(
                *(self._establish(s, connection) for s in todo), return_exceptions=True
            )
            for sub, outcome in zip(todo, outcomes, strict=True):
                if isinstance(outcome, DisconnectedError | RequestTimeoutError):
                    raise outcome
                if isinstance(outcome, NoexClientError):
                    self._remove(sub, outcome)
                    self._report(outcome)
                elif isinstance(outcome, BaseException):
                    raise outcome

    def deliver(self, sub: Subscription, push: Push) -> None:
        """Hand a routed push to ``sub`` (called by the connection's reader)."""
        if sub.active and sub.server_id == push.subscription_id:
            self._call(sub.on_push, push.data, sub)

    def close(self, sub: Subscription) -> None:
        """Close ``sub``: no more callbacks; unsubscribe in the background."""
        if not sub.active:
            return
        self._remove(sub, None)
        connection, server_id = sub.connection, sub.server_id
        if connection is None or server_id is None or connection.is_closed:
            return
        self._background_unsubscribe(connection, sub.unsubscribe_op, server_id)

    async def unsubscribe_by_id(
        self, subscribe_op: str, unsubscribe_op: str, subscription_id: str
    ) -> None:
        """Unsubscribe ``subscription_id`` on the server and wait for the confirmation.

        A subscription of this client opened with ``subscribe_op`` under that id
        stops delivering at once and is not restored after a reconnect. Unlike
        ``sub.close()``, the server's answer is awaited and its error raised.

        Raises:
            DisconnectedError: Not connected.
            NotFoundError: The server knows no such subscription.
        """
        for sub in list(self._subs.values()):
            if sub.server_id == subscription_id and sub.op == subscribe_op:
                # Removed without close(): this call sends the unsubscribe and awaits it.
                self._remove(sub, None)
                break
        connection = self._live()
        await connection.request(
            unsubscribe_op, {"subscriptionId": subscription_id}, self._timeout_s
        )

    def close_all(self, reason: Exception | None = None) -> None:
        """Forget every subscription without talking to the server (the link is gone)."""
        for sub in list(self._subs.values()):
            self._remove(sub, reason)

    async def _establish(
        self, sub: Subscription, connection: Connection, *, initial: bool = False
    ) -> None:
        result = await connection.request(sub.op, sub.fields, self._timeout_s)
        server_id = result.get("subscriptionId") if isinstance(result, dict) else None
        if not isinstance(server_id, str):
            raise NoexClientError("PROTOCOL_ERROR", f"{sub.op} result has no subscriptionId")
        if sub.connection is not None and sub.server_id is not None:
            sub.connection.session.unbind(sub.server_id)
        sub.connection, sub.server_id = connection, server_id
        if not sub.active:
            connection.session.unbind(server_id)
            self._background_unsubscribe(connection, sub.unsubscribe_op, server_id)
            return
        if initial:
            try:
                outcome = sub.on_result(result)
            except BaseException:
                self._remove(sub, None)
                self._background_unsubscribe(connection, sub.unsubscribe_op, server_id)
                raise
            self._schedule(outcome, sub)
        else:
            self._call(sub.on_result, result, sub)
        for push in connection.session.bind(server_id, sub):
            self.deliver(sub, push)

    def _background_unsubscribe(self, connection: Connection, op: str, server_id: str) -> None:
        task = asyncio.get_running_loop().create_task(self._unsubscribe(connection, op, server_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _unsubscribe(self, connection: Connection, op: str, server_id: str) -> None:
        try:
            await connection.request(op, {"subscriptionId": server_id}, self._timeout_s)
        except NoexClientError as exc:
            # Best effort: the subscription is gone locally either way.
            logger.debug("noex_client: %s %s failed: %s", op, server_id, exc.code)

    def _remove(self, sub: Subscription, reason: Exception | None) -> None:
        sub.active = False
        self._subs.pop(id(sub), None)
        if sub.connection is not None and sub.server_id is not None:
            sub.connection.session.unbind(sub.server_id)
        if sub.on_closed is not None:
            self._call(sub.on_closed, reason, None)

    def _call(self, callback: Callable[[Any], Any], value: Any, sub: Subscription | None) -> None:
        try:
            outcome = callback(value)
        except Exception as exc:
            logger.exception("noex_client: subscription callback raised")
            self._report(exc)
            return
        self._schedule(outcome, sub)

    def _schedule(self, outcome: Any, sub: Subscription | None) -> None:
        """Run what an async callback returned (one at a time per subscription)."""
        if not inspect.isawaitable(outcome):
            return
        if sub is None:
            task = asyncio.ensure_future(outcome)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        sub.backlog.append(outcome)
        if len(sub.backlog) > self._backlog_limit:
            # Bounded memory when the application is slower than the server.
            _discard(sub.backlog.popleft())
            logger.warning("noex_client: slow async callback; dropped the oldest update")
        if sub.worker is None:
            sub.worker = asyncio.get_running_loop().create_task(self._drain(sub))

    async def _drain(self, sub: Subscription) -> None:
        try:
            while sub.backlog:
                try:
                    await sub.backlog.popleft()
                except Exception as exc:
                    logger.exception("noex_client: subscription callback raised")
                    self._report(exc)
        finally:
            sub.worker = None


def _discard(awaitable: Awaitable[Any]) -> None:
    if inspect.iscoroutine(awaitable):
        awaitable.close()
    elif isinstance(awaitable, asyncio.Future):
        awaitable.cancel()
