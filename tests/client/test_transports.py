"""WebSocket framing seen through the client, byte for byte, over each transport.

A raw server writes exactly the frames each test needs (fragments, binary,
bad UTF-8, reserved bits, close frames) and reads what the client answers.
Like every client test, each runs once per transport.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest

from noex_client import ClientOptions, DisconnectedError, NoexClient, ProtocolError
from noex_client._transport import resolve_transport
from tests.client.helpers import EventLog
from tests.client.rawserver import (
    BINARY,
    CONTINUATION,
    PING,
    PONG,
    TEXT,
    WELCOME,
    Peer,
    close_frame,
    frame,
    raw_server,
    text_frame,
)


def result(request: dict[str, Any], data: Any) -> bytes:
    return text_frame({"type": "result", "id": request["id"], "data": data})


async def close_after(peer: Peer, bad: bytes) -> tuple[int, str]:
    """Send ``bad`` after the first request; return the client's close."""
    await peer.read_message()
    peer.send(bad)
    closed = await peer.read_close()
    peer.send(close_frame(*closed))
    return closed


def options(**overrides: Any) -> ClientOptions:
    values: dict[str, Any] = {"reconnect": False, "connect_timeout_ms": 2_000}
    return ClientOptions(**(values | overrides))


def test_auto_resolves_to_the_transport_under_test(transport: str) -> None:
    assert resolve_transport("auto") == transport


async def test_a_close_frame_reaches_disconnected_with_its_reason_and_is_echoed() -> None:
    echoed: list[tuple[int, str]] = []

    async def script(peer: Peer) -> None:
        peer.send(text_frame(WELCOME), close_frame(4400, "go away"))
        echoed.append(await peer.read_close())

    async with raw_server(script) as server:
        client = NoexClient(server.url, options())
        log = EventLog(client)
        await client.connect()
        assert await log.wait("disconnected") == [("go away",)]
        await server.done.wait()
    assert echoed == [(4400, "go away")]
    assert server.errors == []


async def test_a_close_frame_without_a_code_reports_1005() -> None:
    async def script(peer: Peer) -> None:
        peer.send(text_frame(WELCOME))
        await peer.read_message()
        peer.send(frame(8))
        await peer.read_close()

    async with raw_server(script) as server:
        client = NoexClient(server.url, options())
        log = EventLog(client)
        await client.connect()
        with pytest.raises(DisconnectedError) as caught:
            await client.request("x.y")
        assert caught.value.details == {"closeCode": 1005, "reason": ""}
        assert await log.wait("disconnected") == [("",)]
        await server.done.wait()
    assert server.errors == []


async def test_fragments_are_reassembled_around_control_frames() -> None:
    pongs: list[bytes] = []

    async def script(peer: Peer) -> None:
        welcome = text_frame(WELCOME)[2:]
        peer.send(
            frame(TEXT, welcome[:10], fin=False),
            frame(PING, b"hb"),
            frame(CONTINUATION, welcome[10:20], fin=False),
            frame(CONTINUATION, welcome[20:]),
        )
        opcode, _fin, payload = await peer.read_frame()
        assert opcode == PONG
        pongs.append(payload)
        request = await peer.read_message()
        reply = result(request, {"text": "žluťoučký kůň"})[2:]
        cut = reply.index("ž".encode()) + 1  # split inside a multi-byte character
        peer.send(frame(TEXT, reply[:cut], fin=False), frame(CONTINUATION, reply[cut:]))
        await peer.read_close()

    async with raw_server(script) as server:
        async with NoexClient(server.url, options()) as client:
            assert await client.request("x.y") == {"text": "žluťoučký kůň"}
        await server.done.wait()
    assert server.errors == []
    assert pongs == [b"hb"]


async def test_binary_frames_are_read_like_text() -> None:
    async def script(peer: Peer) -> None:
        peer.send(text_frame(WELCOME))
        request = await peer.read_message()
        peer.send(frame(BINARY, result(request, [1, 2])[2:]))
        await peer.read_close()

    async with raw_server(script) as server:
        async with NoexClient(server.url, options()) as client:
            assert await client.request("x.y") == [1, 2]
        await server.done.wait()
    assert server.errors == []


async def test_messages_far_above_the_first_read_buffer_arrive_whole() -> None:
    text = "žluťoučký kůň " * 200_000  # 3.6 MB of UTF-8

    async def script(peer: Peer) -> None:
        peer.send(text_frame(WELCOME))
        request = await peer.read_message()
        peer.send(result(request, text))  # one frame
        request = await peer.read_message()
        reply = result(request, text)[10:]  # the payload, past the 10-byte header
        third = len(reply) // 3
        peer.send(
            frame(TEXT, reply[:third], fin=False),
            frame(CONTINUATION, reply[third : 2 * third], fin=False),
            frame(CONTINUATION, reply[2 * third :]),
        )
        await peer.read_close()

    async with raw_server(script) as server:
        async with NoexClient(server.url, options()) as client:
            assert await client.request("x.y") == text
            assert await client.request("x.y") == text
        await server.done.wait()
    assert server.errors == []


async def test_websocket_pings_are_answered_with_their_payload() -> None:
    pongs: list[bytes] = []

    async def script(peer: Peer) -> None:
        peer.send(text_frame(WELCOME), frame(PING, b"are you there"))
        opcode, _fin, payload = await peer.read_frame()
        assert opcode == PONG
        pongs.append(payload)
        request = await peer.read_message()
        peer.send(result(request, "ok"))
        await peer.read_close()

    async with raw_server(script) as server:
        async with NoexClient(server.url, options()) as client:
            assert await client.request("x.y") == "ok"
        await server.done.wait()
    assert pongs == [b"are you there"]
    assert server.errors == []


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        (frame(TEXT, b'{"type": "ping", "timestamp": 1}', rsv=4), 1002),
        (frame(CONTINUATION, b"{}"), 1002),
        (frame(TEXT, b"{", fin=False) + frame(TEXT, b"}"), 1002),
    ],
    ids=["reserved-bit", "stray-continuation", "unfinished-fragment"],
)
async def test_frames_that_break_the_protocol_close_the_connection(bad: bytes, code: int) -> None:
    closes: list[tuple[int, str]] = []

    async def script(peer: Peer) -> None:
        peer.send(text_frame(WELCOME))
        closes.append(await close_after(peer, bad))

    async with raw_server(script) as server:
        client = NoexClient(server.url, options())
        log = EventLog(client)
        await client.connect()
        with pytest.raises(DisconnectedError):
            await client.request("x.y")
        await log.wait("disconnected")
        await server.done.wait()
    assert [c for c, _reason in closes] == [code]
    assert client.state == "disconnected"
    assert server.errors == []


async def test_text_that_is_not_utf8_is_a_protocol_error_and_the_connection_survives() -> None:
    async def script(peer: Peer) -> None:
        peer.send(text_frame(WELCOME))
        request = await peer.read_message()
        peer.send(frame(TEXT, b'{"type": "\xff"}'), result(request, "still here"))
        await peer.read_close()

    async with raw_server(script) as server:
        async with NoexClient(server.url, options()) as client:
            log = EventLog(client)
            assert await client.request("x.y") == "still here"
            ((error,),) = log.args("error")
            assert isinstance(error, ProtocolError)
        await server.done.wait()
    assert server.errors == []


async def test_fragmented_messages_above_max_payload_close_with_1009() -> None:
    closes: list[tuple[int, str]] = []

    async def script(peer: Peer) -> None:
        peer.send(text_frame(WELCOME))
        parts = [frame(TEXT, b"[" + b"1," * 30, fin=False)]
        parts += [frame(CONTINUATION, b"1," * 30, fin=False) for _ in range(3)]
        closes.append(await close_after(peer, b"".join(parts) + frame(CONTINUATION, b"1]")))

    async with raw_server(script) as server:
        client = NoexClient(server.url, options(max_payload_bytes=150))
        log = EventLog(client)
        await client.connect()
        with pytest.raises(DisconnectedError):
            await client.request("x.y")
        ((reason,),) = await log.wait("disconnected")
        await server.done.wait()
    assert [c for c, _reason in closes] == [1009]
    assert "exceeds limit of 150 bytes" in reason
    assert server.errors == []


async def test_url_credentials_are_sent_as_basic_auth_only() -> None:
    seen: list[dict[str, str]] = []

    async def script(peer: Peer) -> None:
        seen.append(peer.headers)
        peer.send(text_frame(WELCOME))
        await peer.read_close()

    async with raw_server(script) as server:
        url = server.url.replace("127.0.0.1", "ann:p%40ss@127.0.0.1")
        async with NoexClient(url, options()):
            pass
        await server.done.wait()
    (headers,) = seen
    assert headers["authorization"] == "Basic " + base64.b64encode(b"ann:p@ss").decode()
    assert headers["host"] == server.url.removeprefix("ws://").rstrip("/")
    assert not any("p%40ss" in value or "p@ss" in value for value in headers.values())


async def test_disconnect_and_liveness_send_their_close_codes() -> None:
    closes: list[tuple[int, str]] = []

    async def script(peer: Peer) -> None:
        peer.send(text_frame(WELCOME))
        closes.append(await peer.read_close())
        peer.send(close_frame(*closes[-1]))

    async with raw_server(script) as server:
        async with NoexClient(server.url, options()):
            pass
        client = NoexClient(server.url, options(liveness_timeout_ms=30))
        log = EventLog(client)
        await client.connect()
        assert await log.wait("disconnected") == [("liveness_timeout",)]
        await asyncio.wait_for(server.done.wait(), 5)
    assert closes == [(1000, ""), (4000, "liveness_timeout")]
    assert server.errors == []


async def test_a_ping_among_many_frames_does_not_stall_a_close() -> None:
    """The pong goes out while the reader keeps draining. websockets stops reading
    the socket while many frames wait in its queue, and once it holds a close
    frame a send waits for the TCP close: a reader waiting on that send would
    never drain the queue, so the TCP close is never read."""

    async def script(peer: Peer) -> None:
        peer.send(text_frame(WELCOME))
        await peer.read_message()
        noise = [text_frame({"type": "result", "id": 99, "data": n}) for n in range(40)]
        ping = text_frame({"type": "ping", "timestamp": 7})
        peer.send(b"".join([ping, *noise, close_frame(1000, "bye")]))  # one write
        await peer.read_close()

    async with raw_server(script) as server:
        # A close timeout far beyond the wait below: a stall would show.
        client = NoexClient(server.url, options(connect_timeout_ms=60_000, liveness_timeout_ms=0))
        log = EventLog(client)
        await client.connect()
        with pytest.raises(DisconnectedError):
            await client.request("x.y")
        assert await log.wait("disconnected", within_s=5) == [("bye",)]
        await server.done.wait()
    assert server.errors == []


async def test_writes_beyond_the_socket_buffers_arrive_whole_and_in_order() -> None:
    """12 MB in flight at once: the transport holds writes back while the socket
    is full (picows: pause_writing; websockets: drain) and loses nothing."""
    received: list[int] = []

    async def script(peer: Peer) -> None:
        peer.send(text_frame(WELCOME))
        while len(received) < 24:
            request = await peer.read_message()
            assert request["blob"] == "x" * 500_000
            received.append(request["n"])
            peer.send(result(request, request["n"]))
        await peer.read_close()

    async with raw_server(script) as server:
        async with NoexClient(server.url, options(request_timeout_ms=30_000)) as client:
            calls = [client.request("x.y", n=n, blob="x" * 500_000) for n in range(24)]
            assert await asyncio.gather(*calls) == list(range(24))
        await server.done.wait()
    assert received == list(range(24))
    assert server.errors == []
