"""Frozen option types for :class:`~noex_client.NoexClient`.

Names and defaults match the published client; the extra options at the end of
:class:`ClientOptions` are keyword additions with safe defaults.
"""

from __future__ import annotations

import math
import ssl as _ssl
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "AuthOptions",
    "ClientOptions",
    "CredentialOptions",
    "ReconnectOptions",
]


@dataclass(frozen=True)
class CredentialOptions:
    """Username and password for automatic ``identity.login``.

    The password never appears in ``repr()``.
    """

    username: str
    password: str = field(repr=False)

    def __repr__(self) -> str:
        return f"CredentialOptions(username={self.username!r}, password='***')"


@dataclass(frozen=True)
class AuthOptions:
    """Automatic login after every connect when the server requires auth.

    Attributes:
        token: Sent with ``auth.login`` (takes precedence over credentials).
        credentials: Sent with ``identity.login``.
    """

    token: str | None = None
    credentials: CredentialOptions | None = None

    def __repr__(self) -> str:
        token = None if self.token is None else "***"
        return f"AuthOptions(token={token!r}, credentials={self.credentials!r})"


@dataclass(frozen=True)
class ReconnectOptions:
    """Exponential backoff with jitter between reconnect attempts.

    The delay before attempt ``n`` (1-based) is
    ``min(initial_delay_ms * backoff_multiplier ** (n - 1), max_delay_ms)`` plus a
    uniform random jitter in ``[0, jitter_ms]``. After ``max_retries`` failed
    attempts the client gives up and ends ``disconnected``.
    """

    max_retries: float = float("inf")
    initial_delay_ms: int = 1_000
    max_delay_ms: int = 30_000
    backoff_multiplier: float = 2.0
    jitter_ms: int = 500

    def __post_init__(self) -> None:
        _check(self.max_retries >= 0 and not math.isnan(self.max_retries), "max_retries", ">= 0")
        _check(self.initial_delay_ms >= 0, "initial_delay_ms", ">= 0")
        _check(self.max_delay_ms >= 0, "max_delay_ms", ">= 0")
        _check(self.backoff_multiplier >= 1, "backoff_multiplier", ">= 1")
        _check(self.jitter_ms >= 0, "jitter_ms", ">= 0")


@dataclass(frozen=True)
class ClientOptions:
    """Options of :class:`~noex_client.NoexClient`.

    Attributes:
        auth: Automatic login configuration.
        reconnect: ``True`` (default backoff), ``False`` (never reconnect) or
            a :class:`ReconnectOptions`.
        request_timeout_ms: Per-request response timeout.
        connect_timeout_ms: Timeout for the WebSocket handshake plus the welcome.
        heartbeat: Answer the server's ``ping`` with ``pong``.
        retry_reads: Re-send read-only requests pending at a connection drop
            once after a successful reconnect instead of failing them.
        max_payload_bytes: Largest frame accepted from the server.
        ssl: TLS context for ``wss://`` URLs (default: the system trust store).
        liveness_timeout_ms: Close and reconnect when no server ping arrived for
            this long. ``None`` derives it from the server's observed ping
            interval (2.5 intervals; 75 s until the interval is known). ``0``
            disables the check. Only active with ``heartbeat=True``.
        max_pending_requests: Requests awaiting a response at once; one more
            raises :class:`~noex_client.BackpressureError`.
        max_buffered_pushes: Pushes held for subscriptions whose id is not yet
            known (a push can precede its subscribe result); the oldest is
            dropped, with a warning, when full.
        transport: The WebSocket library: ``"websockets"``, ``"picows"``
            (``pip install 'noex-client[fast]'``; less CPU per request) or
            ``"auto"``: picows when it is installed, else websockets.
    """

    auth: AuthOptions | None = None
    reconnect: bool | ReconnectOptions = True
    request_timeout_ms: int = 10_000
    connect_timeout_ms: int = 5_000
    heartbeat: bool = True
    retry_reads: bool = False
    max_payload_bytes: int = 16 * 1024 * 1024
    ssl: _ssl.SSLContext | None = field(default=None, repr=False)
    liveness_timeout_ms: int | None = None
    max_pending_requests: int = 10_000
    max_buffered_pushes: int = 1_000
    transport: Literal["auto", "websockets", "picows"] = "auto"

    def __post_init__(self) -> None:
        _check(self.request_timeout_ms > 0, "request_timeout_ms", "> 0")
        _check(self.connect_timeout_ms > 0, "connect_timeout_ms", "> 0")
        _check(self.max_payload_bytes > 0, "max_payload_bytes", "> 0")
        _check(
            self.liveness_timeout_ms is None or self.liveness_timeout_ms >= 0,
            "liveness_timeout_ms",
            ">= 0 or None",
        )
        _check(self.max_pending_requests > 0, "max_pending_requests", "> 0")
        _check(self.max_buffered_pushes >= 0, "max_buffered_pushes", ">= 0")
        _check(
            self.transport in ("auto", "websockets", "picows"),
            "transport",
            "'auto', 'websockets' or 'picows'",
        )

    @property
    def reconnect_options(self) -> ReconnectOptions | None:
        """The effective backoff options, or ``None`` when reconnect is off."""
        if self.reconnect is True:
            return ReconnectOptions()
        if self.reconnect is False:
            return None
        return self.reconnect


def _check(ok: bool, name: str, rule: str) -> None:
    if not ok:
        raise ValueError(f"invalid option {name!r}: must be {rule}")
