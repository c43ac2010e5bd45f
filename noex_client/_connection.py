"""One live connection: a transport, its sans-I/O :class:`Session`, and the reader task.

The reader is the only task that receives frames. Responses resolve the
request's future (one dict of futures; each entry is removed whatever the
outcome). When the transport ends, every pending future is rejected with
:class:`~noex_client.DisconnectedError` and :meth:`Connection.wait_closed`
returns the close code and reason. A connection is never reused: reconnecting
means opening a new one, with a new session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl as _ssl
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from ._errors import (
    ConnectError,
    ConnectRefusedError,
    ConnectTimeoutError,
    DisconnectedError,
    NoexClientError,
    ProtocolError,
    RequestTimeoutError,
    error_from_server,
)
from ._protocol import Error, Ping, Push, Result, System, Welcome
from ._session import Deliver, Dropped, Held, Reply, ServerError, Session, StrayReply
from ._transport import Connector, PushTransport, Transport, TransportClosed

__all__ = ["LOST", "CloseInfo", "Connection", "ConnectionHooks"]

logger = logging.getLogger("noex_client")

#: The message of the DisconnectedError failing requests when the connection ends.
LOST: Final = "Connection lost"

#: Liveness window while the server's ping interval is unknown (2.5 x its 30 s default).
DEFAULT_LIVENESS_S = 75.0


@dataclass(frozen=True, slots=True)
class CloseInfo:
    """How a connection ended."""

    code: int
    reason: str

    def describe(self) -> str:
        return self.reason or f"connection closed ({self.code})"

    def details(self) -> dict[str, Any]:
        """``{"closeCode", "reason"}`` for an error's ``details``."""
        return {"closeCode": self.code, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class ConnectionHooks:
    """Callbacks from the reader into the client (all synchronous)."""

    on_push: Callable[[Any, Push], None]
    on_system: Callable[[System], None]
    on_error: Callable[[Exception], None]
    on_closed: Callable[[Connection, CloseInfo], None]


class Connection:
    """An open connection after its welcome. Create it with :meth:`open`."""

    def __init__(
        self,
        transport: Transport,
        session: Session[Any],
        welcome: Welcome,
        hooks: ConnectionHooks,
        liveness_ms: int | None,
    ) -> None:
        self.transport = transport
        self.session = session
        self.welcome = welcome
        self._hooks = hooks
        self._loop = asyncio.get_running_loop()
        self._futures: dict[int, asyncio.Future[Any]] = {}
        self._closed: asyncio.Future[CloseInfo] = self._loop.create_future()
        self._liveness_ms = liveness_ms
        self._last_ping_at: float | None = None
        self._ping_interval: float | None = None
        self._watchdog: asyncio.TimerHandle | None = None
        self._abort_reason: str | None = None
        self._deadlines: deque[tuple[float, asyncio.Future[Any], str, float]] = deque()
        self._sweeper: asyncio.TimerHandle | None = None
        self._ponger: asyncio.Task[None] | None = None
        self._arm_watchdog()
        self._reader = self._loop.create_task(self._read())

    @classmethod
    async def open(
        cls,
        connector: Connector,
        url: str,
        *,
        timeout_s: float,
        max_size: int,
        ssl: _ssl.SSLContext | None,
        session: Session[Any],
        hooks: ConnectionHooks,
        liveness_ms: int | None,
    ) -> Connection:
        """Connect and wait for the welcome, both within ``timeout_s``.

        Raises:
            ConnectTimeoutError: No welcome in time (the socket is closed).
            ConnectError: Refused (:class:`ConnectRefusedError`), or closed
                before the welcome (``details`` holds ``closeCode`` and ``reason``).
            ProtocolError: The first frame is not a welcome (the socket is closed).
        """
        transport: Transport | None = None
        try:
            async with asyncio.timeout(timeout_s):
                transport = await connector.connect(
                    url, max_size=max_size, ssl=ssl, open_timeout_s=timeout_s
                )
                first = session.receive(await transport.recv())
        except TimeoutError:
            if transport is not None:
                await _quiet_close(transport, 1000, "")
            ms = round(timeout_s * 1000)
            raise ConnectTimeoutError(f"Timeout waiting for welcome message after {ms}ms") from None
        except TransportClosed as exc:
            failed = ConnectRefusedError if exc.refused else ConnectError
            raise failed(
                f"connection failed: {exc.reason or 'closed'} ({exc.code})",
                {"closeCode": exc.code, "reason": exc.reason},
            ) from None
        except ProtocolError:
            assert transport is not None
            await _quiet_close(transport, 1002, "protocol_error")
            raise
        except BaseException:
            # Cancelled (disconnect() during a reconnect attempt): never leak the socket.
            if transport is not None:
                await _quiet_close(transport, 1000, "")
            raise
        if not isinstance(first, Welcome):
            await _quiet_close(transport, 1002, "protocol_error")
            raise ProtocolError(message=f"expected a welcome first, got {type(first).__name__}")
        return cls(transport, session, first, hooks, liveness_ms)

    @property
    def is_closed(self) -> bool:
        return self._closed.done()

    async def wait_closed(self) -> CloseInfo:
        """Wait until the connection has ended; return its close code and reason."""
        return await asyncio.shield(self._closed)

    async def request(self, op: str, fields: dict[str, Any], timeout_s: float) -> Any:
        """Send one request and return the result's ``data``.

        Raises:
            NoexClientError: The server's error, mapped to its subclass.
            RequestTimeoutError: No response within ``timeout_s``.
            DisconnectedError: The connection is or went down.
            BackpressureError: Too many requests are pending.
        """
        if self._closed.done():
            raise DisconnectedError(LOST, self._closed.result().details())
        request_id, frame = self.session.start_request(op, fields)
        future: asyncio.Future[Any] = self._loop.create_future()
        self._futures[request_id] = future
        timer = self._schedule_timeout(future, f"Request {op} (id={request_id})", timeout_s)
        try:
            await self.transport.send(frame)
            return await future
        except TransportClosed as exc:
            # The transport knows before the reader does; end the connection now so
            # the client's state changes before anyone can retry on a dead link.
            info = CloseInfo(exc.code, exc.reason)
            self._finish(info)
            raise DisconnectedError(LOST, info.details()) from None
        finally:
            if timer is not None:
                timer.cancel()
            if not future.done():
                future.cancel()
            elif not future.cancelled():
                future.exception()  # the outcome may have been set while we were still sending
            if self._futures.pop(request_id, None) is not None:
                # Timed out or cancelled: a late response becomes a StrayReply.
                self.session.forget_request(request_id)

    def _schedule_timeout(
        self, future: asyncio.Future[Any], what: str, timeout_s: float
    ) -> asyncio.TimerHandle | None:
        """Arm the request timeout; returns a handle only for out-of-order deadlines.

        Requests normally share one timeout, so their deadlines arrive in send
        order: they go into a deque watched by a single timer instead of one
        timer per request (fewer heap operations on the hot path). Entries of
        finished requests are dropped from the head as new ones arrive, so the
        deque holds little more than the requests in flight.
        """
        deadline = self._loop.time() + timeout_s
        queue = self._deadlines
        while queue and queue[0][1].done():
            queue.popleft()
        if queue and deadline < queue[-1][0]:
            # A shorter timeout than an earlier request's (a retried read): own timer.
            return self._loop.call_at(deadline, _expire, future, what, timeout_s)
        queue.append((deadline, future, what, timeout_s))
        if self._sweeper is None:
            self._sweeper = self._loop.call_at(deadline, self._sweep)
        return None

    def _sweep(self) -> None:
        self._sweeper = None
        queue = self._deadlines
        now = self._loop.time()
        while queue:
            deadline, future, what, timeout_s = queue[0]
            if not future.done() and deadline > now:
                break
            queue.popleft()
            _expire(future, what, timeout_s)
        if queue:
            self._sweeper = self._loop.call_at(queue[0][0], self._sweep)

    async def close(self, code: int = 1000, reason: str = "") -> CloseInfo:
        """Close the transport and wait for the reader to finish (idempotent)."""
        if not self._closed.done():
            await _quiet_close(self.transport, code, reason)
        try:
            async with asyncio.timeout(5):
                return await self.wait_closed()
        except TimeoutError:  # pragma: no cover - a transport that never reports closure
            self._reader.cancel()
            self._finish(CloseInfo(code, reason))
            return CloseInfo(code, reason)

    def abort(self, reason: str) -> None:
        """Give up on the connection now (liveness): close in the background."""
        if self._closed.done():
            return
        logger.warning("noex_client: closing connection: %s", reason)
        # The reader ends when the transport reports closure and reports this reason.
        self._abort_reason = reason
        self._closer = self._loop.create_task(_quiet_close(self.transport, 4000, reason))

    async def _read(self) -> None:
        info = CloseInfo(1006, "")
        try:
            if isinstance(self.transport, PushTransport):
                # Frames now arrive through the callback; recv() only reports the end.
                self.transport.receive_into(self._on_pushed)
            while True:
                self._on_frame(await self.transport.recv())
        except TransportClosed as exc:
            info = CloseInfo(exc.code, exc.reason)
        except asyncio.CancelledError:
            info = CloseInfo(1006, "cancelled")
            raise
        except Exception as exc:  # pragma: no cover - a bug must not leave requests hanging
            logger.exception("noex_client: reader failed")
            info = CloseInfo(1011, f"reader failed: {type(exc).__name__}")
        finally:
            if self._abort_reason is not None:
                info = CloseInfo(info.code, self._abort_reason)
            self._finish(info)

    def _on_frame(self, frame: str | bytes) -> None:
        try:
            event = self.session.receive(frame)
        except ProtocolError as exc:
            self._hooks.on_error(exc)
            return
        match event:
            case Reply(message=Result() as result):
                future = self._futures.pop(int(result.id), None)
                if future is not None and not future.done():
                    future.set_result(result.data)
            case Reply(message=Error() as error):
                future = self._futures.pop(int(error.id), None)
                if future is not None and not future.done():
                    future.set_exception(
                        error_from_server(error.code, error.message, error.details)
                    )
            case Deliver(key=key, push=push):
                self._hooks.on_push(key, push)
            case Ping():
                self._on_ping()
                if self._ponger is None or self._ponger.done():
                    self._ponger = self._loop.create_task(self._send_pongs())
            case System():
                self._hooks.on_system(event)
            case ServerError(message=error):
                self._hooks.on_error(error_from_server(error.code, error.message, error.details))
            case StrayReply():
                logger.debug("noex_client: response to a forgotten request ignored")
            case Held() | Dropped() | Welcome():
                pass

    def _on_pushed(self, frame: str | bytes) -> None:
        try:
            self._on_frame(frame)
        except Exception as exc:  # pragma: no cover - a bug must not leave requests hanging
            logger.exception("noex_client: reader failed")
            self.abort(f"reader failed: {type(exc).__name__}")

    async def _send_pongs(self) -> None:
        # Pongs go out from their own task: a reader waiting on a send could stop
        # draining frames that the transport needs read before the send can finish
        # (websockets waits for the TCP close while it holds a close frame). A pong
        # that cannot go out is no reason to stop reading either: recv() reports the end.
        with contextlib.suppress(TransportClosed):
            while outgoing := self.session.data_to_send():
                for out in outgoing:
                    await self.transport.send(out)

    def _finish(self, info: CloseInfo) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        if self._ponger is not None:
            self._ponger.cancel()
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        self._deadlines.clear()
        futures, self._futures = self._futures, {}
        for future in futures.values():
            if not future.done():
                future.set_exception(DisconnectedError(LOST, info.details()))
        if not self._closed.done():
            self._closed.set_result(info)
            self._hooks.on_closed(self, info)

    def _on_ping(self) -> None:
        now = self._loop.time()
        if self._last_ping_at is not None:
            self._ping_interval = now - self._last_ping_at
        self._last_ping_at = now
        self._arm_watchdog()

    def _arm_watchdog(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        if self._liveness_ms == 0:
            return
        if self._liveness_ms is not None:
            window = self._liveness_ms / 1000.0
        elif self._ping_interval is not None:
            window = 2.5 * self._ping_interval
        else:
            window = DEFAULT_LIVENESS_S
        self._watchdog = self._loop.call_later(window, self.abort, "liveness_timeout")


def _expire(future: asyncio.Future[Any], what: str, timeout_s: float) -> None:
    if not future.done():
        ms = round(timeout_s * 1000)
        future.set_exception(RequestTimeoutError(f"{what} timed out after {ms}ms"))


async def _quiet_close(transport: Transport, code: int, reason: str) -> None:
    # Already gone is fine: closing is best effort.
    with contextlib.suppress(TransportClosed, OSError, NoexClientError):
        await transport.close(code, reason)
