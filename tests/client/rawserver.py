"""A WebSocket server on 127.0.0.1 that writes exactly the bytes a test asks for.

It answers the HTTP upgrade itself and hands each connection to the test's
script as a :class:`Peer`: frames can be fragmented, binary, carry invalid
UTF-8 or reserved bits, anything a WebSocket library's server would refuse to
send. Script failures are collected in ``server.errors``. :func:`mute_server`
accepts connections and never answers, for handshakes that never complete.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

__all__ = [
    "MuteServer",
    "Peer",
    "RawServer",
    "close_frame",
    "frame",
    "mute_server",
    "raw_server",
    "text_frame",
]

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, BINARY, CONTINUATION, CLOSE, PING, PONG = 1, 2, 0, 8, 9, 10
WELCOME = {"type": "welcome", "version": "1.0.0", "serverTime": 5, "requiresAuth": False}


def frame(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0) -> bytes:
    """One unmasked server frame."""
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    size = len(payload)
    if size < 126:
        head += bytes([size])
    elif size < 65_536:
        head += bytes([126]) + size.to_bytes(2, "big")
    else:
        head += bytes([127]) + size.to_bytes(8, "big")
    return head + payload


def text_frame(document: Any) -> bytes:
    return frame(TEXT, json.dumps(document, ensure_ascii=False).encode())


def close_frame(code: int, reason: str = "") -> bytes:
    return frame(CLOSE, code.to_bytes(2, "big") + reason.encode())


class Peer:
    """The server end of one connection."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, headers: dict[str, str]
    ) -> None:
        self.reader, self.writer, self.headers = reader, writer, headers

    def send(self, *frames: bytes) -> None:
        for data in frames:
            self.writer.write(data)

    async def read_frame(self) -> tuple[int, bool, bytes]:
        """The client's next frame as ``(opcode, fin, payload)``, unmasked."""
        first, second = await self.reader.readexactly(2)
        size = second & 0x7F
        if size == 126:
            size = int.from_bytes(await self.reader.readexactly(2), "big")
        elif size == 127:
            size = int.from_bytes(await self.reader.readexactly(8), "big")
        assert second & 0x80, "client frames must be masked"
        mask = await self.reader.readexactly(4)
        data = await self.reader.readexactly(size)
        key = (mask * (size // 4 + 1))[:size]
        payload = (int.from_bytes(data, "big") ^ int.from_bytes(key, "big")).to_bytes(size, "big")
        return first & 0x0F, bool(first & 0x80), payload

    async def read_message(self) -> dict[str, Any]:
        """The client's next JSON text frame (answering WebSocket pings on the way)."""
        while True:
            opcode, _fin, payload = await self.read_frame()
            if opcode == TEXT:
                message: dict[str, Any] = json.loads(payload)
                return message
            assert opcode == PONG, f"unexpected opcode {opcode}"

    async def read_close(self) -> tuple[int, str]:
        """Skip frames until the client's close frame; return its code and reason."""
        while True:
            opcode, _fin, payload = await self.read_frame()
            if opcode == CLOSE:
                if len(payload) < 2:
                    return 1005, ""
                return int.from_bytes(payload[:2], "big"), payload[2:].decode()


Script = Callable[[Peer], Awaitable[None]]


class RawServer:
    def __init__(self, script: Script) -> None:
        self.script = script
        self.url = ""
        self.errors: list[BaseException] = []
        self.done = asyncio.Event()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            headers = await _handshake(reader, writer)
            await self.script(Peer(reader, writer, headers))
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client went away: the script's own asserts say whether that was right
        except BaseException as exc:
            self.errors.append(exc)
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            self.done.set()


async def _handshake(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> dict[str, str]:
    request = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    headers = {}
    for line in request.split("\r\n")[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    digest = hashlib.sha1(headers["sec-websocket-key"].encode() + _GUID).digest()
    writer.write(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + base64.b64encode(digest) + b"\r\n\r\n"
    )
    return headers


@asynccontextmanager
async def raw_server(script: Script) -> AsyncIterator[RawServer]:
    """Serve ``script`` on 127.0.0.1 (port 0) for every connection."""
    server = RawServer(script)
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    server.url = f"ws://127.0.0.1:{port}/"
    async with listener:
        yield server


class MuteServer:
    """Accepts TCP connections and never answers the WebSocket handshake.

    ``accepted`` gets one event per connection, set when the client closes it.
    """

    def __init__(self) -> None:
        self.url = ""
        self.accepted: list[asyncio.Event] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        closed = asyncio.Event()
        self.accepted.append(closed)
        with contextlib.suppress(ConnectionError):
            await reader.read()  # until EOF: the handshake request is never answered
        closed.set()
        writer.close()


@asynccontextmanager
async def mute_server() -> AsyncIterator[MuteServer]:
    """Serve on 127.0.0.1 (port 0), answering nothing."""
    server = MuteServer()
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    server.url = f"ws://127.0.0.1:{listener.sockets[0].getsockname()[1]}/"
    async with listener:
        yield server
