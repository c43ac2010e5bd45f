"""The WebSocket side of the connections: read loop, writer, heartbeat, accepting.

Frames leave through one queue per connection, so responses, pushes, pings
and the final close go out in the order the core produced them. Requests are
handled strictly one at a time, in arrival order.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec
from websockets.asyncio.server import Server, ServerConnection
from websockets.exceptions import ConnectionClosed

from ._state import ConnectionState
from ._store._values import now_ms

if TYPE_CHECKING:
    from ._app import LocalServer

__all__ = ["encode_frame", "serve_connection", "stop_accepting"]

_encoder = msgspec.json.Encoder()


def _js_numbers(value: Any) -> Any:
    # JSON.stringify prints integral numbers without a fraction: 20, not 20.0.
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 2**63 else value
    if isinstance(value, dict):
        return {k: _js_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_js_numbers(v) for v in value]
    return value


def encode_frame(frame: dict[str, Any]) -> str:
    """Serialise a frame the way the Node server does."""
    return _encoder.encode(_js_numbers(frame)).decode()


@dataclass(frozen=True)
class _Close:
    code: int
    reason: str


async def _writer(ws: ServerConnection, queue: asyncio.Queue[dict[str, Any] | _Close]) -> None:
    while True:
        item = await queue.get()
        if isinstance(item, _Close):
            await ws.close(item.code, item.reason)
            return
        await ws.send(encode_frame(item))


async def _heartbeat(server: LocalServer, conn: ConnectionState) -> None:
    interval = server.core.config.heartbeat_interval_ms / 1000
    while conn.open:
        await asyncio.sleep(interval)
        if server.pings_paused or not conn.open:
            continue
        if conn.last_ping is not None and conn.last_pong < conn.last_ping:
            conn.close(4001, "heartbeat_timeout")
            return
        stamp = now_ms()
        conn.last_ping = stamp
        conn.send({"type": "ping", "timestamp": stamp})


async def serve_connection(server: LocalServer, ws: ServerConnection) -> None:
    """Run one accepted WebSocket connection until it closes."""
    core = server.core
    remote = str(ws.remote_address[0]) if ws.remote_address else "unknown"
    if server.stopping:
        await ws.close(1001, "server_shutting_down")
        return
    limit = core.config.max_connections_per_ip
    if limit is not None and core.connections_from(remote) >= limit:
        await ws.close(4003, "too_many_connections")
        return
    queue: asyncio.Queue[dict[str, Any] | _Close] = asyncio.Queue()
    closing = False

    def send(frame: dict[str, Any]) -> None:
        if not closing and conn.open:
            if frame.get("type") == "push":
                server.count_push()
            queue.put_nowait(frame)

    def close(code: int, reason: str) -> None:
        nonlocal closing
        if not closing:
            closing = True
            queue.put_nowait(_Close(code, reason))

    conn = core.open_connection(remote, send, close)
    server.track(conn, ws)
    send(core.welcome())
    writer = asyncio.create_task(_writer(ws, queue))
    heartbeat = asyncio.create_task(_heartbeat(server, conn))
    try:
        await _read_loop(server, conn, ws, close)
    finally:
        core.close_connection(conn)
        heartbeat.cancel()
        if closing:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer, 5)
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await writer
        server.untrack(conn)


async def _read_loop(
    server: LocalServer, conn: ConnectionState, ws: ServerConnection, close: Any
) -> None:
    core = server.core
    max_bytes = core.config.max_payload_bytes
    with contextlib.suppress(ConnectionClosed):
        async for message in ws:
            if not isinstance(message, str):
                close(1003, "binary_not_supported")
                return
            # A code point is at most 4 bytes: only long messages need encoding.
            if len(message) * 4 > max_bytes and len(message.encode()) > max_bytes:
                close(1009, "")
                return
            if server.response_delay > 0:
                await asyncio.sleep(server.response_delay)
            response = await core.handle_text(conn, message)
            if response is not None:
                server.count_request()
                conn.send(response)
            core.flush()


async def stop_accepting(server: Server) -> None:
    """Stop accepting, and let every connection already accepted get its transport.

    asyncio accepts a connection in a selector callback, then builds its
    transport in a task scheduled for the next loop iteration. If the listener
    is closed in between, that task fails (on Python 3.11 the closed server
    refuses to attach the transport) and swallows the error, leaving the
    accepted socket for the garbage collector to close with a ResourceWarning.
    Removing the listener's reader first means no new accept callback runs
    (a callback already queued for this iteration is cancelled along with
    it); one turn of the loop then runs every transport-building task
    scheduled before this point, so the close below finds them attached and
    closes them with the server.
    """
    loop = asyncio.get_running_loop()
    for sock in server.sockets:
        loop.remove_reader(sock.fileno())
    await asyncio.sleep(0)  # a single loop turn, ordered after the queued tasks; not a timed wait
