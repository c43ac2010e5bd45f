"""``NoexClient`` itself as code written for the published client uses it, against
LocalServer: connect/disconnect, state, the positional ``request(type, payload)``,
the errors, and the lifecycle events around a drop (checked against the
published client run as a black box against the same server)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from noex_client import (
    ClientOptions,
    DisconnectedError,
    NoexClient,
    NoexClientError,
    ReconnectOptions,
    RequestTimeoutError,
    WelcomeInfo,
)
from tests.client.helpers import EventLog, until
from tests.compat.servers import FAST, local

EVENTS = ("connected", "disconnected", "reconnecting", "reconnected", "error", "welcome")


def record(client: NoexClient) -> list[tuple[str, tuple[Any, ...], str]]:
    """Every lifecycle event as ``(name, args, state when it fired)``."""
    seen: list[tuple[str, tuple[Any, ...], str]] = []
    for name in EVENTS:
        client.on(name, lambda *args, n=name: seen.append((n, args, client.state)))
    return seen


async def test_connect_state_request_and_disconnect() -> None:
    async with local(connect=False) as (server, client):
        assert (client.url, client.state, client.is_connected) == (
            server.url,
            "disconnected",
            False,
        )
        with pytest.raises(DisconnectedError) as info:
            await client.request("store.all", {"bucket": "users"})
        assert info.value.code == "DISCONNECTED"
        assert str(info.value) == "Cannot send request — client is disconnected"
        seen = record(client)
        welcome = await client.connect()
        assert isinstance(welcome, WelcomeInfo)
        assert (welcome.version, welcome.requires_auth) == ("1.0.0", False)
        assert (client.state, client.is_connected) == ("connected", True)
        assert [name for name, _args, _state in seen] == ["connected", "welcome"]

        record_ = await client.request("store.insert", {"bucket": "users", "data": {"name": "A"}})
        assert record_["name"] == "A"
        assert await client.request("store.count", {"bucket": "users"}) == 1
        assert await client.request("store.buckets") == {"count": 1, "names": ["users"]}
        with pytest.raises(NoexClientError) as error:
            await client.request("store.all")
        assert error.value.code == "VALIDATION_ERROR"
        assert str(error.value) == 'Missing or invalid "bucket": expected non-empty string'

        await client.disconnect()
        assert (client.state, client.is_connected) == ("disconnected", False)
        await client.disconnect()  # idempotent


async def test_connecting_where_nothing_listens_raises_a_connection_error() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = NoexClient(f"ws://127.0.0.1:{port}/")
    with pytest.raises(NoexClientError) as info:
        await client.connect()
    assert isinstance(info.value, ConnectionRefusedError)  # as the published client raises
    assert info.value.code == "CONNECT_FAILED"
    assert client.state == "disconnected"


async def test_async_with() -> None:
    async with local(connect=False) as (server, _unused):
        async with NoexClient(server.url) as client:
            assert client.is_connected
            assert await client.store.bucket("users").all() == []
        assert client.state == "disconnected"


async def test_a_drop_emits_no_disconnected_while_a_reconnect_is_coming() -> None:
    async with local(ClientOptions(reconnect=FAST), connect=False) as (server, client):
        seen = record(client)
        await client.connect()
        rows: list[Any] = []
        await client.store.subscribe("all-users", rows.append)
        server.drop_connections()
        await until(lambda: any(name == "welcome" for name, _a, _s in seen[2:]))
        assert [(name, state) for name, _args, state in seen] == [
            ("connected", "connected"),
            ("welcome", "connected"),
            ("reconnecting", "reconnecting"),
            ("connected", "connected"),
            ("reconnected", "connected"),
            ("welcome", "connected"),
        ]
        assert seen[2][1] == (1,)
        assert rows == [[], []]  # fresh data after the reconnect


async def test_giving_up_emits_disconnected_then_error_with_the_same_message() -> None:
    reconnect = ReconnectOptions(max_retries=2, initial_delay_ms=5, max_delay_ms=10, jitter_ms=0)
    async with local(ClientOptions(reconnect=reconnect), connect=False) as (server, client):
        seen = record(client)
        await client.connect()
        await server.stop()
        await until(lambda: any(name == "error" for name, _a, _s in seen))
        assert [(name, args) for name, args, _state in seen[2:4]] == [
            ("reconnecting", (1,)),
            ("reconnecting", (2,)),
        ]
        (_, (reason,), state), (_, (error,), error_state) = seen[4:]
        assert (reason, state, error_state) == (
            "Max reconnect attempts reached",
            *2 * ["disconnected"],
        )
        assert isinstance(error, Exception)
        assert str(error) == "Max reconnect attempts reached"
        assert client.state == "disconnected"
        await server.start()  # the fixture stops it again


async def test_without_reconnect_a_drop_ends_disconnected() -> None:
    async with local(ClientOptions(reconnect=False), connect=False) as (server, client):
        seen = record(client)
        await client.connect()
        server.drop_connections()
        # The state turns at once; the event follows from the connection's supervisor.
        await until(lambda: any(name == "disconnected" for name, _, _ in seen))
        assert [(name, args, state) for name, args, state in seen[2:]] == [
            ("disconnected", ("",), "disconnected")  # the close reason: none was sent
        ]


async def test_a_slow_request_times_out() -> None:
    async with local(ClientOptions(request_timeout_ms=100)) as (server, client):
        server.set_response_delay(300)
        with pytest.raises(RequestTimeoutError) as late:
            await client.store.bucket("users").all()
        assert late.value.code == "TIMEOUT"
        assert isinstance(late.value, NoexClientError)
        assert str(late.value) == "Request store.all (id=1) timed out after 100ms"


async def test_a_pending_request_fails_at_a_drop() -> None:
    async with local(ClientOptions(request_timeout_ms=5_000, reconnect=FAST)) as (server, client):
        server.set_response_delay(300)
        pending = asyncio.ensure_future(client.store.bucket("users").count())
        conn = client._link.conn
        assert conn is not None
        await until(lambda: conn.session.pending_count == 1)
        server.drop_connections()
        with pytest.raises(DisconnectedError) as lost:
            await pending
        assert (lost.value.code, str(lost.value)) == ("DISCONNECTED", "Connection lost")


async def test_session_revocation() -> None:
    auth = {"sessions": {"admin-token": {"userId": "admin-1", "roles": ["admin"]}}}
    async with local(ClientOptions(reconnect=FAST), auth=auth) as (server, client):
        log = EventLog(client)
        reasons: list[Any] = []
        client.on("session_revoked", lambda *args: reasons.append(args))
        await client.auth.login("admin-token")
        server.revoke_sessions(user_id="admin-1")
        await log.wait("disconnected")
        assert reasons == [("Session revoked by administrator",)]
        assert log.args("disconnected") == [("session_revoked",)]
        assert "reconnecting" not in log.names()
        assert client.state == "disconnected"
