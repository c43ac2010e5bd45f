"""NoexClient against the scripted in-memory peer: connect, requests, errors, events."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from noex_client import (
    AuthOptions,
    BackpressureError,
    BucketNotDefinedError,
    ClientOptions,
    ConnectError,
    ConnectTimeoutError,
    CredentialOptions,
    DisconnectedError,
    NoexClient,
    NoexClientError,
    RequestInfo,
    RequestTimeoutError,
    UnauthorizedError,
    WelcomeInfo,
)
from tests.client.conftest import MakeClient
from tests.client.helpers import EventLog, until
from tests.client.scripted import PASSWORD, TOKEN, PeerConnection, ScriptedPeer, no_reply


def state(client: NoexClient) -> str:
    return client.state


async def test_connect_returns_welcome_and_emits_events(make_client: MakeClient) -> None:
    client = make_client()
    log = EventLog(client)
    assert state(client) == "disconnected"
    welcome = await client.connect()
    assert welcome == WelcomeInfo(version="1.0.0", server_time=1, requires_auth=False)
    assert state(client) == "connected"
    assert client.is_connected
    assert log.names() == ["connected", "welcome"]  # the published client's order
    assert await client.connect() is welcome  # idempotent while connected
    await client.disconnect()
    assert client.state == "disconnected"
    assert log.args("disconnected") == [("client_disconnect",)]


async def test_async_with_connects_and_disconnects(peer: ScriptedPeer) -> None:
    async with NoexClient("ws://x/", connector=peer.connector) as client:
        assert client.is_connected
        assert await client.store.bucket("users").all() == []
    assert client.state == "disconnected"
    await until(lambda: not peer.live)


async def test_crud_roundtrip_through_bucket_api(make_client: MakeClient) -> None:
    client = make_client()
    await client.connect()
    users = client.store.bucket("users")
    alice = await users.insert({"name": "Alice"})
    assert alice["name"] == "Alice"
    assert await users.get(alice["id"]) == alice
    updated = await users.update(alice["id"], {"age": 3})
    assert updated["_version"] == 2
    assert await users.where({"age": 3}) == [updated]
    assert await users.find_one({"name": "nobody"}) is None
    assert await users.count() == 1
    await users.delete(alice["id"])
    assert await users.get(alice["id"]) is None


async def test_none_fields_never_reach_the_wire(
    make_client: MakeClient, peer: ScriptedPeer
) -> None:
    client = make_client()
    await client.connect()
    await client.store.bucket("users").count()
    await client.request("store.count", bucket="users", filter=None)
    sent = [m for m in peer.log if m["type"] == "store.count"]
    assert sent == [
        {"id": 1, "type": "store.count", "bucket": "users"},
        {"id": 2, "type": "store.count", "bucket": "users"},
    ]


async def test_the_published_payload_form_sends_the_dict_as_it_is(
    make_client: MakeClient, peer: ScriptedPeer
) -> None:
    client = make_client()
    await client.connect()
    assert await client.request("store.count", {"bucket": "users", "filter": None}) == 0
    assert await client.request("store.count", {"bucket": "users"}, filter={}) == 0
    sent = [m for m in peer.log if m["type"] == "store.count"]
    assert sent == [
        {"id": 1, "type": "store.count", "bucket": "users", "filter": None},
        {"id": 2, "type": "store.count", "bucket": "users", "filter": {}},
    ]
    with pytest.raises(TypeError, match="payload must be a dict"):
        await client.request("store.count", ["bucket", "users"])  # type: ignore[arg-type]


async def test_server_errors_raise_their_subclass(make_client: MakeClient) -> None:
    client = make_client()
    await client.connect()
    with pytest.raises(BucketNotDefinedError) as caught:
        await client.store.bucket("ghosts").all()
    assert caught.value.code == "BUCKET_NOT_DEFINED"
    assert caught.value.message == 'Bucket "ghosts" is not defined'
    with pytest.raises(NoexClientError) as unknown:
        await client.request("store.nope")
    assert unknown.value.code == "UNKNOWN_OPERATION"


async def test_error_with_id_zero_goes_to_the_error_event(
    make_client: MakeClient, peer: ScriptedPeer
) -> None:
    client = make_client()
    log = EventLog(client)
    await client.connect()
    conn = peer.connections[0]
    await conn.send(type="error", id=0, code="PARSE_ERROR", message="Invalid JSON")
    (exc,), *_ = await log.wait("error")
    assert isinstance(exc, NoexClientError)
    assert exc.code == "PARSE_ERROR"
    assert await client.store.bucket("users").all() == []  # requests are unaffected


async def test_garbage_frame_is_reported_and_the_connection_survives(
    make_client: MakeClient, peer: ScriptedPeer
) -> None:
    client = make_client()
    log = EventLog(client)
    await client.connect()
    await peer.connections[0].transport.send('{"type": "mystery"}')
    (exc,), *_ = await log.wait("error")
    assert isinstance(exc, NoexClientError)
    assert exc.code == "PROTOCOL_ERROR"
    assert client.is_connected
    assert await client.store.bucket("users").count() == 0


async def test_request_timeout_is_typed(make_client: MakeClient, peer: ScriptedPeer) -> None:
    async def silent(conn: PeerConnection, m: dict[str, Any]) -> Any:
        return no_reply()

    peer.handlers["store.all"] = silent
    client = make_client(request_timeout_ms=30)
    await client.connect()
    with pytest.raises(RequestTimeoutError) as caught:
        await client.store.bucket("users").all()
    assert isinstance(caught.value, TimeoutError)
    assert caught.value.code == "TIMEOUT"
    assert await client.store.bucket("users").count() == 0  # the late slot is cleaned up


async def test_requests_while_disconnected_raise(make_client: MakeClient) -> None:
    client = make_client()
    with pytest.raises(DisconnectedError) as caught:
        await client.store.bucket("users").all()
    assert caught.value.code == "DISCONNECTED"
    assert str(caught.value) == "Cannot send request — client is disconnected"


async def test_pending_requests_are_rejected_when_the_connection_drops(
    make_client: MakeClient, peer: ScriptedPeer
) -> None:
    arrived = asyncio.Event()

    async def hang(conn: PeerConnection, m: dict[str, Any]) -> Any:
        arrived.set()
        return no_reply()

    peer.handlers["store.insert"] = hang
    client = make_client(reconnect=False)
    await client.connect()
    pending = asyncio.ensure_future(client.store.bucket("users").insert({"n": 1}))
    await arrived.wait()
    peer.connections[0].transport.abort()
    with pytest.raises(DisconnectedError):
        await pending
    await until(lambda: client.state == "disconnected")
    assert [m["type"] for m in peer.log].count("store.insert") == 1


async def test_connect_times_out_without_welcome(
    make_client: MakeClient, peer: ScriptedPeer
) -> None:
    peer.send_welcome = False
    client = make_client(connect_timeout_ms=30)
    with pytest.raises(ConnectTimeoutError) as caught:
        await client.connect()
    assert isinstance(caught.value, TimeoutError)
    assert client.state == "disconnected"
    await until(lambda: peer.connections[0].closed.is_set())


async def test_connect_refused_is_a_typed_error(
    make_client: MakeClient, peer: ScriptedPeer
) -> None:
    peer.refuse_with = (4003, "too_many_connections")
    client = make_client()
    with pytest.raises(ConnectError) as caught:
        await client.connect()
    assert caught.value.details == {"closeCode": 4003, "reason": "too_many_connections"}
    assert not isinstance(caught.value, ConnectionRefusedError)
    assert client.state == "disconnected"
    peer.refuse_tcp = True
    with pytest.raises(ConnectionRefusedError) as refused:
        await client.connect()
    assert isinstance(refused.value, ConnectError)
    assert client.state == "disconnected"


async def test_auto_login_with_token(make_client: MakeClient, peer: ScriptedPeer) -> None:
    peer.requires_auth = True
    client = make_client(auth=AuthOptions(token=TOKEN))
    await client.connect()
    assert peer.log[0] == {"id": 1, "type": "auth.login", "token": TOKEN}
    assert await client.store.bucket("users").all() == []


async def test_auto_login_with_credentials(make_client: MakeClient, peer: ScriptedPeer) -> None:
    peer.requires_auth = True
    client = make_client(auth=AuthOptions(credentials=CredentialOptions("alice", PASSWORD)))
    await client.connect()
    assert peer.log[0] == {
        "id": 1,
        "type": "identity.login",
        "username": "alice",
        "password": PASSWORD,
    }


async def test_no_login_when_the_server_does_not_require_it(
    make_client: MakeClient, peer: ScriptedPeer
) -> None:
    client = make_client(auth=AuthOptions(token=TOKEN))
    await client.connect()
    assert peer.log == []


async def test_rejected_login_fails_connect_and_closes(
    make_client: MakeClient, peer: ScriptedPeer, caplog: pytest.LogCaptureFixture
) -> None:
    peer.requires_auth = True
    client = make_client(auth=AuthOptions(token="tok-WRONG-SECRET"))
    caplog.set_level(logging.DEBUG, logger="noex_client")
    with pytest.raises(UnauthorizedError) as caught:
        await client.connect()
    assert "SECRET" not in str(caught.value)
    assert client.state == "disconnected"
    await until(lambda: peer.connections[0].closed.is_set())
    assert "SECRET" not in caplog.text


async def test_heartbeat_pong_echoes_ping(make_client: MakeClient, peer: ScriptedPeer) -> None:
    client = make_client()
    await client.connect()
    conn = peer.connections[0]
    await conn.send(type="ping", timestamp=1795407390824)
    await until(lambda: conn.pongs == [1795407390824])


async def test_heartbeat_off_sends_no_pong(make_client: MakeClient, peer: ScriptedPeer) -> None:
    client = make_client(heartbeat=False)
    await client.connect()
    conn = peer.connections[0]
    await conn.send(type="ping", timestamp=5)
    assert await client.store.bucket("users").count() == 0  # the ping was processed before
    assert conn.pongs == []


async def test_request_event_reports_and_masks_secrets(
    make_client: MakeClient, peer: ScriptedPeer
) -> None:
    peer.requires_auth = True
    client = make_client(auth=AuthOptions(token=TOKEN))
    infos: list[RequestInfo] = []
    client.on("request", infos.append)
    await client.connect()
    with pytest.raises(BucketNotDefinedError):
        await client.store.bucket("nope").all()
    assert [(i.op, i.outcome) for i in infos] == [
        ("auth.login", "ok"),
        ("store.all", "BUCKET_NOT_DEFINED"),
    ]
    assert infos[0].fields == {"token": "***"}
    assert all(i.duration_ms >= 0 for i in infos)


async def test_shutdown_notice_is_an_event(make_client: MakeClient, peer: ScriptedPeer) -> None:
    client = make_client()
    log = EventLog(client)
    await client.connect()
    await peer.connections[0].send(type="system", event="shutdown", gracePeriodMs=1500)
    assert await log.wait("shutdown") == [(1500,)]
    assert await client.store.bucket("users").count() == 0  # still served while draining


async def test_pending_limit_raises_backpressure(
    make_client: MakeClient, peer: ScriptedPeer
) -> None:
    async def silent(conn: PeerConnection, m: dict[str, Any]) -> Any:
        return no_reply()

    peer.handlers["store.all"] = silent
    client = make_client(max_pending_requests=2, request_timeout_ms=200)
    await client.connect()
    users = client.store.bucket("users")
    waiting = [asyncio.ensure_future(users.all()) for _ in range(2)]
    await until(lambda: len(peer.log) == 2)
    with pytest.raises(BackpressureError):
        await users.all()
    for task in waiting:
        with pytest.raises(RequestTimeoutError):
            await task


async def test_event_handler_errors_are_isolated(make_client: MakeClient) -> None:
    client = make_client()

    def broken() -> None:
        raise RuntimeError("handler bug")

    seen: list[str] = []
    client.on("connected", broken)
    client.on("connected", lambda: seen.append("second"))
    await client.connect()
    assert seen == ["second"]
    assert client.is_connected


async def test_unknown_event_name_is_accepted_and_logged(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client()
    off = client.on("bogus", lambda: None)  # the published client accepts any name
    off()
    assert "no event named 'bogus'" in caplog.text
    with pytest.raises(TypeError, match="callable"):
        client.on("connected", "not a function")  # type: ignore[call-overload]


async def test_handlers_get_as_many_arguments_as_they_take(make_client: MakeClient) -> None:
    client = make_client()
    seen: list[tuple[object, ...]] = []
    client.on("session_revoked", lambda: seen.append(()))
    client.on("session_revoked", lambda reason: seen.append((reason,)))
    client.on("session_revoked", lambda *args: seen.append(args))
    client._events.emit("session_revoked", "why")
    assert seen == [(), ("why",), ("why",)]


async def test_unsubscribe_from_events(make_client: MakeClient) -> None:
    client = make_client()
    seen: list[str] = []
    off = client.on("connected", lambda: seen.append("c"))
    off()
    off()
    await client.connect()
    assert seen == []


def test_invalid_url_is_rejected_without_leaking_credentials() -> None:
    with pytest.raises(ValueError, match="ws://") as caught:
        NoexClient("http://user:SECRET@host/")
    assert "SECRET" not in str(caught.value)
    client = NoexClient("ws://user:SECRET@host:1/", ClientOptions())
    assert "SECRET" not in repr(client)
