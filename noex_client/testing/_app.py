"""``LocalServer``: the asyncio WebSocket server and its fault hooks."""

from __future__ import annotations

import asyncio
import contextlib
import http
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from ._audit import AuditConfig
from ._auth import AuthConfig
from ._config import RateLimit, ServerConfig, parse_auth
from ._connection import serve_connection, stop_accepting
from ._core import ServerCore
from ._rules import RuleEngine
from ._scheduler import TimerScheduler
from ._state import ConnectionState
from ._store import QueryFunction, Store

__all__ = ["LocalServer"]

# The WebSocket layer's logger. At DEBUG, websockets logs the start of every
# frame, and frames carry passwords, secrets and session tokens: it stays at
# INFO unless a user lowers it on purpose.
_WIRE_LOGGER = logging.getLogger("noex_client.testing.websockets")
_WIRE_LOGGER.setLevel(logging.INFO)


class LocalServer:
    """An in-process noex server on ``127.0.0.1`` (port 0 by default).

    Args:
        buckets: Bucket configs ``{"name", "schema", "key"?, "indexes"?, ...}``.
        queries: Query name -> a function ``(ctx, params) -> result``, a config
            query ``{"type": "all"|"where"|..., "bucket", "field"?}`` or a
            declarative config ``{"bucket", "filter"?, "sort"?, ...}``.
        auth: An :class:`AuthConfig`, or the JSON ``auth`` config (token
            auth, or built-in identity with ``{"builtIn": True, "adminSecret": ...}``).
        config: A complete :class:`ServerConfig` (the other arguments then
            must be left out).
        **options: Any other :class:`ServerConfig` field, e.g.
            ``heartbeat_interval_ms=50``, ``rate_limit=RateLimit(5, 1000)``,
            ``identity=IdentityConfig(admin_secret=...)`` or
            ``audit=AuditConfig(tiers=frozenset({"admin", "write"}))`` (the
            JSON ``{"tiers": [...]}`` form works too).

    Raises:
        ConfigError: Invalid configuration.
        TypeError: An unknown option name.
    """

    def __init__(
        self,
        buckets: Sequence[Mapping[str, Any]] | None = None,
        queries: Mapping[str, QueryFunction | dict[str, Any]] | None = None,
        auth: AuthConfig | Mapping[str, Any] | None = None,
        *,
        config: ServerConfig | None = None,
        **options: Any,
    ) -> None:
        if config is None:
            config = ServerConfig()
            if buckets is not None:
                config.buckets = [dict(b) for b in buckets]
            if queries is not None:
                config.queries = dict(queries)
            if isinstance(auth, AuthConfig):
                config.auth = auth
            elif auth is not None:
                config.auth, config.identity = parse_auth(auth)
            for name, value in options.items():
                if name not in ServerConfig.__dataclass_fields__:
                    raise TypeError(f"LocalServer got an unknown option {name!r}")
                if name == "rate_limit" and isinstance(value, Mapping):
                    value = RateLimit(int(value["maxRequests"]), int(value["windowMs"]))
                if name == "audit" and isinstance(value, Mapping):
                    value = AuditConfig.from_config(value)
                setattr(config, name, value)
        elif buckets is not None or queries is not None or auth is not None or options:
            raise TypeError("pass either config= or the individual options, not both")
        self.config = config
        self.core = ServerCore(config)
        self._server: Server | None = None
        self._port = config.port
        self._sockets: dict[str, ServerConnection] = {}
        self._changed = asyncio.Condition()
        self._waiters = 0
        self._refusing = False
        self._ttl_task: asyncio.Task[None] | None = None
        self._timers = TimerScheduler(lambda: self.core)
        self.stopping = False
        self.pings_paused = False
        self.response_delay = 0.0
        self.connections_accepted = 0
        self.push_count = 0
        self.request_count = 0

    @classmethod
    def from_config(cls, data: Mapping[str, Any]) -> LocalServer:
        """Build from the JSON config shape (a transcript's ``server_configs[i]["config"]``).

        Raises:
            ConfigError: Invalid configuration.
        """
        return cls(config=ServerConfig.from_config(data))

    # -- lifecycle ----------------------------------------------------------
    @property
    def port(self) -> int:
        """The bound TCP port (valid once started)."""
        return self._port

    @property
    def url(self) -> str:
        """``ws://host:port/path`` of the running server."""
        return f"ws://{self.config.host}:{self._port}{self.config.path}"

    @property
    def running(self) -> bool:
        """Whether the server accepts connections."""
        return self._server is not None

    async def start(self) -> None:
        """Start listening (port 0 picks a free port).

        Raises:
            RuntimeError: Already running.
            OSError: The port cannot be bound.
        """
        if self._server is not None:
            raise RuntimeError("LocalServer is already running")
        self.stopping = False
        self._server = await serve(
            self._handler,
            self.config.host,
            self._port,
            process_request=self._process_request,
            max_size=None,  # noex closes with 1009 and an empty reason: checked per message
            ping_interval=None,
            compression=None,
            logger=_WIRE_LOGGER,
        )
        sock = next(iter(self._server.sockets))
        self._port = int(sock.getsockname()[1])
        self._ttl_task = asyncio.create_task(self._purge_expired())
        self._timers.start()

    async def stop(self) -> None:
        """Close every connection with 1000 ``server_shutdown`` and stop listening."""
        await self.shutdown(0)

    async def __aenter__(self) -> LocalServer:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    async def shutdown(self, grace_period_ms: int | None = None) -> None:
        """Graceful shutdown as ``server.stop({gracePeriodMs})`` (§2.8).

        With a grace period and clients connected: broadcast the ``system``
        shutdown message, wait until every client left or the period ends,
        then close the rest with 1000 ``server_shutdown``. ``None`` uses the
        configured ``grace_period_ms``.
        """
        if self._server is None:
            return
        grace = self.config.grace_period_ms if grace_period_ms is None else grace_period_ms
        self.stopping = True
        conns = list(self.core.connections.values())
        if grace > 0 and conns:
            for conn in conns:
                conn.send({"type": "system", "event": "shutdown", "gracePeriodMs": grace})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wait_for_connections(0, exact=True), grace / 1000)
        self.core.persist()  # writes made on server.store directly, too
        for conn in list(self.core.connections.values()):
            conn.close(1000, "server_shutdown")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wait_for_connections(0, exact=True), 5)
        await self._close_listener()

    async def _close_listener(self) -> None:
        server, self._server = self._server, None
        if self._ttl_task is not None:
            self._ttl_task.cancel()
            self._ttl_task = None
        self._timers.stop()
        if server is not None:
            try:
                await stop_accepting(server)
            finally:  # even when cancelled: never leave the listener open
                server.close(close_connections=True)
            await server.wait_closed()

    # -- fault hooks ----------------------------------------------------------
    def drop_connections(self) -> int:
        """Abort every connection's TCP socket, no close frame (clients see 1006)."""
        sockets = list(self._sockets.values())
        for ws in sockets:
            ws.transport.abort()
        return len(sockets)

    def refuse_connections(self, refuse: bool = True) -> None:
        """Answer new handshakes with HTTP 503 while ``refuse`` is true."""
        self._refusing = refuse

    async def restart(self, keep_data: bool = False) -> None:
        """Close everything (1000 ``server_shutdown``) and listen again on the same port.

        Like a restarted real server, all state is lost (data, sessions,
        subscriptions; subscription ids restart at ``sub-1``) unless
        ``keep_data`` is true, which keeps buckets, records, queries, facts,
        rules, timers, procedures, logic definitions and built-in identity
        data (users, roles, ACLs, owners and stored session tokens; the audit
        log and login failure counters start empty). With persistence, the
        persistent buckets and identity data come back in any case.
        """
        await self.shutdown(0)
        old = self.core
        self.core = ServerCore(self.config)
        self.core.early_subscription_push = old.early_subscription_push  # a hook, not state
        if keep_data:
            self.core.adopt_data(old)
        await self.start()

    def pause_pings(self) -> None:
        """Stop sending heartbeat pings (and stop timing out silent clients)."""
        self.pings_paused = True

    def resume_pings(self) -> None:
        """Resume heartbeat pings."""
        self.pings_paused = False

    def revoke_sessions(self, user_id: str | None = None, role: str | None = None) -> int:
        """Revoke sessions: system ``session_revoked`` message, then close 4002.

        Matching users are blacklisted: ``auth.login`` then fails with
        ``SESSION_REVOKED`` for an hour. Returns the number of connections revoked.
        """
        return self.core.revoke(user_id, role)

    def push_before_subscribe_result(self, enabled: bool = True) -> None:
        """Make ``store.subscribe`` push its initial data before the result.

        The real server can (rarely) deliver a new subscription's first push
        before the ``subscribe`` result; this makes it happen every time.
        """
        self.core.early_subscription_push = enabled

    def set_response_delay(self, ms: float) -> None:
        """Delay every response by ``ms`` (requests stay in order)."""
        self.response_delay = max(0.0, ms / 1000)

    # -- server-side data access ---------------------------------------------
    @property
    def store(self) -> Store:
        """The store engine (buckets, records, queries) of the running state."""
        return self.core.store

    def insert(self, bucket: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Insert a record server-side (as another client would) and send the pushes.

        Raises:
            BucketNotDefinedError: Unknown bucket (a ``StoreError``).
            ValidationFailedError: Schema failure (a ``StoreError``).
        """
        record = self.core.store.bucket(bucket).insert(data)
        self.core.flush()
        return record

    def emit(self, topic: str, data: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Emit a rules event server-side; matching rules subscriptions get a push.

        Raises:
            RuntimeError: The server runs without a rule engine.
        """
        if self.core.rules is None:
            raise RuntimeError("the server was started with rules disabled")
        return self.core.rules.emit(topic, dict(data or {}))

    @property
    def rules(self) -> RuleEngine | None:
        """The rule engine (facts, rules, ``timers``) of the running state, if enabled."""
        return self.core.rules

    def advance_timers(self, ms: int) -> int:
        """Let ``ms`` milliseconds pass for the rule timers and fire the ones now due.

        Tests of a 15-minute timeout need not wait: each due timer emits its
        event (``source: "timer"``, pushed to subscribers) and fires its
        ``timer`` rules, earliest first, and a repeating timer fires once per
        interval passed. Later timers stay that much closer to expiry.
        Returns the number of expiries.

        Raises:
            RuntimeError: The server runs without a rule engine.
        """
        if self.core.rules is None:
            raise RuntimeError("the server was started with rules disabled")
        fired = self.core.rules.advance(ms)
        self.core.flush()
        return fired

    @property
    def connection_count(self) -> int:
        """Currently open connections."""
        return len(self.core.connections)

    async def wait_until(self, predicate: Callable[[LocalServer], bool]) -> None:
        """Wait until ``predicate(server)`` holds (checked on every state change).

        Wrap the call in ``asyncio.timeout()`` to bound the wait.
        """
        self._waiters += 1
        try:
            async with self._changed:
                await self._changed.wait_for(lambda: predicate(self))
        finally:
            self._waiters -= 1

    async def wait_for_connections(self, n: int, exact: bool = False) -> None:
        """Wait until at least ``n`` (or exactly ``n``) connections are open."""
        if exact:
            await self.wait_until(lambda s: s.connection_count == n)
        else:
            await self.wait_until(lambda s: s.connection_count >= n)

    # -- internals ----------------------------------------------------------
    def _notify(self) -> None:
        if not self._waiters:
            return  # nobody waits: spare a task per push

        async def notify() -> None:
            async with self._changed:
                self._changed.notify_all()

        with contextlib.suppress(RuntimeError):
            asyncio.get_running_loop().create_task(notify())

    def track(self, conn: ConnectionState, ws: ServerConnection) -> None:
        """Register an open connection (called by the connection handler)."""
        self._sockets[conn.id] = ws
        self.connections_accepted += 1
        self._notify()

    def untrack(self, conn: ConnectionState) -> None:
        """Forget a closed connection."""
        self._sockets.pop(conn.id, None)
        self._notify()

    def count_push(self) -> None:
        """Count one push frame."""
        self.push_count += 1
        self._notify()

    def count_request(self) -> None:
        """Count one answered request."""
        self.request_count += 1
        self._notify()

    async def _handler(self, ws: ServerConnection) -> None:
        await serve_connection(self, ws)

    async def _process_request(self, ws: ServerConnection, request: Request) -> Response | None:
        path = request.path.split("?", 1)[0]
        if path != self.config.path:
            ws.transport.abort()  # noex destroys the socket: no HTTP response at all
            await asyncio.sleep(0)
            return ws.respond(http.HTTPStatus.NOT_FOUND, "")
        if self._refusing:
            return ws.respond(http.HTTPStatus.SERVICE_UNAVAILABLE, "Connections refused\n")
        origins = self.config.allowed_origins
        origin = request.headers.get("Origin")
        if origins is not None and origin is not None and origin not in origins:
            return ws.respond(http.HTTPStatus.FORBIDDEN, "Forbidden\n")
        return None

    async def _purge_expired(self) -> None:
        while True:
            await asyncio.sleep(1)
            if self.core.store.purge_expired():
                self.core.flush()
