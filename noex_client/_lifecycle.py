"""Reconnect supervision for :class:`~noex_client.NoexClient` (a mixin).

One supervisor task per ``connect()`` waits for the live connection to end
and then, as the pure :class:`~noex_client.ReconnectPolicy` allows, reconnects:
open + welcome + login, restore every subscription, and only then switch to
``connected`` and emit ``connected`` and ``reconnected``. Fatal close codes,
a rejected login or an exhausted retry budget end in ``disconnected``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

from ._connection import CloseInfo, Connection
from ._errors import (
    ConnectError,
    DisconnectedError,
    NoexClientError,
    SessionRevokedError,
    UnauthorizedError,
)
from ._events import EventEmitter
from ._reconnect import ReconnectPolicy
from ._subscriptions import SubscriptionManager

__all__ = ["ConnectionState", "Reconnecting"]

logger = logging.getLogger("noex_client")

#: ``connecting``: connect() is opening the link, waiting for the welcome, logging in.
#: ``connected``: requests flow. ``reconnecting``: the link dropped; the policy's
#: backoff loop is trying again (requests fail fast). ``disconnected``: idle.
ConnectionState = Literal["connecting", "connected", "reconnecting", "disconnected"]


class Reconnecting:
    """The supervisor and reconnect loop; state lives on the client."""

    _conn: Connection | None
    _closing: bool
    _policy: ReconnectPolicy | None
    _events: EventEmitter
    _subscriptions: SubscriptionManager
    _revoked_notified: bool

    def _set_state(self, state: ConnectionState) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    async def _open_connection(self) -> Connection:  # pragma: no cover - interface
        raise NotImplementedError

    def _report_error(self, exc: Exception) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def _notify_revoked(self) -> None:
        if not self._revoked_notified:
            self._revoked_notified = True
            self._events.emit("session_revoked")

    async def _supervise(self, conn: Connection) -> None:
        while True:
            info = await conn.wait_closed()
            if self._closing:
                return
            self._conn = None
            if info.code == 4002:
                self._notify_revoked()
            if self._policy is None or not self._policy.is_retryable(info.code):
                self._give_up(info.describe())
                return
            self._set_state("reconnecting")
            self._events.emit("disconnected", info.describe())
            reconnected = await self._reconnect()
            if reconnected is None:
                return
            conn = reconnected

    async def _reconnect(self) -> Connection | None:
        assert self._policy is not None
        attempt = 0
        for delay in self._policy.delays():
            attempt += 1
            await asyncio.sleep(delay)
            self._events.emit("reconnecting", attempt)
            try:
                conn = await self._open_connection()
            except ConnectError as exc:
                code = exc.details.get("closeCode", 1006) if isinstance(exc.details, dict) else 1006
                if not self._policy.is_retryable(code):
                    self._give_up(CloseInfo(code, exc.details.get("reason", "")).describe())
                    return None
                self._report_error(exc)
                continue
            except (SessionRevokedError, UnauthorizedError) as exc:
                # Retrying a rejected login cannot succeed; stop here.
                if isinstance(exc, SessionRevokedError):
                    self._notify_revoked()
                self._report_error(exc)
                self._give_up(f"login rejected: {exc.code}")
                return None
            except NoexClientError as exc:
                self._report_error(exc)
                continue
            except Exception as exc:  # a bug must not leave the client stuck "reconnecting"
                logger.exception("noex_client: reconnect attempt failed unexpectedly")
                self._report_error(exc)
                continue
            try:
                await self._subscriptions.restore(conn)
            except NoexClientError as exc:
                await conn.close(1000, "")
                self._report_error(exc)
                continue
            if conn.is_closed:
                continue
            self._conn = conn
            self._set_state("connected")
            self._events.emit("connected")
            self._events.emit("reconnected")
            return conn
        self._report_error(
            DisconnectedError(message=f"gave up reconnecting after {attempt} attempts")
        )
        self._give_up("reconnect_failed")
        return None

    def _supervisor_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        # Unreachable unless there is a bug; never leave the state claiming a live link.
        logger.error("noex_client: connection supervisor failed", exc_info=task.exception())
        if not self._closing:
            self._give_up("internal_error")

    def _give_up(self, reason: str) -> None:
        self._conn = None
        self._subscriptions.close_all(DisconnectedError(message=f"disconnected: {reason}"))
        self._set_state("disconnected")
        self._events.emit("disconnected", reason)
