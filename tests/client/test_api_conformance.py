"""Acceptance: every documented method against every recorded real-server exchange.

For every ``send`` frame of every transcript that a documented client method
can produce, the method is called (arguments taken from the frame) on a
client connected to the :class:`ReplayServer`. The replay server only answers
when the client sent exactly the recorded frame (ignoring ``id``), and the
method must turn the recorded response into its documented Python result, or
raise the error class registered for the recorded code with its message and
details. Recorded requests no method sends (deliberately invalid ones, unknown
operations) go through ``client.request`` so that their responses are
decoded too.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from noex_client import ClientOptions, NoexClient, NoexClientError
from noex_client._errors import error_from_server
from tests.client.api_calls import CALLS, ApiCall, call_for
from tests.client.helpers import until
from tests.client.replay_server import ReplayServer
from tests.transcripts import Line, load, transcript_names

OPTIONS = ClientOptions(reconnect=False, request_timeout_ms=5_000, connect_timeout_ms=5_000)

#: Recorded requests no documented method sends: deliberately malformed frames
#: (a required field missing or null), unknown operations and protocol probes.
NOT_A_METHOD = {
    "admin_store": {"store.defineBucket"},
    "auth": {"auth.login"},
    "connection": {"ping", "server.nope"},
    "errors": {
        "",
        "None",
        "foo.bar",
        "nonamespace",
        "pong",
        "store.get",
        "store.insert",
        "store.nope",
    },
    "heartbeat": {"pong"},
    "identity": {"identity.nope"},
    "procedures": {"procedures.register"},
    "rules": {"rules.setFact"},
}


def raw_call(frame: dict[str, Any]) -> ApiCall:
    """``client.request(type, payload)`` (the published form) for a recorded frame no
    method sends."""
    payload = {k: v for k, v in frame.items() if k not in ("id", "type")}
    return ApiCall(frame["type"], "client.request", frozenset(), frozenset(),
                   lambda c, f: c.request(f["type"], payload))  # fmt: skip


def raw_requestable(frame: Any, answer: Any) -> bool:
    """A well-formed request frame (possibly a deliberately invalid one) with an answer."""
    return (
        isinstance(frame, dict)
        and isinstance(frame.get("type"), str)
        and type(frame.get("id")) is int
        and frame["id"] > 0
        and all(v is not None for v in frame.values())
        and answer is not None
        and answer.get("id") == frame["id"]
    )


async def check_call(client: NoexClient, call: ApiCall, frame: dict[str, Any], answer: Any) -> None:
    """Call the method for ``frame`` and compare with the recorded ``answer``."""
    if answer["type"] == "error":
        with pytest.raises(NoexClientError) as info:
            await call.invoke(client, frame)
        exc = info.value
        expected = error_from_server(answer["code"], answer["message"], answer.get("details"))
        assert type(exc) is type(expected), (frame, answer)
        assert (exc.code, exc.message, exc.details) == (
            expected.code,
            expected.message,
            expected.details,
        )
    else:
        result = await call.invoke(client, frame)
        assert result == call.expect(answer.get("data")), (frame, answer)


@pytest.mark.parametrize("name", transcript_names())
async def test_every_recorded_request_is_produced_and_its_response_decoded(name: str) -> None:
    transcript = load(name)
    checked = 0
    async with ReplayServer(transcript) as server:
        for line in transcript.of("send"):
            call = call_for(line.frame)
            answer = server.answer(line)
            if call is None and raw_requestable(line.frame, answer):
                call = raw_call(line.frame)  # no method sends it: the one request path does
            if call is None or answer is None:
                continue
            client = NoexClient(server.url(line.conn or "A", line.seq), OPTIONS)
            await client.connect()
            try:
                await check_call(client, call, line.frame, answer)
            finally:
                await client.disconnect()
            assert server.matched[-1] == line.seq, line.frame
            checked += 1
        assert server.mismatches == []
    assert checked > 0


@pytest.mark.parametrize("name", transcript_names())
def test_every_recorded_documented_op_is_producible(name: str) -> None:
    unproducible = Counter(
        str(line.frame.get("type") if isinstance(line.frame, dict) else None)
        for line in load(name).of("send")
        if "frame" in line.raw and "raw" not in line.raw and call_for(line.frame) is None
    )
    assert set(unproducible) == NOT_A_METHOD.get(name, set())


def test_every_method_is_exercised_by_a_transcript() -> None:
    seen = {
        line.frame["type"]
        for name in transcript_names()
        for line in load(name).of("send")
        if call_for(line.frame) is not None
    }
    assert set(CALLS) - seen == set()


# -- whole connections, in order: identity, audit, procedures, rules, subscriptions --------


async def _subscribe(
    client: NoexClient, frame: dict[str, Any], delivered: list[tuple[str, Any]]
) -> Any:
    if frame["type"] == "rules.subscribe":
        await client.rules.subscribe(
            frame["pattern"],
            lambda event, topic: delivered.append(("event", {"topic": topic, "event": event})),
        )
        return None
    initial: list[Any] = []

    def on_data(data: Any) -> None:
        if initial:
            delivered.append(("subscription", data))
        else:
            initial.append(data)

    await client.store.subscribe(frame["query"], on_data, frame.get("params"))
    return initial[0]


@pytest.mark.parametrize(
    "name",
    ["identity", "audit", "procedures", "rules", "subscriptions", "admin_store", "transactions"],
)
async def test_recorded_connection_replays_in_order(name: str) -> None:
    """The client drives connection A exactly as recorded and sees every recorded push."""
    transcript = load(name)
    delivered: list[tuple[str, Any]] = []
    expected_pushes: list[tuple[str, Any]] = []
    used: list[Line] = []
    async with ReplayServer(transcript) as server:
        client = NoexClient(server.url("A"), OPTIONS)
        await client.connect()
        try:
            for line in transcript.of("send"):
                call = call_for(line.frame)
                answer = server.answer(line)
                if line.conn != "A" or call is None or answer is None:
                    continue
                if not client.is_connected:
                    break
                used.append(line)
                if call.op in ("store.subscribe", "rules.subscribe") and answer["type"] == "result":
                    initial = await _subscribe(client, line.frame, delivered)
                    assert initial == call.expect(answer.get("data"))
                else:
                    await check_call(client, call, line.frame, answer)
                expected_pushes += [(p["channel"], p["data"]) for p in server.pushes_after(line)]
            await until(lambda: len(delivered) >= len(expected_pushes))
        finally:
            await client.disconnect()
        assert server.mismatches == []
        assert sorted(server.matched) == sorted({line.seq for line in used} | set(server.matched))
    assert delivered == expected_pushes
    assert len(used) > 3
