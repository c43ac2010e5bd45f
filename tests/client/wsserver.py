"""A minimal noex-speaking WebSocket server on 127.0.0.1 (port 0), optionally TLS.

Enough for transport-level tests: welcome, ``store.all`` → ``[]``, pong
recording, and an echo of ``ping`` messages on demand.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed


class WsServer:
    def __init__(self) -> None:
        self.url = ""
        self.pongs: list[object] = []
        self.frames: list[str] = []
        self.connections: list[ServerConnection] = []

    async def handle(self, ws: ServerConnection) -> None:
        self.connections.append(ws)
        await ws.send(
            json.dumps(
                {"type": "welcome", "version": "1.0.0", "serverTime": 5, "requiresAuth": False}
            )
        )
        await ws.send(json.dumps({"type": "ping", "timestamp": 42}))
        with contextlib.suppress(ConnectionClosed):
            await self._serve(ws)

    async def _serve(self, ws: ServerConnection) -> None:
        async for raw in ws:
            assert isinstance(raw, str), "the client must send text frames"
            self.frames.append(raw)
            message = json.loads(raw)
            if message["type"] == "pong":
                self.pongs.append(message["timestamp"])
            elif message["type"] == "store.all":
                await ws.send(json.dumps({"type": "result", "id": message["id"], "data": []}))
            else:
                await ws.send(
                    json.dumps({"type": "result", "id": message["id"], "data": {"echo": message}})
                )


@asynccontextmanager
async def running(ssl_context: ssl.SSLContext | None = None) -> AsyncIterator[WsServer]:
    server = WsServer()
    async with serve(server.handle, "127.0.0.1", 0, ssl=ssl_context, compression=None) as ws:
        port = ws.sockets[0].getsockname()[1]
        server.url = f"{'wss' if ssl_context else 'ws'}://127.0.0.1:{port}/"
        yield server


def self_signed(directory: Path) -> tuple[Path, Path]:
    """Write a self-signed certificate for 127.0.0.1/localhost; return (cert, key) paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
