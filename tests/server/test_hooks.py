"""Fault hooks of LocalServer: drop, refuse, restart, pings, revoke, shutdown, delay."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from noex_client.testing import LocalServer
from tests.server.conftest import USERS, Client, ClientFactory

AUTH = {"sessions": {"admin": {"userId": "admin-1", "roles": ["admin"]},
                     "reader": {"userId": "reader-1", "roles": ["reader"]}}}  # fmt: skip


async def _closed(client: Client) -> tuple[int | None, str | None]:
    await client.ws.wait_closed()
    return client.ws.close_code, client.ws.close_reason


async def test_drop_connections_gives_1006(
    server: LocalServer, client_factory: ClientFactory
) -> None:
    client = await client_factory(server)
    await server.wait_for_connections(1)
    assert server.drop_connections() == 1
    code, _ = await _closed(client)
    assert code == 1006
    await server.wait_for_connections(0, exact=True)


async def test_refuse_connections_rejects_handshakes(server: LocalServer) -> None:
    server.refuse_connections(True)
    with pytest.raises(InvalidStatus) as info:
        await connect(server.url)
    assert info.value.response.status_code == 503
    server.refuse_connections(False)
    ws = await connect(server.url)
    assert json.loads(await ws.recv())["type"] == "welcome"
    await ws.close()


async def test_restart_loses_state_and_restarts_subscription_ids(
    server: LocalServer, client_factory: ClientFactory
) -> None:
    client = await client_factory(server)
    await client.ok("store.insert", bucket="users", data={"name": "a"})
    assert (await client.ok("store.subscribe", query="all-users"))["subscriptionId"] == "sub-1"
    port = server.port
    await server.restart()
    assert await _closed(client) == (1000, "server_shutdown")
    assert server.port == port
    again = await client_factory(server)
    assert await again.ok("store.all", bucket="users") == []
    assert (await again.ok("store.subscribe", query="all-users"))["subscriptionId"] == "sub-1"


async def test_restart_can_keep_data(server: LocalServer, client_factory: ClientFactory) -> None:
    client = await client_factory(server)
    await client.ok("store.insert", bucket="users", data={"name": "kept"})
    await server.restart(keep_data=True)
    again = await client_factory(server)
    assert [r["name"] for r in await again.ok("store.all", bucket="users")] == ["kept"]
    sub = await again.ok("store.subscribe", query="all-users")
    assert sub["subscriptionId"] == "sub-1"
    await again.ok("store.insert", bucket="users", data={"name": "new"})
    push = await again.recv()
    assert push["subscriptionId"] == "sub-1"
    assert [r["name"] for r in push["data"]] == ["kept", "new"]


async def test_paused_pings_keep_a_silent_client(client_factory: ClientFactory) -> None:
    async with LocalServer(heartbeat_interval_ms=20) as srv:
        srv.pause_pings()
        client = await client_factory(srv)
        for _ in range(5):  # several intervals pass while requests are answered
            await client.ok("store.buckets")
        await srv.wait_until(lambda s: s.request_count >= 5)
        srv.resume_pings()
        frame = json.loads(await client.ws.recv())
        assert frame["type"] == "ping"
        assert await _closed(client) == (4001, "heartbeat_timeout")


async def test_revoke_sessions_by_user(client_factory: ClientFactory) -> None:
    async with LocalServer(buckets=[USERS], auth=AUTH) as srv:
        admin, reader = await client_factory(srv), await client_factory(srv)
        await admin.ok("auth.login", token="admin")
        await reader.ok("auth.login", token="reader")
        assert srv.revoke_sessions(user_id="admin-1") == 1
        assert await admin.recv() == {
            "type": "system",
            "event": "session_revoked",
            "reason": "Session revoked by administrator",
        }
        assert await _closed(admin) == (4002, "session_revoked")
        assert await reader.ok("store.all", bucket="users") == []
        again = await client_factory(srv)
        error = await again.error("auth.login", token="admin")
        assert (error["code"], error["message"]) == ("SESSION_REVOKED", "Session has been revoked")


async def test_revoke_sessions_by_role(client_factory: ClientFactory) -> None:
    async with LocalServer(auth=AUTH) as srv:
        admin, reader = await client_factory(srv), await client_factory(srv)
        await admin.ok("auth.login", token="admin")
        await reader.ok("auth.login", token="reader")
        assert srv.revoke_sessions(role="reader") == 1
        assert (await reader.recv())["event"] == "session_revoked"
        assert await admin.ok("auth.whoami") == {
            "authenticated": True,
            "userId": "admin-1",
            "roles": ["admin"],
            "expiresAt": None,
        }


async def test_shutdown_with_grace_serves_until_clients_leave(
    client_factory: ClientFactory,
) -> None:
    srv = LocalServer()
    await srv.start()
    client = await client_factory(srv)
    stopping = asyncio.create_task(srv.shutdown(60_000))
    assert await client.recv() == {"type": "system", "event": "shutdown", "gracePeriodMs": 60_000}
    assert await client.ok("store.buckets") == {"count": 0, "names": []}
    await client.ws.close()
    await stopping  # finishes early: the only client left
    assert not srv.running


async def test_response_delay_keeps_order(
    server: LocalServer, client_factory: ClientFactory
) -> None:
    client = await client_factory(server)
    server.set_response_delay(5)
    for i in range(3):
        await client.ws.send(json.dumps({"id": i + 1, "type": "store.count", "bucket": "users"}))
    assert [(await client.recv())["id"] for _ in range(3)] == [1, 2, 3]
    server.set_response_delay(0)


async def test_counters_and_connection_waits(
    server: LocalServer, client_factory: ClientFactory
) -> None:
    a = await client_factory(server)
    b = await client_factory(server)
    await server.wait_for_connections(2)
    assert server.connection_count == 2
    await a.ok("store.subscribe", query="all-users")
    await b.ok("store.insert", bucket="users", data={"name": "x"})
    await server.wait_until(lambda s: s.push_count == 1)
    assert (await a.recv())["type"] == "push"


async def test_server_side_insert_and_emit_push(
    server: LocalServer, client_factory: ClientFactory
) -> None:
    client = await client_factory(server)
    await client.ok("store.subscribe", query="all-users")
    rules = await client.ok("rules.subscribe", pattern="alerts.*")
    record = server.insert("users", {"name": "seeded"})
    push = await client.recv()
    assert push["data"] == [record]
    event = server.emit("alerts.fire", {"level": 2})
    assert await client.recv() == {
        "type": "push",
        "channel": "event",
        "subscriptionId": rules["subscriptionId"],
        "data": {"topic": "alerts.fire", "event": event},
    }
    assert [r["name"] for r in server.store.bucket("users").records()] == ["seeded"]


async def test_push_before_subscribe_result(
    server: LocalServer, client_factory: ClientFactory
) -> None:
    client = await client_factory(server)
    server.push_before_subscribe_result()
    await client.ws.send(json.dumps({"id": 1, "type": "store.subscribe", "query": "all-users"}))
    push, result = await client.recv(), await client.recv()
    assert push == {
        "type": "push",
        "channel": "subscription",
        "subscriptionId": "sub-1",
        "data": [],
    }
    assert result == {"id": 1, "type": "result", "data": {"subscriptionId": "sub-1", "data": []}}
