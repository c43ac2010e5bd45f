"""The client's documented methods against ``LocalServer``, for every recorded identity
and audit request.

``test_api_conformance`` proves the client turns every recorded response into
its documented result (against a server replaying the recordings); the
transcript replays prove ``LocalServer`` answers every recorded frame like the
real server. Here both meet: each recorded connection is driven through the
client's methods against a ``LocalServer`` started with the recorded config,
and every result (or error) must be what the method returns for the
recorded response. Generated ids, tokens and clocks are matched as in the
frame replays.
"""

from __future__ import annotations

from typing import Any

import pytest

from noex_client import ClientOptions, NoexClient, NoexClientError
from noex_client._errors import error_from_server
from noex_client.testing import LocalServer
from tests.client.api_calls import call_for
from tests.client.test_api_conformance import raw_call
from tests.server.replay import Ids, Segment, compare, split_segments
from tests.transcripts import Line, load

OPTIONS = ClientOptions(reconnect=False, request_timeout_ms=5_000, connect_timeout_ms=5_000)


def _answer(segment: Segment, send: Line) -> dict[str, Any] | None:
    after = False
    for line in segment.lines:
        if line is send:
            after = True
        elif after and line.dir == "recv" and line.conn == send.conn:
            frame = line.frame
            if frame.get("type") in ("result", "error") and frame.get("id") == send.frame["id"]:
                return dict(frame)
    return None


async def _check(client: NoexClient, line: Line, answer: dict[str, Any], ids: Ids) -> None:
    where = f"#{line.seq} {line.frame['type']}"
    frame = ids.rewrite(line.frame)
    call = call_for(line.frame) or raw_call(frame)
    if answer["type"] == "error":
        with pytest.raises(NoexClientError) as info:
            await call.invoke(client, frame)
        expected = error_from_server(answer["code"], answer["message"], answer.get("details"))
        assert type(info.value) is type(expected), where
        assert (info.value.code, info.value.message) == (expected.code, expected.message), where
        compare(expected.details, info.value.details, ids, where + ".details")
    else:
        result = await call.invoke(client, frame)
        compare(call.expect(answer.get("data")), result, ids, where)


async def _drive(segment: Segment) -> int:
    ids = Ids()
    clients: dict[str, NoexClient] = {}
    checked = 0
    async with LocalServer.from_config(segment.config) as server:
        try:
            for line in segment.lines:
                conn = line.conn or "A"
                if line.dir == "close" and line.raw["initiator"] == "client" and conn in clients:
                    await clients.pop(conn).disconnect()
                if line.dir != "send" or "frame" not in line.raw or "raw" in line.raw:
                    continue
                answer = _answer(segment, line)
                if answer is None:
                    continue
                if conn not in clients:
                    clients[conn] = NoexClient(server.url, OPTIONS)
                    await clients[conn].connect()
                await _check(clients[conn], line, answer, ids)
                checked += 1
        finally:
            for client in clients.values():
                await client.disconnect()
    return checked


@pytest.mark.parametrize("name", ["identity", "audit"])
async def test_recorded_requests_through_the_client_against_local_server(name: str) -> None:
    checked = sum([await _drive(segment) for segment in split_segments(load(name))])
    sends = [line for line in load(name).of("send") if "frame" in line.raw]
    assert checked == len(sends)
