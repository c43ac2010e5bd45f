"""Fuzz over real sockets: random frame sequences, and both transports must agree.

For each seed a raw server answers the client's one request with a random
mix of results, pushes, server errors, garbage (text, binary, random bytes,
bad UTF-8), JSON and WebSocket pings, fragments, messages above
``max_payload_bytes``, protocol violations and close frames. The same frames
go to a client over each transport; what the client reports must be the
same: the request's outcome, every ``error`` event, how the connection ended
and the close code the client sent. Nothing may raise an untyped error or hang.
"""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import pytest

from noex_client import ClientOptions, NoexClient, NoexClientError
from tests.client.conftest import TRANSPORTS
from tests.client.helpers import EventLog
from tests.client.rawserver import (
    BINARY,
    CONTINUATION,
    PING,
    TEXT,
    WELCOME,
    Peer,
    close_frame,
    frame,
    raw_server,
    text_frame,
)

SEEDS = 40
FRAMES = 30
LIMIT = 400

pytestmark = pytest.mark.compares_transports

#: picows reads one frame header ahead, so a frame whose header breaks the
#: protocol (a reserved opcode, a frame above the limit) is noticed before the
#: frame in front of it is handled. When that frame ends the connection too (a
#: close frame, a message above the limit), websockets reports the first of
#: the two and picows the second; both close. A valid frame goes in between.
AFTER_CLOSING = frame(PING, b"after")


def fragmented(rng: random.Random, opcode: int, payload: bytes) -> list[bytes]:
    if len(payload) < 2 or rng.random() < 0.6:
        return [frame(opcode, payload)]
    cuts = sorted(rng.sample(range(1, len(payload)), min(3, len(payload) - 1)))
    parts = [payload[a:b] for a, b in zip([0, *cuts], [*cuts, len(payload)], strict=True)]
    out = [frame(opcode, parts[0], fin=False)]
    out += [frame(CONTINUATION, part, fin=False) for part in parts[1:-1]]
    out.append(frame(CONTINUATION, parts[-1]))
    if rng.random() < 0.3:
        out.insert(1, frame(PING, b"mid"))  # control frames may interleave
    return out


def message(rng: random.Random, request_id: int) -> bytes:
    """One random JSON-ish payload."""
    choice = rng.randrange(9)
    doc: Any
    if choice == 0:
        doc = {"type": "result", "id": request_id, "data": {"n": rng.randrange(100)}}
    elif choice == 1:
        doc = {"type": "error", "id": request_id, "code": "NOT_FOUND", "message": "nope"}
    elif choice == 2:
        doc = {"type": "push", "channel": "subscription", "subscriptionId": "sub-9", "data": []}
    elif choice == 3:
        doc = {"type": "ping", "timestamp": rng.randrange(10**6)}
    elif choice == 4:
        doc = {"type": "error", "id": 0, "code": "PARSE_ERROR", "message": "bad"}
    elif choice == 5:
        doc = {"type": "system", "event": rng.choice(["hello", "shutdown"]), "gracePeriodMs": 5}
    elif choice == 6:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
    elif choice == 7:
        return b'{"type": "result", "id": ' + str(request_id).encode() + b', "data": "\xff"}'
    else:
        doc = {"type": rng.choice(["result", "welcome", "", 3]), "x": "y" * rng.randrange(30)}
    return json.dumps(doc).encode()


def script_for(seed: int, closes: list[tuple[int, str]]) -> Any:
    async def script(peer: Peer) -> None:
        rng = random.Random(seed)
        peer.send(text_frame(WELCOME))
        request = await peer.read_message()
        out: list[bytes] = []
        for _ in range(FRAMES):
            roll = rng.random()
            if roll < 0.75:
                opcode = BINARY if rng.random() < 0.1 else TEXT
                out += fragmented(rng, opcode, message(rng, request["id"]))
            elif roll < 0.82:
                out.append(frame(PING, rng.randbytes(rng.randrange(10))))
            elif roll < 0.88:
                out += fragmented(rng, TEXT, b'"' + b"x" * (LIMIT + rng.randrange(50)) + b'"')
                out.append(AFTER_CLOSING)
            elif roll < 0.93:
                out.append(
                    rng.choice(
                        [
                            frame(TEXT, b"{}", rsv=rng.choice([1, 2, 4])),
                            frame(CONTINUATION, b"{}"),
                            frame(3, b""),  # a reserved opcode
                            frame(PING, b"", fin=False),  # a fragmented control frame
                        ]
                    )
                )
            else:
                out.append(close_frame(rng.choice([1000, 1001, 4000, 4100, 4999]), "bye"))
                out.append(AFTER_CLOSING)
        out.append(close_frame(1000, "end"))
        peer.send(*out)
        await peer.writer.drain()
        closed = await peer.read_close()
        closes.append(closed)
        peer.send(close_frame(*closed))

    return script


async def observe(seed: int, transport: str) -> dict[str, Any]:
    closes: list[tuple[int, str]] = []
    async with raw_server(script_for(seed, closes)) as server:
        options = ClientOptions(
            reconnect=False,
            max_payload_bytes=LIMIT,
            transport=transport,  # type: ignore[arg-type]
            request_timeout_ms=2_000,
            liveness_timeout_ms=0,  # pings arrive ms apart: no timing in the outcome
        )
        client = NoexClient(server.url, options)
        log = EventLog(client)
        await client.connect()
        try:
            outcome: Any = await client.request("x.y")
        except NoexClientError as exc:
            outcome = type(exc).__name__
        await log.wait("disconnected")
        await asyncio.wait_for(server.done.wait(), 5)
    assert server.errors == []
    errors = [(type(e).__name__, str(e)) for (e,) in log.args("error")]
    assert all(isinstance(e, NoexClientError) for (e,) in log.args("error"))
    ((reason,),) = log.args("disconnected")
    ((code, _echo),) = closes
    return {
        "outcome": outcome,
        "errors": errors,
        "shutdown": log.args("shutdown"),
        "client close": code,
        # A close the client started names each library's diagnosis: compare codes.
        "disconnected": code if code in (1002, 1009) else reason,
        "state": client.state,
    }


@pytest.mark.parametrize("seed", range(SEEDS))
async def test_random_frames_get_the_same_answer_from_every_transport(seed: int) -> None:
    pytest.importorskip("picows")
    seen = {transport: await observe(seed, transport) for transport in TRANSPORTS}
    assert seen["picows"] == seen["websockets"]
    assert seen["websockets"]["state"] == "disconnected"
