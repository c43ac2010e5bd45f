"""The client's connection state (:class:`Link`) and its reconnect supervisor (:class:`Reconnector`).

Lifecycle states (:data:`ConnectionState`)::

    disconnected --connect()--> connecting --welcome+login--> connected
    connected --drop (retryable, reconnect on)--> reconnecting --ok--> connected
    reconnecting --retries exhausted / fatal close / login rejected--> disconnected
    any --disconnect()--> disconnected

The client owns one :class:`Link` and one :class:`Reconnector`; the
reconnector gets the link, the injected :class:`~noex_client.ReconnectPolicy`,
the subscription manager and the client's ``open_connection`` coroutine
function (open + welcome + login) at construction, and never reaches back into
the client. One supervisor task per ``connect()`` waits for the live
connection to end and, as the policy allows, reconnects: open, restore every
subscription, and only then switch to ``connected``.

Events around a drop (as the published client emits them): while a reconnect
is coming there is no ``disconnected``, only ``reconnecting(attempt)`` per
attempt and then ``connected``, ``reconnected``, ``welcome(info)``. Failed
attempts are logged, not emitted. ``disconnected(reason)`` fires once the
client stops for good, with ``state`` already ``"disconnected"``: a fatal
close code or reconnect off (the close reason), a rejected login, or retries
exhausted (``"Max reconnect attempts reached"``, followed by an ``error``
event carrying a :class:`~noex_client.DisconnectedError` with that message).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final, Literal

from ._connection import CloseInfo, Connection
from ._errors import ConnectError, DisconnectedError, NoexClientError, SessionRevokedError
from ._events import EventEmitter
from ._protocol import CLOSE_SESSION_REVOKED
from ._reconnect import ReconnectPolicy
from ._subscriptions import SubscriptionManager

__all__ = [
    "GAVE_UP",
    "NOT_CONNECTED",
    "ConnectionState",
    "Link",
    "Reconnector",
    "WelcomeInfo",
]

logger = logging.getLogger("noex_client")

#: ``connecting``: connect() is opening the link, waiting for the welcome, logging in.
#: ``connected``: requests flow. ``reconnecting``: the link dropped; the policy's
#: backoff loop is trying again (requests fail fast). ``disconnected``: idle.
ConnectionState = Literal["connecting", "connected", "reconnecting", "disconnected"]

#: The message of the DisconnectedError raised by a request made while not connected.
NOT_CONNECTED: Final = "Cannot send request — client is disconnected"
#: The ``disconnected`` reason (and ``error`` message) when the retries are exhausted.
GAVE_UP: Final = "Max reconnect attempts reached"


@dataclass(frozen=True)
class WelcomeInfo:
    """The server's welcome message."""

    version: str
    server_time: int
    requires_auth: bool


class Link:
    """Which connection is live and the client's :data:`ConnectionState`.

    Shared by the client and its :class:`Reconnector`; the lifecycle events
    go out through it.

    Attributes:
        state: The current state.
        conn: The live connection (``None`` unless ``connected``).
        welcome: The last welcome received.
        closing: ``disconnect()`` is running or ran; nothing may reconnect.
    """

    def __init__(self, events: EventEmitter) -> None:
        self.events = events
        self.state: ConnectionState = "disconnected"
        self.conn: Connection | None = None
        self.welcome: WelcomeInfo | None = None
        self.closing = False
        self._changed = asyncio.Event()
        self._revoked_notified = False

    def set_state(self, state: ConnectionState) -> None:
        self.state = state
        # Wake every waiter, then start a fresh event for the next change.
        self._changed.set()
        self._changed = asyncio.Event()

    def begin_connect(self) -> None:
        """A new ``connect()``: clear the flags of the previous session."""
        self.closing = False
        self._revoked_notified = False
        self.set_state("connecting")

    def live(self) -> Connection:
        """The live connection.

        Raises:
            DisconnectedError: Not connected (any other state).
        """
        conn = self.conn
        if self.state != "connected" or conn is None or conn.is_closed:
            raise DisconnectedError(NOT_CONNECTED, {"state": self.state})
        return conn

    async def wait_connected(self, timeout_s: float) -> Connection | None:
        """The live connection once ``connected``; ``None`` when it ends ``disconnected``.

        Raises:
            TimeoutError: Not connected within ``timeout_s``.
        """
        async with asyncio.timeout(max(timeout_s, 0)):
            while True:
                conn = self.conn
                if self.state == "connected" and conn is not None and not conn.is_closed:
                    return conn
                if self.state == "disconnected":
                    return None
                await self._changed.wait()

    def go_live(self, conn: Connection, *, reconnected: bool) -> None:
        """Switch to ``connected`` on ``conn`` and emit the events of that moment."""
        self.conn = conn
        self.set_state("connected")
        self.events.emit("connected")
        if reconnected:
            self.events.emit("reconnected")
        if self.welcome is not None:
            self.events.emit("welcome", self.welcome)

    def go_down(self, reason: str, error: Exception | None = None) -> None:
        """Stop for good: ``disconnected`` first, then ``disconnected(reason)`` and
        ``error(error)`` when given."""
        self.conn = None
        self.set_state("disconnected")
        self.events.emit("disconnected", reason)
        if error is not None:
            self.report_error(error)

    def notify_revoked(self, reason: str) -> None:
        """Emit ``session_revoked(reason)`` once per connect()."""
        if not self._revoked_notified:
            self._revoked_notified = True
            self.events.emit("session_revoked", reason)

    def report_error(self, exc: Exception) -> None:
        """Emit ``error(exc)``; without a handler, log it instead."""
        if self.events.has("error"):
            self.events.emit("error", exc)
        else:
            logger.warning("noex_client: %s: %s", type(exc).__name__, exc)


class Reconnector:
    """Watches the live connection and reconnects as the policy allows.

    Args:
        link: The client's state.
        policy: Backoff and retry predicates; ``None`` never reconnects.
        open_connection: Opens a connection, waits for the welcome (stored in
            ``link.welcome``) and logs in; raises what :meth:`Connection.open`
            and the login raise.
        subscriptions: Restored on every new connection before ``connected``.
    """

    def __init__(
        self,
        link: Link,
        policy: ReconnectPolicy | None,
        open_connection: Callable[[], Awaitable[Connection]],
        subscriptions: SubscriptionManager,
    ) -> None:
        self.policy = policy
        self._link = link
        self._open = open_connection
        self._subscriptions = subscriptions
        self._task: asyncio.Task[None] | None = None

    def watch(self, conn: Connection) -> None:
        """Start supervising ``conn`` (the connection ``connect()`` just opened)."""
        self._task = asyncio.get_running_loop().create_task(self._supervise(conn))
        self._task.add_done_callback(self._supervisor_done)

    async def stop(self) -> None:
        """Stop supervising and any reconnect loop at once (the caller set ``closing``)."""
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def on_closed(self, conn: Connection, info: CloseInfo) -> None:
        """The connection's close hook (synchronous, so ``is_connected`` turns False
        the moment the link is known dead; the supervisor does the rest)."""
        link = self._link
        if conn is not link.conn or link.closing:
            return
        link.conn = None
        retry = self.policy is not None and self.policy.is_retryable(info.code)
        link.set_state("reconnecting" if retry else "disconnected")

    async def _supervise(self, conn: Connection) -> None:
        link = self._link
        while True:
            info = await conn.wait_closed()
            if link.closing:
                return
            link.conn = None
            if info.code == CLOSE_SESSION_REVOKED:
                link.notify_revoked(info.reason)
            if self.policy is None or not self.policy.is_retryable(info.code):
                self._give_up(info.reason)
                return
            logger.info("noex_client: connection closed (%s); reconnecting", info.describe())
            link.set_state("reconnecting")
            reconnected = await self._reconnect(self.policy)
            if reconnected is None:
                return
            conn = reconnected

    async def _reconnect(self, policy: ReconnectPolicy) -> Connection | None:
        attempt = 0
        for delay in policy.delays():
            attempt += 1
            await asyncio.sleep(delay)
            self._link.events.emit("reconnecting", attempt)
            try:
                conn = await self._open()
                await self._restore(conn)
            except ConnectError as exc:
                code = exc.details.get("closeCode", 1006) if isinstance(exc.details, dict) else 1006
                if not policy.is_retryable(code):
                    self._give_up(str(exc.details.get("reason", "")))
                    return None
                _attempt_failed(attempt, exc)
                continue
            except NoexClientError as exc:
                if policy.is_fatal(exc):
                    if isinstance(exc, SessionRevokedError):
                        self._link.notify_revoked(exc.message)
                    self._give_up(f"login rejected: {exc.code}", exc)
                    return None
                _attempt_failed(attempt, exc)
                continue
            except Exception as exc:  # a bug must not leave the client stuck "reconnecting"
                logger.exception("noex_client: reconnect attempt %d failed unexpectedly", attempt)
                self._link.report_error(exc)
                continue
            if conn.is_closed:
                continue
            self._link.go_live(conn, reconnected=True)
            return conn
        self._give_up(GAVE_UP, DisconnectedError(GAVE_UP, {"attempts": attempt}))
        return None

    async def _restore(self, conn: Connection) -> None:
        try:
            await self._subscriptions.restore(conn)
        except BaseException:
            await conn.close(1000, "")
            raise

    def _supervisor_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        # Unreachable unless there is a bug; never leave the state claiming a live link.
        logger.error("noex_client: connection supervisor failed", exc_info=task.exception())
        if not self._link.closing:
            self._give_up("internal_error")

    def _give_up(self, reason: str, error: Exception | None = None) -> None:
        self._subscriptions.close_all(DisconnectedError(f"disconnected: {reason or 'closed'}"))
        self._link.go_down(reason, error)


def _attempt_failed(attempt: int, exc: NoexClientError) -> None:
    logger.info("noex_client: reconnect attempt %d failed: %s: %s", attempt, exc.code, exc)
