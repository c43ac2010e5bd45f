"""Store and rules subscriptions on the one internal mechanism."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from noex_client import DisconnectedError, NoexClientError, QueryNotDefinedError
from tests.client.conftest import MakeClient
from tests.client.helpers import EventLog, until
from tests.client.scripted import PeerConnection, ScriptedPeer


async def test_store_subscribe_delivers_initial_data_and_pushes(make_client: MakeClient) -> None:
    client = make_client()
    await client.connect()
    users = client.store.bucket("users")
    await users.insert({"id": "a", "name": "A"})
    seen: list[Any] = []
    unsubscribe = await client.store.subscribe("all-users", seen.append)
    assert [[r["id"] for r in data] for data in seen] == [["a"]]
    await users.insert({"id": "b", "name": "B"})
    await until(lambda: len(seen) == 2)
    assert [r["id"] for r in seen[1]] == ["a", "b"]
    assert unsubscribe() is None  # synchronous


async def test_unsubscribe_is_sync_stops_delivery_and_tells_the_server(
    make_client: MakeClient, peer: ScriptedPeer
) -> None:
    client = make_client()
    await client.connect()
    seen: list[Any] = []
    unsubscribe = await client.store.subscribe("all-users", seen.append)
    unsubscribe()
    unsubscribe()  # idempotent
    await client.store.bucket("users").insert({"id": "x"})
    await until(lambda: any(m["type"] == "store.unsubscribe" for m in peer.log))
    unsub = next(m for m in peer.log if m["type"] == "store.unsubscribe")
    assert unsub["subscriptionId"] == "sub-1"
    assert seen == [[]]
    assert peer.connections[0].subs == {}


async def test_subscribe_params_are_sent_and_none_is_omitted(
    make_client: MakeClient, peer: ScriptedPeer
) -> None:
    client = make_client()
    await client.connect()
    await client.store.subscribe("all-users", lambda _d: None, params={"role": "admin"})
    await client.store.subscribe("all-users", lambda _d: None)
    subs = [m for m in peer.log if m["type"] == "store.subscribe"]
    assert subs[0]["params"] == {"role": "admin"}
    assert "params" not in subs[1]


async def test_unknown_query_raises(make_client: MakeClient) -> None:
    client = make_client()
    await client.connect()
    with pytest.raises(QueryNotDefinedError):
        await client.store.subscribe("nope", lambda _d: None)


async def test_subscribe_while_disconnected_raises(make_client: MakeClient) -> None:
    client = make_client()
    with pytest.raises(DisconnectedError):
        await client.store.subscribe("all-users", lambda _d: None)


async def test_push_that_precedes_the_subscribe_result_is_delivered_after_it(
    make_client: MakeClient, peer: ScriptedPeer
) -> None:
    async def push_first(conn: PeerConnection, m: dict[str, Any]) -> Any:
        conn.subs["sub-9"] = ("store", "all-users")
        await conn.push("sub-9", ["pushed-before-result"])
        return {"subscriptionId": "sub-9", "data": ["initial"]}

    peer.handlers["store.subscribe"] = push_first
    client = make_client()
    await client.connect()
    seen: list[Any] = []
    await client.store.subscribe("all-users", seen.append)
    assert seen == [["initial"], ["pushed-before-result"]]


async def test_pushes_for_unknown_ids_are_dropped(
    make_client: MakeClient, peer: ScriptedPeer
) -> None:
    client = make_client()
    log = EventLog(client)
    await client.connect()
    seen: list[Any] = []
    await client.store.subscribe("all-users", seen.append)
    await peer.connections[0].push("sub-77", ["stranger"])
    await peer.connections[0].push("sub-1", ["mine"])
    await until(lambda: len(seen) == 2)
    assert seen == [[], ["mine"]]
    assert log.args("error") == []


async def test_raising_callback_is_isolated(make_client: MakeClient, peer: ScriptedPeer) -> None:
    client = make_client()
    log = EventLog(client)
    await client.connect()
    calls: list[Any] = []

    def flaky(data: Any) -> None:
        calls.append(data)
        if len(calls) == 2:
            raise RuntimeError("callback bug")

    await client.store.subscribe("all-users", flaky)
    users = client.store.bucket("users")
    await users.insert({"id": "a"})
    (exc,), *_ = await log.wait("error")
    assert isinstance(exc, RuntimeError)
    await users.insert({"id": "b"})
    await until(lambda: len(calls) == 3)
    assert client.is_connected


async def test_callback_raising_on_the_initial_data_cancels_and_reraises(
    make_client: MakeClient, peer: ScriptedPeer
) -> None:
    client = make_client()
    log = EventLog(client)
    await client.connect()

    def broken(_rows: Any) -> None:
        raise LookupError("bad data")

    with pytest.raises(LookupError, match="bad data"):
        await client.store.subscribe("all-users", broken)
    conn = peer.connections[0]
    await until(lambda: conn.subs == {})  # unsubscribed on the server
    assert len(client._subscriptions) == 0
    assert log.args("error") == []  # the caller got it; it is not reported twice


async def test_async_callbacks_are_awaited(make_client: MakeClient) -> None:
    client = make_client()
    await client.connect()
    done = asyncio.Event()

    async def callback(data: Any) -> None:
        if data:
            done.set()

    await client.store.subscribe("all-users", callback)
    await client.store.bucket("users").insert({"id": "a"})
    await asyncio.wait_for(done.wait(), 5)


async def test_rules_subscribe_calls_back_with_event_and_topic(make_client: MakeClient) -> None:
    client = make_client()
    await client.connect()
    seen: list[tuple[Any, str]] = []
    unsubscribe = await client.rules.subscribe(
        "*", lambda event, topic: seen.append((event, topic))
    )
    event = await client.rules.emit("user.created", {"userId": "1"}, correlation_id="c-1")
    await until(lambda: len(seen) == 1)
    assert seen == [(event, "user.created")]
    unsubscribe()


async def test_emit_sends_camel_case_and_omits_none(
    make_client: MakeClient, peer: ScriptedPeer
) -> None:
    client = make_client()
    await client.connect()
    await client.rules.emit("a", {"x": 1}, correlation_id="c", causation_id="d")
    await client.rules.emit("b")
    emits = [m for m in peer.log if m["type"] == "rules.emit"]
    assert emits == [
        {"id": 1, "type": "rules.emit", "topic": "a", "data": {"x": 1}, "correlationId": "c",
         "causationId": "d"},
        {"id": 2, "type": "rules.emit", "topic": "b"},
    ]  # fmt: skip


async def test_store_unsubscribe_by_server_id(make_client: MakeClient, peer: ScriptedPeer) -> None:
    client = make_client()
    await client.connect()
    seen: list[Any] = []
    await client.store.subscribe("all-users", seen.append)
    await client.store.unsubscribe("sub-1")
    await until(lambda: peer.connections[0].subs == {})
    with pytest.raises(NoexClientError) as caught:
        await client.store.unsubscribe("sub-404")
    assert caught.value.code == "NOT_FOUND"
