"""Real WebSocket servers (each transport): text frames, ws:// and wss:// with a user
SSLContext, and connection attempts that are abandoned or never answered."""

from __future__ import annotations

import asyncio
import socket
import ssl
from pathlib import Path

import pytest
from websockets.asyncio.server import ServerConnection, serve

from noex_client import (
    ClientOptions,
    ConnectError,
    ConnectRefusedError,
    ConnectTimeoutError,
    DisconnectedError,
    NoexClient,
)
from noex_client._transport import connector_for
from tests.client.helpers import EventLog, until
from tests.client.rawserver import mute_server
from tests.client.wsserver import running, self_signed


async def test_plain_websocket_roundtrip() -> None:
    async with running() as server:
        async with NoexClient(server.url, ClientOptions(reconnect=False)) as client:
            welcome = await client.connect()
            assert welcome.server_time == 5
            assert await client.request("store.all", bucket="b") == []
            await until(lambda: server.pongs == [42])
            echoed = await client.request("x.y", text="žluťoučký kůň")
            assert echoed["echo"]["text"] == "žluťoučký kůň"
        assert all(frame.startswith("{") for frame in server.frames)


async def test_wss_with_a_self_signed_certificate(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.create_default_context(cafile=str(cert))
    async with running(server_ctx) as server:
        assert server.url.startswith("wss://")
        options = ClientOptions(ssl=client_ctx, reconnect=False)
        async with NoexClient(server.url, options) as client:
            assert await client.request("store.all", bucket="b") == []


async def test_wss_rejects_an_untrusted_certificate(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    async with running(server_ctx) as server:
        client = NoexClient(server.url, ClientOptions(reconnect=False))
        with pytest.raises(ConnectError, match=r"SSL|certificate"):
            await client.connect()
        assert client.state == "disconnected"


async def test_server_frames_above_max_payload_close_the_connection() -> None:
    async with running() as server:
        options = ClientOptions(reconnect=False, max_payload_bytes=120)
        client = NoexClient(server.url, options)
        log = EventLog(client)
        await client.connect()
        with pytest.raises(DisconnectedError):
            await client.request("x.y", text="a" * 200)
        await log.wait("disconnected")
        assert client.state == "disconnected"
        ((reason,),) = log.args("disconnected")
        assert "exceeds limit of 120 bytes" in reason


async def test_a_refused_port_raises_connect_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens on it once the probe is closed
    client = NoexClient(f"ws://localhost:{port}/", ClientOptions(reconnect=False))
    with pytest.raises(ConnectRefusedError) as caught:
        await client.connect()
    assert isinstance(caught.value, ConnectionRefusedError)
    assert caught.value.details["closeCode"] == 1006
    assert client.state == "disconnected"


@pytest.mark.parametrize("scheme", ["ws", "wss"])
async def test_disconnect_during_the_handshake_closes_the_socket(scheme: str) -> None:
    # wss: the TLS handshake is the one that never completes.
    async with mute_server() as server:
        url = server.url.replace("ws:", f"{scheme}:")
        client = NoexClient(url, ClientOptions(reconnect=False, connect_timeout_ms=30_000))
        connecting = asyncio.ensure_future(client.connect())
        await until(lambda: len(server.accepted) == 1)
        await client.disconnect()
        with pytest.raises(DisconnectedError, match="disconnect\\(\\) called while connecting"):
            await connecting
        assert client.state == "disconnected"
        async with asyncio.timeout(5):  # far below the connect timeout
            await server.accepted[0].wait()


async def test_a_handshake_that_never_completes_times_out_and_closes_the_socket() -> None:
    async with mute_server() as server:
        client = NoexClient(server.url, ClientOptions(reconnect=False, connect_timeout_ms=200))
        with pytest.raises(ConnectTimeoutError) as caught:
            await client.connect()
        assert isinstance(caught.value, TimeoutError)
        assert str(caught.value) == "Timeout waiting for welcome message after 200ms"
        assert client.state == "disconnected"
        async with asyncio.timeout(5):
            await server.accepted[0].wait()


async def test_a_server_that_sends_no_welcome_times_out_and_is_closed() -> None:
    accepted: list[ServerConnection] = []

    async def silent(ws: ServerConnection) -> None:
        accepted.append(ws)
        await ws.wait_closed()

    async with serve(silent, "127.0.0.1", 0) as ws_server:
        port = ws_server.sockets[0].getsockname()[1]
        options = ClientOptions(reconnect=False, connect_timeout_ms=200)
        client = NoexClient(f"ws://127.0.0.1:{port}/", options)
        with pytest.raises(ConnectTimeoutError, match="Timeout waiting for welcome message"):
            await client.connect()
        assert client.state == "disconnected"
        (ws,) = accepted
        async with asyncio.timeout(5):
            await ws.wait_closed()
        assert ws.close_code == 1000


async def test_a_cancelled_connect_closes_the_socket_at_once() -> None:
    # The library's own handshake timeout is far away: only the cancellation closes.
    async with mute_server() as server:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await connector_for("auto").connect(
                    server.url, max_size=1_000, ssl=None, open_timeout_s=60
                )
        async with asyncio.timeout(5):
            await server.accepted[0].wait()
