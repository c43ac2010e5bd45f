"""Clients in a process of their own, on each transport: what a script prints
when it exits, and how much memory a refused frame costs."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from noex_client.testing import LocalServer
from tests.client.helpers import until
from tests.client.local import USERS_BUCKET
from tests.client.rawserver import WELCOME, Peer, mute_server, raw_server, text_frame

PIPE = asyncio.subprocess.PIPE


async def start(
    source: str, *args: str, python: tuple[str, ...] = ()
) -> asyncio.subprocess.Process:
    """``python [python options] -c source args``, with pipes for its standard streams."""
    return await asyncio.create_subprocess_exec(
        sys.executable, *python, "-c", source, *args, stdin=PIPE, stdout=PIPE, stderr=PIPE
    )


async def finish(process: asyncio.subprocess.Process, stdin: bytes = b"") -> tuple[str, str]:
    """Its stdout and stderr, once it has read ``stdin`` and exited successfully."""
    async with asyncio.timeout(60):
        out, err = await process.communicate(stdin)
    assert process.returncode == 0, err.decode()
    return out.decode(), err.decode()


ABANDONED = """
import asyncio, sys
from noex_client import ClientOptions, ConnectTimeoutError, DisconnectedError, NoexClient

async def main(url, transport):
    quick = ClientOptions(transport=transport, reconnect=False, connect_timeout_ms=200)
    try:
        await NoexClient(url, quick).connect()
    except ConnectTimeoutError:
        print("timed out")
    patient = ClientOptions(transport=transport, reconnect=False, connect_timeout_ms=30_000)
    client = NoexClient(url, patient)
    connecting = asyncio.ensure_future(client.connect())
    await asyncio.to_thread(sys.stdin.readline)  # the server has the handshake request
    await client.disconnect()
    try:
        await connecting
    except DisconnectedError:
        print("disconnected")

asyncio.run(main(*sys.argv[1:]))
"""


async def test_a_script_abandoning_handshakes_prints_nothing_at_exit(transport: str) -> None:
    # An unclosed socket or transport shows as a ResourceWarning when the script exits.
    async with mute_server() as server:
        process = await start(
            ABANDONED, server.url, transport, python=("-W", "always::ResourceWarning")
        )
        await until(lambda: len(server.accepted) == 2, within_s=30)
        out, err = await finish(process, b"go\n")
    assert err == ""
    assert out.splitlines() == ["timed out", "disconnected"]


FORGETFUL = """
import asyncio, sys
from noex_client import ClientOptions, NoexClient

async def main(url, transport):
    client = NoexClient(url, ClientOptions(transport=transport))
    await client.connect()
    print(await client.store.bucket("users").all(), type(client._connector).__name__)

asyncio.run(main(*sys.argv[1:]))
"""


async def test_a_script_that_never_disconnects_prints_nothing_on_stderr(transport: str) -> None:
    async with LocalServer(buckets=[USERS_BUCKET]) as server:
        out, err = await finish(await start(FORGETFUL, server.url, transport))
    assert err == ""
    connector = {"websockets": "WebSocketConnector", "picows": "PicowsConnector"}[transport]
    assert out.split() == ["[]", connector]


LIMITED = """
import asyncio, re, sys
from noex_client import ClientOptions, DisconnectedError, NoexClient

def peak_kib():
    # The peak since the reset below: a forked process inherits its parent's ru_maxrss.
    with open("/proc/self/status") as status:
        return int(re.search(r"VmHWM:\\s+(\\d+)", status.read())[1])

async def main(url, transport):
    options = ClientOptions(transport=transport, reconnect=False, max_payload_bytes=1_000_000)
    client = NoexClient(url, options)
    await client.connect()
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # the peak resident size starts again from the current one
    before = peak_kib()
    try:
        await client.request("x.y")
    except DisconnectedError as exc:
        print(exc.details["closeCode"], (peak_kib() - before) // 1024)

asyncio.run(main(*sys.argv[1:]))
"""


@pytest.mark.skipif(
    not Path("/proc/self/clear_refs").exists(), reason="measures peak memory through Linux /proc"
)
async def test_a_frame_above_the_limit_is_not_read_into_memory(transport: str) -> None:
    huge = text_frame({"type": "result", "id": 1, "data": "x" * 64_000_000})

    async def script(peer: Peer) -> None:
        peer.send(text_frame(WELCOME))
        await peer.read_message()
        peer.send(huge)
        await peer.writer.drain()

    async with raw_server(script) as server:
        out, err = await finish(await start(LIMITED, server.url, transport))
    assert err == ""
    code, grown_mib = out.split()
    assert code == "1009"
    # Reading stops with the frame's header: the client keeps none of its 64 MB.
    assert int(grown_mib) < 2, f"the client grew by {grown_mib} MiB for a 64 MB frame"
