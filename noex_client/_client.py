"""``NoexClient``: lifecycle, the one request path, reconnect supervision.

Lifecycle states (:data:`ConnectionState`)::

    disconnected --connect()--> connecting --welcome+login--> connected
    connected --drop (retryable, reconnect on)--> reconnecting --ok--> connected
    reconnecting --retries exhausted / fatal close / login rejected--> disconnected
    any --disconnect()--> disconnected
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Self, overload

from ._api.audit import AuditAPI
from ._api.auth import AuthAPI
from ._api.identity import IdentityAPI
from ._api.procedures import ProceduresAPI
from ._api.rules import RulesAPI
from ._api.server import ServerAPI
from ._api.store import StoreAPI
from ._connection import CloseInfo, Connection, ConnectionHooks
from ._errors import (
    ConnectError,
    DisconnectedError,
    NoexClientError,
    RequestTimeoutError,
)
from ._events import EventEmitter, RequestInfo, Unsubscribe
from ._lifecycle import ConnectionState, Reconnecting
from ._observe import READ_OPS, observe_request, safe_url
from ._options import ClientOptions
from ._protocol import Push, System
from ._reconnect import ReconnectPolicy
from ._session import Session
from ._subscriptions import Subscription, SubscriptionHost, SubscriptionManager
from ._transport import Connector, WebSocketConnector

__all__ = ["ConnectionState", "NoexClient", "WelcomeInfo"]

logger = logging.getLogger("noex_client")


@dataclass(frozen=True)
class WelcomeInfo:
    """The server's welcome message."""

    version: str
    server_time: int
    requires_auth: bool


class NoexClient(Reconnecting, SubscriptionHost):
    """Asyncio client for noex-server.

    Args:
        url: ``ws://`` or ``wss://`` URL of the server.
        options: Client options (defaults: :class:`ClientOptions()`).
        connector: Transport factory (default: websockets). Tests pass a
            :class:`~noex_client.MemoryConnector`.
        reconnect_policy: Backoff and retry predicate (default: built from
            ``options.reconnect``; pass one with a seeded RNG for reproducible runs).

    Raises:
        ValueError: ``url`` is not a ``ws://`` or ``wss://`` URL.
    """

    def __init__(
        self,
        url: str,
        options: ClientOptions | None = None,
        *,
        connector: Connector | None = None,
        reconnect_policy: ReconnectPolicy | None = None,
    ) -> None:
        if not url.startswith(("ws://", "wss://")):
            raise ValueError(f"url must start with ws:// or wss://, got {safe_url(url)!r}")
        self._url = url
        self._options = options if options is not None else ClientOptions()
        self._connector: Connector = connector if connector is not None else WebSocketConnector()
        backoff = self._options.reconnect_options
        if reconnect_policy is None and backoff is not None:
            reconnect_policy = ReconnectPolicy(backoff)
        self._policy = reconnect_policy
        self._timeout_s = self._options.request_timeout_ms / 1000.0
        self._events = EventEmitter()
        self._state: ConnectionState = "disconnected"
        self._state_changed = asyncio.Event()
        self._conn: Connection | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._opening: asyncio.Task[Connection] | None = None
        self._closing = False
        self._welcome: WelcomeInfo | None = None
        self._revoked_notified = False
        self._subscriptions = SubscriptionManager(self, self._options.max_buffered_pushes)
        self._hooks = ConnectionHooks(
            self._on_push, self._on_system, self._report_error, self._on_closed
        )
        self.store = StoreAPI(self)
        self.rules = RulesAPI(self)
        self.auth = AuthAPI(self)
        self.identity = IdentityAPI(self)
        self.audit = AuditAPI(self)
        self.procedures = ProceduresAPI(self)
        self.server = ServerAPI(self)

    def __repr__(self) -> str:
        return f"NoexClient(url={safe_url(self._url)!r}, state={self._state!r})"

    # -- state -------------------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        """``"connecting"``, ``"connected"``, ``"reconnecting"`` or ``"disconnected"``."""
        return self._state

    @property
    def is_connected(self) -> bool:
        """Shorthand for ``state == "connected"``."""
        return self._state == "connected"

    @property
    def options(self) -> ClientOptions:
        """The options the client was created with."""
        return self._options

    @overload
    def on(
        self,
        event: Literal["connected", "reconnected", "session_revoked"],
        handler: Callable[[], Any],
    ) -> Unsubscribe: ...
    @overload
    def on(self, event: Literal["disconnected"], handler: Callable[[str], Any]) -> Unsubscribe: ...
    @overload
    def on(
        self, event: Literal["reconnecting", "shutdown"], handler: Callable[[int], Any]
    ) -> Unsubscribe: ...
    @overload
    def on(self, event: Literal["error"], handler: Callable[[Exception], Any]) -> Unsubscribe: ...
    @overload
    def on(
        self, event: Literal["welcome"], handler: Callable[[WelcomeInfo], Any]
    ) -> Unsubscribe: ...
    @overload
    def on(
        self, event: Literal["request"], handler: Callable[[RequestInfo], Any]
    ) -> Unsubscribe: ...
    @overload
    def on(self, event: str, handler: Callable[..., Any]) -> Unsubscribe: ...
    def on(self, event: str, handler: Callable[..., Any]) -> Unsubscribe:
        """Register a lifecycle event handler; returns a callable removing it.

        Events: ``connected()``, ``disconnected(reason)``, ``reconnecting(attempt)``,
        ``reconnected()``, ``error(exc)``, ``welcome(info)``, ``session_revoked()``,
        ``request(info: RequestInfo)``, ``shutdown(grace_period_ms)``. May be
        called in any state.

        Raises:
            ValueError: Unknown event name.
        """
        return self._events.on(event, handler)

    # -- lifecycle -----------------------------------------------------------------------

    async def connect(self) -> WelcomeInfo:
        """Open the connection, wait for the welcome and log in if configured.

        Returns immediately with the last welcome when already connected.

        Raises:
            ConnectTimeoutError: No welcome within ``connect_timeout_ms``.
            ConnectError: The connection failed or a connect is already running.
            NoexClientError: Auto-login was rejected (the socket is closed).
        """
        if self._state == "connected" and self._welcome is not None:
            return self._welcome
        if self._state != "disconnected":
            raise ConnectError(message=f"connect() called while {self._state}")
        self._closing = False
        self._revoked_notified = False
        self._set_state("connecting")
        # A task, so that disconnect() can stop a connect that waits for a welcome.
        opening = self._opening = asyncio.get_running_loop().create_task(self._open_connection())
        try:
            conn = await opening
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if opening.cancelled() and (current is None or not current.cancelling()):
                self._set_state("disconnected")
                raise DisconnectedError(message="disconnect() called while connecting") from None
            opening.cancel()
            self._set_state("disconnected")
            raise
        except BaseException:
            self._set_state("disconnected")
            raise
        finally:
            self._opening = None
        self._conn = conn
        self._set_state("connected")
        self._events.emit("connected")
        self._supervisor = asyncio.get_running_loop().create_task(self._supervise(conn))
        self._supervisor.add_done_callback(self._supervisor_done)
        assert self._welcome is not None
        return self._welcome

    async def disconnect(self) -> None:
        """Close the connection, reject pending requests, drop subscriptions and
        stop any reconnect loop at once. Safe in every state (idempotent)."""
        self._closing = True
        opening = self._opening
        if opening is not None and not opening.done():
            opening.cancel()
            await asyncio.gather(opening, return_exceptions=True)
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None and supervisor is not asyncio.current_task():
            supervisor.cancel()
            await asyncio.gather(supervisor, return_exceptions=True)
        conn, self._conn = self._conn, None
        self._subscriptions.close_all(DisconnectedError(message="disconnect() called"))
        if conn is not None:
            await conn.close(1000, "")
        if self._state != "disconnected":
            self._set_state("disconnected")
            self._events.emit("disconnected", "client_disconnect")

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.disconnect()

    # -- the one request path ----------------------------------------------------------------

    async def request(self, op: str, /, **fields: Any) -> Any:
        """Send one request and return the result's ``data``.

        Field names are wire names (camelCase); ``None`` values are omitted.

        Raises:
            DisconnectedError: Not connected, or the connection dropped before the
                response (read-only ops are re-sent once after a reconnect when
                ``retry_reads`` is on).
            RequestTimeoutError: No response within ``request_timeout_ms``.
            NoexClientError: The server's error (a subclass per code).
            BackpressureError: ``max_pending_requests`` are already pending.
        """
        try:
            conn = self._live_connection()
        except DisconnectedError:
            # Yield once: a caller retrying in a loop must not starve the reconnect.
            await asyncio.sleep(0)
            raise
        if self._options.retry_reads or self._events.has("request") or _debug_logging():
            return await self._send(conn, op, fields, retry=True)
        # Hot path: nobody observes the request and nothing is retried.
        return await conn.request(op, fields, self._timeout_s)

    async def _send(self, conn: Connection, op: str, fields: dict[str, Any], retry: bool) -> Any:
        started = time.perf_counter()
        outcome = "ok"
        try:
            try:
                return await conn.request(op, fields, self._timeout_s)
            except DisconnectedError:
                if not (retry and self._options.retry_reads and op in READ_OPS) or self._closing:
                    raise
            remaining = self._timeout_s - (time.perf_counter() - started)
            conn = await self._wait_connected(remaining)
            remaining = self._timeout_s - (time.perf_counter() - started)
            if remaining <= 0:
                raise RequestTimeoutError(message=f"{op}: no response within the timeout")
            return await conn.request(op, fields, remaining)
        except NoexClientError as exc:
            outcome = exc.code
            raise
        finally:
            if self._events.has("request") or logger.isEnabledFor(logging.DEBUG):
                observe_request(self._events, op, fields, started, outcome)

    async def _wait_connected(self, timeout_s: float) -> Connection:
        try:
            async with asyncio.timeout(max(timeout_s, 0)):
                while True:
                    conn = self._conn
                    if self._state == "connected" and conn is not None and not conn.is_closed:
                        return conn
                    if self._state == "disconnected":
                        raise DisconnectedError(message="the connection was closed")
                    await self._state_changed.wait()
        except TimeoutError:
            raise RequestTimeoutError(message="no reconnect within the request timeout") from None

    # -- SubscriptionHost ----------------------------------------------------------------

    def _live_connection(self) -> Connection:
        conn = self._conn
        if self._state != "connected" or conn is None or conn.is_closed:
            raise DisconnectedError(message=f"not connected (state: {self._state})")
        return conn

    def _request_timeout_s(self) -> float:
        return self._timeout_s

    def _report_error(self, exc: Exception) -> None:
        if self._events.has("error"):
            self._events.emit("error", exc)
        else:
            logger.warning("noex_client: %s: %s", type(exc).__name__, exc)

    # -- internals ---------------------------------------------------------------------------

    def _set_state(self, state: ConnectionState) -> None:
        self._state = state
        # Wake every waiter, then start a fresh event for the next change.
        self._state_changed.set()
        self._state_changed = asyncio.Event()

    async def _open_connection(self) -> Connection:
        opts = self._options
        session: Session[Subscription] = Session(
            max_pending=opts.max_pending_requests,
            max_buffered_pushes=opts.max_buffered_pushes,
            heartbeat=opts.heartbeat,
        )
        conn = await Connection.open(
            self._connector,
            self._url,
            timeout_s=opts.connect_timeout_ms / 1000.0,
            max_size=opts.max_payload_bytes,
            ssl=opts.ssl,
            session=session,
            hooks=self._hooks,
            liveness_ms=opts.liveness_timeout_ms,
        )
        try:
            welcome = conn.welcome
            self._welcome = WelcomeInfo(
                welcome.version, int(welcome.server_time), welcome.requires_auth
            )
            self._events.emit("welcome", self._welcome)
            await self._login(conn)
            if self._closing:
                raise DisconnectedError(message="disconnect() called while connecting")
        except BaseException:
            await conn.close(1000, "")
            raise
        return conn

    async def _login(self, conn: Connection) -> None:
        auth = self._options.auth
        if auth is None or not conn.welcome.requires_auth:
            return
        if auth.token is not None:
            await self._send(conn, "auth.login", {"token": auth.token}, retry=False)
        elif auth.credentials is not None:
            creds = auth.credentials
            fields = {"username": creds.username, "password": creds.password}
            await self._send(conn, "identity.login", fields, retry=False)

    def _on_closed(self, conn: Connection, info: CloseInfo) -> None:
        # Synchronous, so is_connected turns False the moment the link is known dead;
        # the supervisor then emits the events and runs the reconnect loop.
        if conn is not self._conn or self._closing:
            return
        self._conn = None
        retry = self._policy is not None and self._policy.is_retryable(info.code)
        self._set_state("reconnecting" if retry else "disconnected")

    def _on_push(self, key: Any, push: Push) -> None:
        if isinstance(key, Subscription):
            self._subscriptions.deliver(key, push)

    def _on_system(self, message: System) -> None:
        if message.event == "shutdown":
            grace = message.grace_period_ms
            logger.info("noex_client: server shutting down (grace period %s ms)", grace)
            self._events.emit("shutdown", int(grace) if grace is not None else 0)
        elif message.event == "session_revoked":
            self._notify_revoked()
        else:
            logger.info("noex_client: unknown system event %r ignored", message.event)


def _debug_logging() -> bool:
    return logger.isEnabledFor(logging.DEBUG)
