"""Real WebSocket servers: text frames, ws:// and wss:// with a user SSLContext (each transport)."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from noex_client import ClientOptions, ConnectError, DisconnectedError, NoexClient
from tests.client.helpers import EventLog, until
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
