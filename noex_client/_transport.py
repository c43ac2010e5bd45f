"""The transport seam: ``connect`` / ``send`` / ``recv`` / ``close``.

:class:`WebSocketConnector` opens real connections with ``websockets``;
``PicowsConnector`` (in ``_transport_picows``, with the ``fast`` extra) with
picows; :func:`connector_for` picks one for ``ClientOptions(transport=...)``.
:class:`MemoryConnector` hands out in-memory :class:`MemoryTransport` pairs
for tests and in-process servers. All raise :class:`TransportClosed` from
``send``/``recv`` once the connection is gone, carrying the close code and
reason, so the client never sees a library-specific exception.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import logging
import ssl as _ssl
from collections.abc import Awaitable, Callable
from typing import Any, Literal, Protocol, runtime_checkable

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect

from ._transport_secrets import RedactingLogger

__all__ = [
    "AUTO_ORDER",
    "Connector",
    "MemoryConnector",
    "MemoryTransport",
    "PushTransport",
    "Transport",
    "TransportClosed",
    "TransportName",
    "WebSocketConnector",
    "WebSocketTransport",
    "connector_for",
    "resolve_transport",
]

TransportName = Literal["auto", "websockets", "picows"]

#: What ``transport="auto"`` picks: the first of these that can be imported.
#: picows first: it costs less client CPU in every case of ``bench/transports.py``.
AUTO_ORDER: tuple[Literal["websockets", "picows"], ...] = ("picows", "websockets")


@functools.cache
def _import_error(module: str) -> ImportError | None:
    """Why ``module`` cannot be imported, or ``None`` when it can.

    Installed is not enough: a build for another platform fails to import.
    """
    try:
        importlib.import_module(module)
    except ImportError as exc:
        return exc
    return None


def resolve_transport(name: TransportName) -> Literal["websockets", "picows"]:
    """The library behind ``name``: ``"auto"`` is the first of :data:`AUTO_ORDER`
    that can be imported.

    Raises:
        ImportError: ``"picows"`` was asked for and cannot be imported.
    """
    if name == "auto":
        return next(choice for choice in AUTO_ORDER if _import_error(choice) is None)
    if name == "picows" and (failure := _import_error("picows")) is not None:
        raise ImportError(
            "ClientOptions(transport='picows') needs the picows package: "
            f"pip install 'noex-client[fast]' (import failed: {failure})"
        ) from failure
    return name


def connector_for(name: TransportName) -> Connector:
    """A connector for ``ClientOptions(transport=name)``.

    Raises:
        ImportError: ``"picows"`` was asked for and cannot be imported.
    """
    if resolve_transport(name) == "picows":
        from ._transport_picows import PicowsConnector

        return PicowsConnector()
    return WebSocketConnector()


class TransportClosed(Exception):
    """The connection is closed; ``code``/``reason`` are the WebSocket close frame's.

    ``code`` is 1006 when the connection ended without a close frame;
    ``refused`` is set when nothing accepted the TCP connection.
    """

    def __init__(self, code: int = 1006, reason: str = "", *, refused: bool = False) -> None:
        super().__init__(f"connection closed ({code}{': ' + reason if reason else ''})")
        self.code = code
        self.reason = reason
        self.refused = refused


class Transport(Protocol):
    """One open, message-oriented connection carrying text frames."""

    async def send(self, frame: bytes) -> None:
        """Send one UTF-8 JSON document as a text frame. Raises TransportClosed."""

    async def recv(self) -> str | bytes:
        """Return the next frame. Raises TransportClosed when the connection ends."""

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection (idempotent)."""


@runtime_checkable
class PushTransport(Transport, Protocol):
    """A transport that can hand frames to a callback as they arrive.

    Saves the reader a task switch per frame when the library delivers frames
    through callbacks anyway (picows).
    """

    def receive_into(self, receiver: Callable[[str | bytes], None]) -> None:
        """From now on pass every frame to ``receiver`` (synchronously, in order,
        starting with those already received); ``recv`` then only raises
        :class:`TransportClosed` when the connection ends."""


class Connector(Protocol):
    """Opens transports; injected into :class:`~noex_client.NoexClient`."""

    async def connect(
        self, url: str, *, max_size: int, ssl: _ssl.SSLContext | None, open_timeout_s: float
    ) -> Transport:
        """Open a connection to ``url``.

        Raises:
            TransportClosed: Refused, failed handshake, or timed out (code 1006).
        """


class WebSocketTransport:
    """A :class:`Transport` over a ``websockets`` client connection."""

    __slots__ = ("_ws",)

    def __init__(self, ws: ClientConnection) -> None:
        self._ws = ws

    async def send(self, frame: bytes) -> None:
        try:
            await self._ws.send(frame, text=True)
        except websockets.ConnectionClosed as exc:
            raise _closed(exc) from None

    async def recv(self) -> str | bytes:
        try:
            # decode=False skips building a str; the JSON decoder reads bytes directly.
            return await self._ws.recv(decode=False)
        except websockets.ConnectionClosed as exc:
            raise _closed(exc) from None

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self._ws.close(code, reason)


def _closed(exc: websockets.ConnectionClosed) -> TransportClosed:
    frame = exc.rcvd if exc.rcvd is not None else exc.sent
    if frame is None:
        return TransportClosed(1006, "")
    return TransportClosed(int(frame.code), frame.reason)


#: websockets logs the handshake's Authorization header and every frame at DEBUG.
_WEBSOCKETS_LOG = RedactingLogger(logging.getLogger("websockets.client"))


class WebSocketConnector:
    """Opens :class:`WebSocketTransport` connections (``ws://`` and ``wss://``)."""

    async def connect(
        self, url: str, *, max_size: int, ssl: _ssl.SSLContext | None, open_timeout_s: float
    ) -> Transport:
        # websockets picks the system trust store for wss:// when no context is given.
        tls: dict[str, Any] = {"ssl": ssl} if ssl is not None and url.startswith("wss:") else {}
        try:
            ws = await ws_connect(
                url,
                **tls,
                max_size=max_size,
                compression=None,
                open_timeout=open_timeout_s,
                # Liveness is the noex heartbeat's job; protocol pings would only add traffic.
                ping_interval=None,
                close_timeout=open_timeout_s,
                logger=_WEBSOCKETS_LOG,
            )
        except (OSError, TimeoutError, websockets.InvalidHandshake, websockets.InvalidURI) as exc:
            refused = isinstance(exc, ConnectionRefusedError)
            reason = f"{type(exc).__name__}: {_safe(exc)}"
            raise TransportClosed(1006, reason, refused=refused) from None
        except websockets.ConnectionClosed as exc:
            raise _closed(exc) from None
        return WebSocketTransport(ws)


def _safe(exc: Exception) -> str:
    # Handshake errors may echo the URL, which can carry user:password@.
    text = str(exc)
    return "invalid URI" if isinstance(exc, websockets.InvalidURI) else text[:200]


class MemoryTransport:
    """One end of an in-memory connection pair (see :meth:`pair`)."""

    def __init__(self) -> None:
        self._inbox: asyncio.Queue[str | bytes | TransportClosed] = asyncio.Queue()
        self.peer: MemoryTransport | None = None
        self.closed: TransportClosed | None = None

    @classmethod
    def pair(cls) -> tuple[MemoryTransport, MemoryTransport]:
        """Two connected ends: what one sends, the other receives."""
        a, b = cls(), cls()
        a.peer, b.peer = b, a
        return a, b

    async def send(self, frame: bytes | str) -> None:
        if self.closed is not None:
            raise self.closed
        assert self.peer is not None
        self.peer._inbox.put_nowait(frame)

    async def recv(self) -> str | bytes:
        if self.closed is not None and self._inbox.empty():
            raise self.closed
        item = await self._inbox.get()
        if isinstance(item, TransportClosed):
            self.closed = item
            raise item
        return item

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if self.closed is not None:
            return
        self.closed = TransportClosed(code, reason)
        self._inbox.put_nowait(self.closed)
        if self.peer is not None and self.peer.closed is None:
            self.peer.closed = TransportClosed(code, reason)
            self.peer._inbox.put_nowait(self.peer.closed)

    def abort(self) -> None:
        """Drop the connection without a close frame (both ends see code 1006)."""
        for end in (self, self.peer):
            if end is not None and end.closed is None:
                end.closed = TransportClosed(1006, "")
                end._inbox.put_nowait(end.closed)


class MemoryConnector:
    """Connects to an in-memory peer: every ``connect`` creates a pair and passes
    the server end to ``accept`` (for example a scripted test peer).

    ``accept`` may raise :class:`TransportClosed` to refuse the connection.
    """

    def __init__(self, accept: Callable[[MemoryTransport], Awaitable[None] | None]) -> None:
        self._accept = accept

    async def connect(
        self, url: str, *, max_size: int, ssl: _ssl.SSLContext | None, open_timeout_s: float
    ) -> Transport:
        client, server = MemoryTransport.pair()
        outcome = self._accept(server)
        if outcome is not None:
            await outcome
        return client
