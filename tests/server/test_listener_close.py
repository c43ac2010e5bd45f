"""Closing the listener never leaks a socket the server had already accepted.

The kernel completes a loopback TCP handshake inside ``connect()``, so a
blocking connect puts the connection in the listener's backlog without the
event loop running; the loop accepts it on its next iteration. Connecting
after a varying number of iterations while ``restart()`` runs lines that
accept up with every step of ``shutdown()``, including the one that closes
the listener. A socket accepted but never wrapped in a transport is closed
only by the garbage collector, with a ``ResourceWarning``.
"""

from __future__ import annotations

import asyncio
import gc
import socket
import warnings

import pytest

from noex_client.testing import LocalServer

CLIENTS = 4
OFFSETS = 24  # well past the loop iterations shutdown(0) takes to reach the listener
UPGRADE = (
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


def connect_and_leave(port: int, request: bytes) -> int:
    """Open loopback connections, send ``request`` and close at once.

    Returns how many connected: none once the listener is closed.
    """
    for n in range(CLIENTS):
        try:
            with socket.create_connection(("127.0.0.1", port)) as sock:
                sock.sendall(request)
        except ConnectionRefusedError:
            return n
    return CLIENTS


async def connect_later(port: int, request: bytes, iterations: int) -> int:
    """Connect after ``iterations`` turns of the event loop."""
    for _ in range(iterations):
        await asyncio.sleep(0)  # one loop iteration: places the connect among shutdown's steps
    return connect_and_leave(port, request)


@pytest.mark.parametrize("request_bytes", [b"", UPGRADE], ids=["tcp-only", "mid-handshake"])
async def test_restart_while_connections_arrive_leaks_no_socket(request_bytes: bytes) -> None:
    server = LocalServer()
    await server.start()
    try:
        gc.collect()  # earlier garbage must not be counted here
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            connected = 0
            for offset in range(OFFSETS):
                arrival = asyncio.create_task(connect_later(server.port, request_bytes, offset))
                await server.restart()
                connected += await arrival
            gc.collect()
        leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
        assert leaks == []
        assert connected > 0  # some connections did arrive during the restarts
    finally:
        await server.stop()
