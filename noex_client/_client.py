"""``NoexClient``: the API groups, connect / disconnect, and the one request path.

The connection state lives in a :class:`~noex_client._lifecycle.Link` and the
reconnect loop in a :class:`~noex_client._lifecycle.Reconnector` (see
:mod:`noex_client._lifecycle` for the states and the events around a drop);
the client composes them with its subscription manager and the API groups.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Literal, Self, overload
from urllib.parse import urlsplit

from ._api.audit import AuditAPI
from ._api.auth import AuthAPI
from ._api.identity import IdentityAPI
from ._api.logic import LogicAPI
from ._api.procedures import ProceduresAPI
from ._api.rules import RulesAPI
from ._api.server import ServerAPI
from ._api.store import StoreAPI
from ._connection import Connection, ConnectionHooks
from ._errors import ConnectError, DisconnectedError, NoexClientError, RequestTimeoutError
from ._events import EventEmitter, RequestInfo, Unsubscribe
from ._lifecycle import ConnectionState, Link, Reconnector, WelcomeInfo
from ._observe import READ_OPS, observe_request, safe_url
from ._options import ClientOptions
from ._protocol import JSON_NULL, Push, System
from ._reconnect import ReconnectPolicy
from ._session import Session
from ._subscriptions import Subscription, SubscriptionManager
from ._transport import Connector, connector_for

__all__ = ["ConnectionState", "NoexClient", "WelcomeInfo"]

logger = logging.getLogger("noex_client")


class NoexClient:
    """Asyncio client for noex-server.

    Args:
        url: ``ws://`` or ``wss://`` URL of the server.
        options: Client options (defaults: :class:`ClientOptions()`).
        connector: Transport factory (default: the one ``options.transport``
            names). Tests pass a :class:`~noex_client.MemoryConnector`.
        reconnect_policy: Backoff, fatal close codes and fatal errors (default:
            built from ``options.reconnect``; pass one with a seeded RNG for
            reproducible runs, or other fatal close codes).

    Raises:
        ValueError: ``url`` is not a ``ws://`` or ``wss://`` URL.
        ImportError: ``transport="picows"`` and picows is not installed.
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
        try:
            urlsplit(url).port  # noqa: B018  (parses host and port, raising on bad ones)
        except ValueError as exc:
            raise ValueError(f"url {safe_url(url)!r} is not a valid URL: {exc}") from None
        self._url = url
        self._options = options if options is not None else ClientOptions()
        self._connector: Connector = (
            connector if connector is not None else connector_for(self._options.transport)
        )
        backoff = self._options.reconnect_options
        if reconnect_policy is None and backoff is not None:
            reconnect_policy = ReconnectPolicy(backoff)
        self._timeout_s = self._options.request_timeout_ms / 1000.0
        self._events = EventEmitter()
        self._link = Link(self._events)
        self._opening: asyncio.Task[Connection] | None = None
        self._subscriptions = SubscriptionManager(
            self._link.live,
            self._link.report_error,
            self._timeout_s,
            self._options.max_buffered_pushes,
        )
        self._reconnector = Reconnector(
            self._link, reconnect_policy, self._open_connection, self._subscriptions
        )
        self._hooks = ConnectionHooks(
            self._on_push, self._on_system, self._link.report_error, self._reconnector.on_closed
        )
        self.store = StoreAPI(self, self._subscriptions)
        self.rules = RulesAPI(self, self._subscriptions)
        self.logic = LogicAPI(self, self._subscriptions)
        self.auth = AuthAPI(self)
        self.identity = IdentityAPI(self)
        self.audit = AuditAPI(self)
        self.procedures = ProceduresAPI(self)
        self.server = ServerAPI(self)

    def __repr__(self) -> str:
        return f"NoexClient(url={safe_url(self._url)!r}, state={self.state!r})"

    # -- state -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The server URL, as given (credentials included; reprs and logs mask them)."""
        return self._url

    @property
    def state(self) -> ConnectionState:
        """``"connecting"``, ``"connected"``, ``"reconnecting"`` or ``"disconnected"``."""
        return self._link.state

    @property
    def is_connected(self) -> bool:
        """Shorthand for ``state == "connected"``."""
        return self._link.state == "connected"

    @property
    def options(self) -> ClientOptions:
        """The options the client was created with."""
        return self._options

    @property
    def reconnect_policy(self) -> ReconnectPolicy | None:
        """The policy deciding on reconnects (``None``: never reconnect)."""
        return self._reconnector.policy

    @overload
    def on(
        self, event: Literal["connected", "reconnected"], handler: Callable[[], Any]
    ) -> Unsubscribe: ...
    @overload
    def on(
        self, event: Literal["session_revoked"], handler: Callable[[], Any] | Callable[[str], Any]
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
        ``reconnected()``, ``error(exc)``, ``welcome(info)``,
        ``session_revoked(reason)`` (a handler without parameters works too),
        ``request(info: RequestInfo)``, ``shutdown(grace_period_ms)``. May be
        called in any state; an unknown name is accepted and logged.

        Raises:
            TypeError: ``handler`` is not callable.
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
        link = self._link
        if link.state == "connected" and link.welcome is not None:
            return link.welcome
        if link.state != "disconnected":
            raise ConnectError(f"connect() called while {link.state}")
        link.begin_connect()
        # A task, so that disconnect() can stop a connect that waits for a welcome.
        opening = self._opening = asyncio.get_running_loop().create_task(self._open_connection())
        try:
            conn = await opening
        except asyncio.CancelledError:
            current = asyncio.current_task()
            link.set_state("disconnected")
            if opening.cancelled() and (current is None or not current.cancelling()):
                raise DisconnectedError("disconnect() called while connecting") from None
            opening.cancel()
            raise
        except BaseException:
            link.set_state("disconnected")
            raise
        finally:
            self._opening = None
        link.go_live(conn, reconnected=False)
        self._reconnector.watch(conn)
        assert link.welcome is not None
        return link.welcome

    async def disconnect(self) -> None:
        """Close the connection, reject pending requests, drop subscriptions and
        stop any reconnect loop at once. Safe in every state (idempotent)."""
        link = self._link
        link.closing = True
        opening = self._opening
        if opening is not None and not opening.done():
            opening.cancel()
            await asyncio.gather(opening, return_exceptions=True)
        await self._reconnector.stop()
        conn, link.conn = link.conn, None
        self._subscriptions.close_all(DisconnectedError("disconnect() called"))
        if conn is not None:
            await conn.close(1000, "")
        if link.state != "disconnected":
            link.go_down("client_disconnect")

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

    async def request(
        self, msg_type: str, payload: Mapping[str, Any] | None = None, **fields: Any
    ) -> Any:
        """Send one request and return the result's ``data``.

        Two forms, which may be combined: the published client's
        ``request("store.get", {"bucket": "users", "key": "a"})`` sends the
        payload dict as it is (``None`` values as JSON ``null``), and
        ``request("store.get", bucket="users", key="a")`` sends the keyword
        fields with ``None`` values left out. Field names are wire names
        (camelCase); ``id`` and ``type`` are reserved.

        Raises:
            TypeError: ``payload`` is not a dict, or a field is ``id``/``type``
                or not JSON-encodable.
            DisconnectedError: Not connected, or the connection dropped before the
                response (read-only ops are re-sent once after a reconnect when
                ``retry_reads`` is on).
            RequestTimeoutError: No response within ``request_timeout_ms``.
            NoexClientError: The server's error (a subclass per code).
            BackpressureError: ``max_pending_requests`` are already pending.
        """
        if payload is not None:
            fields = {**_explicit_nulls(payload), **fields}
        try:
            conn = self._link.live()
        except DisconnectedError:
            # Yield once: a caller retrying in a loop must not starve the reconnect.
            await asyncio.sleep(0)
            raise
        if self._options.retry_reads or self._events.has("request") or _debug_logging():
            return await self._send(conn, msg_type, fields, retry=True)
        # Hot path: nobody observes the request and nothing is retried.
        return await conn.request(msg_type, fields, self._timeout_s)

    async def _send(self, conn: Connection, op: str, fields: dict[str, Any], retry: bool) -> Any:
        started = time.perf_counter()
        outcome = "ok"
        try:
            try:
                return await conn.request(op, fields, self._timeout_s)
            except DisconnectedError:
                retryable = retry and self._options.retry_reads and op in READ_OPS
                if not retryable or self._link.closing:
                    raise
            conn = await self._wait_connected(op, started)
            remaining = self._timeout_s - (time.perf_counter() - started)
            if remaining <= 0:
                raise _timed_out(op, self._options.request_timeout_ms, "")
            return await conn.request(op, fields, remaining)
        except NoexClientError as exc:
            outcome = exc.code
            raise
        finally:
            if self._events.has("request") or logger.isEnabledFor(logging.DEBUG):
                observe_request(self._events, op, fields, started, outcome)

    async def _wait_connected(self, op: str, started: float) -> Connection:
        remaining = self._timeout_s - (time.perf_counter() - started)
        try:
            conn = await self._link.wait_connected(remaining)
        except TimeoutError:
            ms = self._options.request_timeout_ms
            raise _timed_out(op, ms, " (no reconnect in time)") from None
        if conn is None:
            raise DisconnectedError("the connection was closed")
        return conn

    # -- internals ---------------------------------------------------------------------------

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
            self._link.welcome = WelcomeInfo(
                welcome.version, int(welcome.server_time), welcome.requires_auth
            )
            await self._login(conn)
            if self._link.closing:
                raise DisconnectedError("disconnect() called while connecting")
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

    def _on_push(self, key: Any, push: Push) -> None:
        if isinstance(key, Subscription):
            self._subscriptions.deliver(key, push)

    def _on_system(self, message: System) -> None:
        if message.event == "shutdown":
            grace = message.grace_period_ms
            logger.info("noex_client: server shutting down (grace period %s ms)", grace)
            self._events.emit("shutdown", int(grace) if grace is not None else 0)
        elif message.event == "session_revoked":
            self._link.notify_revoked(message.reason or "session_revoked")
        else:
            logger.info("noex_client: unknown system event %r ignored", message.event)


def _explicit_nulls(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The published ``request(type, payload)`` form sends ``None`` as JSON ``null``."""
    if not isinstance(payload, Mapping):
        raise TypeError(f"payload must be a dict, got {type(payload).__name__}")
    return {key: JSON_NULL if value is None else value for key, value in payload.items()}


def _timed_out(op: str, timeout_ms: int, why: str) -> RequestTimeoutError:
    return RequestTimeoutError(f"Request {op} timed out after {timeout_ms}ms{why}")


def _debug_logging() -> bool:
    return logger.isEnabledFor(logging.DEBUG)
