"""An in-process, protocol-faithful noex server for tests and benchmarks.

``LocalServer`` speaks noex-server's wire protocol 1.0.0 (JSON over
WebSocket) on ``127.0.0.1``, port 0 by default, so a client under test cannot
tell it from the real Node server: welcome first, parse errors with ``id: 0``,
text frames only (binary closes 1003), server pings with close 4001 on a
missing or stale pong, 1009 for oversized frames, 4003 over the per-IP limit,
graceful shutdown, and the store, reactive-query, transaction, rules,
procedures, token-auth, built-in identity and audit semantics recorded from
a real server (see ``protocol.md``). With ``logic=True`` (``"logic": true``
in a JSON config) it also runs the logic engine of ``logic.md``: computed
fields, derived views with reactive pushes, constraints and
``evaluateExpr``; without it every ``logic.*`` request fails with
``LOGIC_NOT_AVAILABLE``. Logic operations have tiers like the store's
(define/drop/list/explain admin, query/subscribe/evaluate read).

Usage::

    from noex_client.testing import LocalServer

    async with LocalServer(
        buckets=[{"name": "users", "schema": {"name": {"type": "string", "required": True}}}],
        queries={"all-users": {"type": "all", "bucket": "users"}},
        heartbeat_interval_ms=50,
        logic=True,
    ) as server:
        ...  # connect to server.url

    server = LocalServer.from_config(transcript.server_configs[0]["config"])

A bucket without ``key`` is keyed by ``id``, a generated uuid. Queries are
functions ``(ctx: QueryContext, params) -> result``, config queries
(``{"type": "all"|"where"|"findOne"|"get"|"count"|"first"|"last", "bucket",
"field"?}``) or declarative ``store.defineQuery`` configs. Auth takes
``AuthConfig(validate=token -> Session | None, required=..., check=...)`` or
the JSON form ``{"sessions": {token: {"userId", "roles", "expiresAt"?}},
"required"?, "permissions"?: {"checkRoles": [...]}}``.

Built-in identity (``auth={"builtIn": True, "adminSecret": "..."}``, or
``identity=IdentityConfig(admin_secret=...)``) keeps users, the system roles
``superadmin``/``admin``/``writer``/``reader`` and custom roles, ACLs,
resource owners and login sessions: ``identity.loginWithSecret`` logs in the
virtual ``__superadmin__``, passwords are stored as salted scrypt hashes,
sessions expire after ``sessionTtl`` (24 h) and resume on a new connection
with ``auth.login {token}``, failed logins are limited per user and per IP,
and every other request passes the ACL/role check of the real server. An
audit log (``audit={"tiers": ["admin", "write"]}``, default ``["admin"]``)
records every request of those tiers for ``audit.query``.

Rules fire on ``event``, ``fact`` and ``timer`` triggers (``temporal``
rules are validated and stored, not evaluated) and run every action type
(``set_fact``, ``delete_fact``, ``emit_event``, ``set_timer``,
``cancel_timer``, ``call_service`` on ``services={name: object}``, ``log``,
``conditional``, ``for_each``, ``try_catch``); an expiring timer emits its
event with ``source: "timer"``. With ``persistence_path`` (``"persistence":
{"path": ...}``) persistent buckets restore their records when defined and
built-in identity data survives restarts, as with noex-store's persistence.

As a process (benchmarks, other languages)::

    python -m noex_client.testing serve --config '{"buckets": [...]}'

prints the ``ws://`` URL as its first stdout line and runs until SIGTERM or
SIGINT (graceful shutdown with the config's ``gracePeriodMs``); SIGUSR1
revokes every session.

Fault hooks (all on ``LocalServer``):

- ``drop_connections()``: abort every TCP socket without a close frame
  (clients see 1006).
- ``refuse_connections(True/False)``: answer new handshakes with HTTP 503.
- ``await restart(keep_data=False)``: close all with 1000 and listen again on
  the same port; state is lost like a restarted server (subscription ids
  restart at ``sub-1``) unless ``keep_data`` (which keeps buckets, records,
  queries, facts, rules, timers, procedures, identity data and logic
  definitions); with persistence, the persistent buckets come back anyway.
- ``pause_pings()`` / ``resume_pings()``: stop and restart the heartbeat.
- ``revoke_sessions(user_id=None, role=None)``: ``system/session_revoked``
  then close 4002; the users cannot log in again for an hour.
- ``await shutdown(grace_period_ms)``: ``system/shutdown``, drain, close 1000.
- ``set_response_delay(ms)``: delay every response (order is kept).
- ``push_before_subscribe_result(True)``: every ``store.subscribe`` pushes
  its initial data before its result (a race the real server can show).
- ``store`` (the engine, e.g. ``server.store.bucket("users").records()``),
  ``insert(bucket, data)`` and ``emit(topic, data)``: server-side writes
  and events that push to subscribers like another client's would.
- ``rules`` (the rule engine: ``facts``, ``rules``, ``timers``) and
  ``advance_timers(ms)``: let ``ms`` pass for the rule timers and fire the
  ones due (a 15-minute timeout tested without waiting).
- Counters ``connection_count``, ``connections_accepted``, ``push_count``,
  ``request_count``, and ``await wait_for_connections(n)`` /
  ``await wait_until(lambda server: ...)`` to wait for them.
"""

from ._app import LocalServer
from ._audit import AuditConfig
from ._auth import AuthConfig, PermissionRule
from ._config import RateLimit, ServerConfig
from ._errors import ConfigError
from ._identity import IdentityConfig
from ._state import Session
from ._store import QueryContext

__all__ = [
    "AuditConfig",
    "AuthConfig",
    "ConfigError",
    "IdentityConfig",
    "LocalServer",
    "PermissionRule",
    "QueryContext",
    "RateLimit",
    "ServerConfig",
    "Session",
]
