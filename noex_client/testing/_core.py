"""The sans-I/O server core: parse pipeline, auth gate, rate limit, routing.

:class:`ServerCore` owns all server state (store, reactive subscriptions,
rule engine, procedures, logic engine, built-in identity, audit log,
connections, counters) and turns one text frame into at most one response
frame. Pushes and closes go through the callbacks of each
:class:`ConnectionState`; the WebSocket layer only moves bytes.
"""

from __future__ import annotations

import inspect
import logging
import math
from collections import deque
from typing import Any

import msgspec

from ._audit import AUDIT_OPS, AuditLog
from ._auth import Revocations, check_permissions
from ._config import ServerConfig, normalize_bucket
from ._errors import ConfigError, RequestError
from ._identity import IdentityEngine
from ._logic import LogicEngine
from ._ops_identity import IDENTITY_OPS
from ._ops_logic import LOGIC_OPS, logic_engine
from ._ops_other import AUTH_OPS, RULES_OPS, SERVER_OPS
from ._ops_procedures import PROCEDURES_OPS
from ._ops_store import STORE_OPS
from ._persistence import Persistence
from ._procedures import ProcedureRegistry
from ._rules import RuleEngine
from ._state import ConnectionState
from ._store import Reactive, Store, StoreError
from ._store._values import UNDEFINED, is_number, now_ms
from ._store.queries import config_query

__all__ = ["ServerCore", "error_frame"]

logger = logging.getLogger("noex_client")

_NOT_CONFIGURED = {
    "auth": "Authentication is not configured",
    "identity": "Identity management is not configured",
    "audit": "Audit log is not configured",
}


def error_frame(
    request_id: Any, code: str, message: str, details: Any = UNDEFINED
) -> dict[str, Any]:
    """An ``error`` frame; ``details`` is left out when ``UNDEFINED``."""
    frame: dict[str, Any] = {"id": request_id, "type": "error", "code": code, "message": message}
    if details is not UNDEFINED:
        frame["details"] = details
    return frame


class ServerCore:
    """All state of one running server.

    Args:
        config: The server configuration.

    Raises:
        ConfigError: A bucket or query of the config is invalid.
    """

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.persistence = None
        if config.persistence_path is not None:
            self.persistence = Persistence(config.persistence_path)
        self.store = Store(config.store_name, self.persistence)
        self.reactive = Reactive(self.store)
        self.rules = RuleEngine(config.services) if config.rules else None
        self.procedures = ProcedureRegistry()
        self.logic = LogicEngine(self.store) if config.logic else None
        self.auth = config.auth
        self.identity: IdentityEngine | None = None
        if config.identity is not None:
            if config.auth is not None:
                raise ConfigError("configure either token auth or built-in identity, not both")
            self.identity = IdentityEngine(config.identity, logic=config.logic)
            self.auth = self.identity.auth_config()
            if self.persistence is not None:
                self.persistence.load_identity(self.identity)
        self.audit = None if config.audit is None else AuditLog(config.audit)
        # Fault injection: push the initial data before the subscribe result.
        self.early_subscription_push = False
        self.revocations = Revocations()
        self.connections: dict[str, ConnectionState] = {}
        self._conn_counter = 0
        self._sub_counter = 0
        self._rate_log: dict[str, deque[int]] = {}
        for spec in config.buckets:
            name, definition = normalize_bucket(spec)
            self.store.define_bucket(name, definition)
        for name, query in config.queries.items():
            if callable(query):
                self.store.define_query(name, function=query)
            elif "type" in query:
                self.store.define_query(name, function=config_query(query))
            else:
                self.store.define_query(name, config=query)

    # -- connections --------------------------------------------------------
    def open_connection(self, remote: str, send: Any, close: Any) -> ConnectionState:
        """Register a new connection (after the per-IP check)."""
        self._conn_counter += 1
        conn = ConnectionState(f"conn-{self._conn_counter}", remote, now_ms(), send, close)
        self.connections[conn.id] = conn
        return conn

    def close_connection(self, conn: ConnectionState) -> None:
        """Forget a connection and drop its subscriptions."""
        conn.open = False
        self.connections.pop(conn.id, None)
        for sub_id in conn.store_subs:
            self.reactive.unsubscribe(sub_id)
        if self.rules is not None:
            for sub_id in conn.rules_subs:
                self.rules.unsubscribe(sub_id)
        if self.logic is not None:
            for sub_id in conn.view_subs:
                self.logic.unsubscribe_view(sub_id)
        conn.store_subs.clear()
        conn.rules_subs.clear()
        conn.view_subs.clear()

    def connections_from(self, remote: str) -> int:
        """Open connections from one IP."""
        return sum(1 for c in self.connections.values() if c.remote_address == remote)

    @property
    def requires_auth(self) -> bool:
        """The welcome's ``requiresAuth``."""
        return self.auth is not None and self.auth.required

    def welcome(self) -> dict[str, Any]:
        """The welcome frame."""
        return {
            "type": "welcome",
            "version": "1.0.0",
            "serverTime": now_ms(),
            "requiresAuth": self.requires_auth,
        }

    def next_subscription_id(self) -> str:
        """The next ``sub-N`` (one counter for store and rules)."""
        self._sub_counter += 1
        return f"sub-{self._sub_counter}"

    def check_subscription_limits(self, conn: ConnectionState) -> None:
        """Raise ``RATE_LIMITED`` when a subscription limit is reached (§2.6)."""
        limit = self.config.max_subscriptions_per_connection
        if conn.subscription_count >= limit:
            raise RequestError(
                "RATE_LIMITED", f"Subscription limit reached (max {limit} per connection)"
            )
        total = sum(c.subscription_count for c in self.connections.values())
        if total >= self.config.max_total_subscriptions:
            raise RequestError(
                "RATE_LIMITED",
                f"Global subscription limit reached (max {self.config.max_total_subscriptions})",
            )

    def revoke(self, user_id: str | None = None, role: str | None = None) -> int:
        """Revoke matching sessions: system message, close 4002, blacklist the user."""
        revoked = 0
        for conn in list(self.connections.values()):
            session = conn.session
            if session is None:
                continue
            if user_id is not None and session.user_id != user_id:
                continue
            if role is not None and role not in session.roles:
                continue
            if self.auth is not None:
                self.revocations.add(session.user_id, self.auth.revocation_ttl_ms)
            conn.send(
                {
                    "type": "system",
                    "event": "session_revoked",
                    "reason": "Session revoked by administrator",
                }
            )
            conn.close(4002, "session_revoked")
            revoked += 1
        if user_id is not None and self.auth is not None:
            self.revocations.add(user_id, self.auth.revocation_ttl_ms)
        return revoked

    def adopt_data(self, old: ServerCore) -> None:
        """Take over the data of ``old`` (a restart keeping data).

        That is the store, facts, rules, timers, procedures, identity data and
        logic definitions.
        """
        self.store = old.store
        self.store.reset_listeners()
        if old.persistence is not None:  # the same directory: keep what it knows was saved
            self.persistence = old.persistence
        self.reactive = Reactive(self.store)
        if self.rules is not None and old.rules is not None:
            self.rules.adopt(old.rules)
        self.procedures = old.procedures
        if self.identity is not None and old.identity is not None:
            self.identity.adopt(old.identity)
        if self.logic is not None:
            self.logic = LogicEngine(self.store)
            if old.logic is not None:
                self.logic.adopt(old.logic)

    def flush(self) -> int:
        """Save what changed (with persistence), then send the pushes of changed
        store and view subscriptions."""
        self.persist()
        pushes = self.reactive.flush()
        if self.logic is not None:
            pushes += self.logic.flush()
        return pushes

    def persist(self) -> None:
        """Write the changed persistent buckets and identity data (with persistence).

        A failed write is logged and retried at the next change, as
        noex-store reports persistence errors without stopping the store.
        """
        if self.persistence is not None:
            try:
                self.persistence.save(self.store, self.identity)
            except OSError:
                logger.exception("test server: saving to %s failed", self.persistence.path)

    # -- requests -----------------------------------------------------------
    async def handle_text(self, conn: ConnectionState, text: str) -> dict[str, Any] | None:
        """Handle one text frame; returns the response frame (``None`` for a pong)."""
        try:
            msg = msgspec.json.decode(text)
        except msgspec.DecodeError:
            return error_frame(0, "PARSE_ERROR", "Invalid JSON")
        if not isinstance(msg, dict):
            return error_frame(0, "PARSE_ERROR", "Message must be a JSON object")
        op = msg.get("type")
        if not isinstance(op, str) or not op:
            return error_frame(0, "INVALID_REQUEST", 'Message must include non-empty string "type"')
        if op == "pong":
            stamp: Any = msg.get("timestamp")
            if not _finite(stamp):
                return error_frame(
                    0, "INVALID_REQUEST", 'Pong must include finite numeric "timestamp"'
                )
            conn.last_pong = float(stamp)
            return None
        request_id = msg.get("id")
        if not _finite(request_id):
            return error_frame(0, "INVALID_REQUEST", 'Request must include finite numeric "id"')
        frame = await self._respond(conn, op, request_id, msg)
        if self.audit is not None:
            self.audit.record(conn, op, msg, frame)
        return frame

    async def _respond(
        self, conn: ConnectionState, op: str, request_id: Any, msg: dict[str, Any]
    ) -> dict[str, Any]:
        try:
            data = await self._route(conn, op, msg)
        except RequestError as exc:
            return self._error(request_id, exc.code, exc.message, exc.details, exc.has_details)
        except StoreError as exc:
            return self._error(request_id, exc.code, exc.message, exc.details, exc.has_details)
        except Exception as exc:
            logger.exception("test server: %s failed", op)
            text = str(exc) if op.startswith("store.") else "Internal server error"
            return error_frame(request_id, "INTERNAL_ERROR", text)
        frame: dict[str, Any] = {"id": request_id, "type": "result"}
        if data is not UNDEFINED:
            frame["data"] = data
        return frame

    def _error(
        self, request_id: Any, code: str, message: str, details: Any, has: bool
    ) -> dict[str, Any]:
        keep = has and self.config.expose_error_details
        return error_frame(request_id, code, message, details if keep else UNDEFINED)

    def _gate(self, conn: ConnectionState, op: str, msg: dict[str, Any]) -> None:
        if op.startswith("auth.") or op == "ping":
            return
        if self.identity is not None and op in ("identity.login", "identity.loginWithSecret"):
            return
        session = conn.session
        if session is None:
            if self.requires_auth:
                raise RequestError("UNAUTHORIZED", "Authentication required")
            return
        if session.expires_at is not None and session.expires_at < now_ms():
            conn.session = None
            raise RequestError("UNAUTHORIZED", "Session expired")
        if self.identity is not None:
            self.identity.check_access(session, op, msg)
        elif self.auth is not None:
            check_permissions(self.auth, session, op, msg)

    def _rate_limit(self, conn: ConnectionState) -> None:
        limit = self.config.rate_limit
        if limit is None:
            return
        key = conn.session.user_id if conn.session is not None else conn.remote_address
        now = now_ms()
        log = self._rate_log.setdefault(key, deque())
        while log and log[0] + limit.window_ms <= now:
            log.popleft()
        if len(log) >= limit.max_requests:
            retry = log[0] + limit.window_ms - now
            raise RequestError(
                "RATE_LIMITED",
                f"Rate limit exceeded. Retry after {retry}ms",
                {"retryAfterMs": retry},
            )
        log.append(now)

    async def _route(self, conn: ConnectionState, op: str, msg: dict[str, Any]) -> Any:
        self._gate(conn, op, msg)
        self._rate_limit(conn)
        prefix, dot, name = op.partition(".")
        table: dict[str, Any] | None = None
        if dot and prefix == "store":
            if self.identity is not None:
                self.identity.guard_store(op, msg)
            table = STORE_OPS
        elif dot and prefix == "rules":
            if self.rules is None:
                raise RequestError("RULES_NOT_AVAILABLE", "Rule engine is not configured")
            table = RULES_OPS
        elif dot and prefix == "server":
            table = SERVER_OPS
        elif dot and prefix == "auth":
            if self.auth is None:
                raise RequestError("UNKNOWN_OPERATION", _NOT_CONFIGURED["auth"])
            table = AUTH_OPS
        elif dot and prefix == "identity" and self.identity is not None:
            table = IDENTITY_OPS
        elif dot and prefix == "audit" and self.audit is not None:
            table = AUDIT_OPS
        elif dot and prefix in _NOT_CONFIGURED:
            raise RequestError("UNKNOWN_OPERATION", _NOT_CONFIGURED[prefix])
        elif dot and prefix == "procedures":
            table = PROCEDURES_OPS
        elif dot and prefix == "logic":
            logic_engine(self)  # LOGIC_NOT_AVAILABLE, as rules without an engine
            table = LOGIC_OPS
        if table is None:
            raise RequestError("UNKNOWN_OPERATION", f'Unknown operation "{op}"')
        handler = table.get(name)
        if handler is None:
            raise RequestError("UNKNOWN_OPERATION", f'Unknown {prefix} operation "{op}"')
        result = handler(self, conn, msg)
        if inspect.isawaitable(result):
            result = await result
        if self.identity is not None and prefix == "store":
            result = self.identity.after_store(conn.session, op, msg, result)
        return result


def _finite(value: object) -> bool:
    return is_number(value) and math.isfinite(value)  # type: ignore[arg-type]
