"""The picows transport: :class:`PicowsConnector` and :class:`PicowsTransport`.

picows parses frames in C and calls a listener per frame, with no task or
future of its own on the data path. The listener here turns those callbacks
into the :class:`~noex_client._transport.Transport` seam, and behaves like the
websockets transport in everything a client can observe:

- messages are handed over as bytes (the JSON decoder checks UTF-8 and
  reports bad text as a ``ProtocolError``), fragmented messages are
  reassembled, reserved bits or a stray continuation close with 1002;
- ``max_size`` bounds a whole message: picows refuses a bigger frame from its
  header (and reading stops there, see :class:`_ReadStop`), the listener a
  bigger sum of fragments; both close with 1009 and report "message exceeds
  limit of N bytes";
- a close frame from the server is echoed and reported with its code and
  reason (1005 when it carried none), a dropped socket as 1006;
- ``close()`` waits for the server's echo, then aborts after the close timeout;
- WebSocket pings are answered by picows; writes wait while the socket's
  buffer is above its high-water mark.

picows logs its own diagnostics (a refused frame, for example, at ERROR):
they go to the ``noex_client`` logger at DEBUG, since the client reports what
matters through close codes and events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl as _ssl
from collections import deque
from collections.abc import Callable, MutableMapping
from typing import Any, cast

import picows
from picows import WSCloseCode, WSFrame, WSListener, WSMsgType, WSTransport

from ._transport import Transport, TransportClosed
from ._transport_frames import FrameAssembler, close_frame, too_big
from ._transport_secrets import RedactingLogger, split_credentials
from ._transport_socket import AttemptSockets

__all__ = ["PicowsConnector", "PicowsTransport"]

logger = logging.getLogger("noex_client")

_TEXT, _BINARY, _CONT, _CLOSE = (
    WSMsgType.TEXT,
    WSMsgType.BINARY,
    WSMsgType.CONTINUATION,
    WSMsgType.CLOSE,
)
_DATA = (_TEXT, _BINARY, _CONT)


class _DebugOnly(RedactingLogger):
    """picows' log calls, demoted to DEBUG on the package logger, secrets masked."""

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        super().log(min(level, logging.DEBUG), msg, *args, **kwargs)

    def isEnabledFor(self, level: int) -> bool:
        return self.logger.isEnabledFor(min(level, logging.DEBUG))

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, Any]:
        return f"noex_client: picows: {msg}", kwargs


_PICOWS_LOG = _DebugOnly(logger, {})


class _Listener(WSListener):
    """picows' callbacks for one connection, feeding a :class:`PicowsTransport`."""

    def __init__(self, owner: PicowsTransport) -> None:
        self.owner = owner

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.owner.attach(transport)

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        owner = self.owner
        opcode = frame.msg_type
        if opcode == _TEXT and frame.fin and owner.plain and frame.payload_size <= owner.limit:
            # The hot path: a whole, unfragmented text frame.
            if frame.rsv1 or frame.rsv2 or frame.rsv3:
                owner.fail(TransportClosed(1002, "reserved bits must be 0"))
                return
            owner.deliver(frame.get_payload_as_bytes())
        elif opcode in _DATA:
            # picows reads a frame header ahead: after it closed over the next
            # frame, the current one still arrives and is handled like any other.
            if owner.ended is not None:
                return  # closing: later data is discarded
            try:
                message = owner.assembler.feed(
                    opcode,
                    frame.fin,
                    frame.get_payload_as_bytes(),
                    bool(frame.rsv1 or frame.rsv2 or frame.rsv3),
                )
            except TransportClosed as exc:
                owner.fail(exc)
                return
            owner.plain = owner.assembler.idle
            if message is not None:
                owner.deliver(message)
        elif opcode == _CLOSE:
            owner.on_close_frame(frame.get_payload_as_bytes())
        # A ping is answered by picows itself; pongs need nothing.

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.owner.on_disconnected()

    def pause_writing(self) -> None:
        self.owner.writable.clear()

    def resume_writing(self) -> None:
        self.owner.writable.set()


class PicowsTransport:
    """A :class:`~noex_client._transport.Transport` over a picows connection."""

    __slots__ = (
        "_close_timeout",
        "_inbox",
        "_loop",
        "_reaper",
        "_receiver",
        "_waiter",
        "_ws",
        "assembler",
        "ended",
        "limit",
        "plain",
        "writable",
    )

    def __init__(self, limit: int, close_timeout: float) -> None:
        self._loop = asyncio.get_running_loop()
        self._ws: WSTransport | None = None
        self._inbox: deque[str | bytes] = deque()
        self._waiter: asyncio.Future[str | bytes] | None = None
        self._receiver: Callable[[str | bytes], None] | None = None
        self._reaper: asyncio.Task[None] | None = None
        self._close_timeout = close_timeout
        self.limit = limit
        self.assembler = FrameAssembler(limit)
        #: No fragmented message is in progress and the connection is open.
        self.plain = True
        #: Set once the connection is closing or closed: what ``recv`` raises.
        self.ended: TransportClosed | None = None
        self.writable = asyncio.Event()
        self.writable.set()

    def listener(self) -> _Listener:
        return _Listener(self)

    def attach(self, ws: WSTransport) -> None:
        self._ws = ws

    # -- the seam --------------------------------------------------------------------------

    async def send(self, frame: bytes) -> None:
        if self.ended is not None:
            raise self.ended
        if not self.writable.is_set():
            await self.writable.wait()
            if self.ended is not None:
                raise self.ended
        assert self._ws is not None
        self._ws.send(_TEXT, frame)

    async def recv(self) -> str | bytes:
        if self._inbox:
            return self._inbox.popleft()
        if self.ended is not None:
            raise self.ended
        waiter: asyncio.Future[str | bytes] = self._loop.create_future()
        self._waiter = waiter
        try:
            return await waiter
        finally:
            self._waiter = None

    def receive_into(self, receiver: Callable[[str | bytes], None]) -> None:
        self._receiver = receiver
        while self._inbox:
            receiver(self._inbox.popleft())

    async def close(self, code: int = 1000, reason: str = "") -> None:
        ws = self._ws
        if ws is None or ws.is_disconnected:
            return
        if self.ended is None:
            self.ended = TransportClosed(code, reason)
            self.plain = False
        if not ws.is_close_frame_sent:
            ws.send_close(WSCloseCode(code), reason.encode())
        try:
            async with asyncio.timeout(self._close_timeout):
                await ws.wait_disconnected()
        except TimeoutError:
            ws.disconnect(graceful=False)
        except Exception:
            pass

    # -- from the listener -----------------------------------------------------------------

    def deliver(self, message: str | bytes) -> None:
        receiver = self._receiver
        if receiver is not None:
            receiver(message)
            return
        waiter = self._waiter
        if waiter is not None and not self._inbox:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(message)
                return
        self._inbox.append(message)

    def fail(self, exc: TransportClosed) -> None:
        """Close because the server broke the protocol (code and reason in ``exc``)."""
        if self.ended is not None:
            return
        self.ended, self.plain = exc, False
        assert self._ws is not None
        self._ws.send_close(WSCloseCode(exc.code), exc.reason.encode())
        # The server's echo ends the connection; abort if it never comes.
        self._loop.call_later(self._close_timeout, self._ws.disconnect, False)

    def on_close_frame(self, payload: bytes) -> None:
        code, reason = close_frame(payload)
        ws = self._ws
        assert ws is not None
        if self.ended is not None:
            # Our close was answered: report the echo, as websockets does.
            self.ended = _answered(self.ended, code, reason)
        elif ws.is_close_frame_sent:
            # The echo of a close picows sent on its own (a frame above the limit).
            self.ended = self._local_failure() or TransportClosed(code, reason)
        else:
            self.ended = TransportClosed(code, reason)
            ws.send_close(WSCloseCode(1000 if code == 1005 else code), payload[2:])
        self.plain = False
        ws.disconnect()

    def on_disconnected(self) -> None:
        assert self._ws is not None
        # picows keeps the failure that made it close for wait_disconnected(): collect it.
        self._reaper = self._loop.create_task(_reap(self._ws))
        ended = self.ended
        if ended is None:
            ended = self._local_failure() or TransportClosed(1006, "")
        self.ended, self.plain = ended, False
        self.writable.set()
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(ended)

    def _local_failure(self) -> TransportClosed | None:
        """A close picows started itself (a frame above the limit, a parse error)."""
        assert self._ws is not None
        handshake = self._ws.close_handshake
        if handshake is None or handshake.sent is None or handshake.recv_then_sent:
            return None
        code = int(handshake.sent.code.value)
        if code == 1009:
            return TransportClosed(1009, too_big(self.limit))
        return TransportClosed(code, handshake.sent.reason or "")


class _ReadStop(asyncio.BufferedProtocol):
    """Sits between the socket and picows' protocol, and stops reading as soon as
    picows closes the connection on its own (a frame above ``max_size``, or one
    it cannot parse). picows would go on reading and buffering the rest of that
    frame, however big, until it drops the connection 10 ms later.
    """

    __slots__ = ("_inner", "_owner", "_ws")

    def __init__(self, ws: WSTransport, owner: PicowsTransport) -> None:
        self._inner = cast(asyncio.BufferedProtocol, ws.underlying_transport.get_protocol())
        self._ws = ws
        self._owner = owner

    def get_buffer(self, sizehint: int) -> Any:
        return self._inner.get_buffer(sizehint)

    def buffer_updated(self, nbytes: int) -> None:
        self._inner.buffer_updated(nbytes)
        # A close frame sent while ``ended`` is unset was picows' own, not ours.
        if self._ws.is_close_frame_sent and self._owner.ended is None:
            self._ws.underlying_transport.pause_reading()

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


async def _reap(ws: WSTransport) -> None:
    with contextlib.suppress(Exception):
        await ws.wait_disconnected()


def _answered(ours: TransportClosed, code: int, reason: str) -> TransportClosed:
    # Keep our own diagnosis (1002/1009) when the server echoes something else.
    if ours.code in (1002, 1009):
        return ours
    return TransportClosed(code, reason)


class PicowsConnector:
    """Opens :class:`PicowsTransport` connections (``ws://`` and ``wss://``)."""

    async def connect(
        self, url: str, *, max_size: int, ssl: _ssl.SSLContext | None, open_timeout_s: float
    ) -> Transport:
        owner = PicowsTransport(max_size, open_timeout_s)
        # picows would send URL credentials in the Host header: Basic auth instead.
        url, headers = split_credentials(url)  # ValueError for a bad URL, as with websockets
        extra: dict[str, Any] = {"extra_headers": headers}
        if ssl is not None and url.startswith("wss:"):
            extra["ssl_context"] = ssl
        sockets = AttemptSockets()
        # A task of its own, so that a cancelled connect can wait for it to end.
        attempt = asyncio.ensure_future(
            picows.ws_connect(
                owner.listener,
                url,
                websocket_handshake_timeout=open_timeout_s,
                max_frame_size=max_size,
                enable_auto_pong=True,
                logger_name=_PICOWS_LOG,
                socket_factory=lambda target: sockets.open(target.host, target.port),
                **extra,
            )
        )
        try:
            ws, _ = await asyncio.shield(attempt)
        except asyncio.CancelledError:
            await _abandon(attempt, sockets, open_timeout_s)
            raise
        except (OSError, TimeoutError, picows.WSError) as exc:
            refused = isinstance(exc, ConnectionRefusedError)
            reason = f"{type(exc).__name__}: {_safe(exc)}"
            raise TransportClosed(1006, reason, refused=refused) from None
        owner.attach(ws)
        ws.underlying_transport.set_protocol(_ReadStop(ws, owner))
        return owner


async def _abandon(
    attempt: asyncio.Future[tuple[WSTransport, WSListener]],
    sockets: AttemptSockets,
    grace_s: float,
) -> None:
    """End a connection attempt nobody waits for any more; return once its socket is closed."""
    if not sockets.shut_down():
        attempt.cancel()  # resolving or connecting: the socket factory closes its socket
    try:
        # picows' transport reads the EOF and closes within a few loop iterations.
        await asyncio.wait([attempt], timeout=grace_s)
    finally:
        if not attempt.done():
            attempt.cancel()
    if attempt.done() and not attempt.cancelled() and attempt.exception() is None:
        ws, _ = attempt.result()  # the handshake completed just before the shutdown
        ws.disconnect(graceful=False)


def _safe(exc: Exception) -> str:
    # picows echoes an invalid URL in full; messages are cut to keep reasons short.
    return "invalid URI" if isinstance(exc, picows.WSInvalidURL) else str(exc)[:200]
