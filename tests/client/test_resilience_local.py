"""Resilience end to end against the in-process LocalServer and its fault hooks."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from noex_client import (
    AuthOptions,
    ClientOptions,
    DisconnectedError,
    NoexClient,
    ReconnectOptions,
    ReconnectPolicy,
    RequestTimeoutError,
)
from noex_client.testing import LocalServer
from tests.client.helpers import EventLog, until

TOKEN = "tok-SECRET-local"
USERS = {"name": "users", "schema": {"id": {"type": "string", "generated": "uuid"}}}
ORDERS = {"name": "orders", "schema": {"id": {"type": "string", "generated": "uuid"}}}
QUERIES: dict[str, Any] = {
    "all-users": {"type": "all", "bucket": "users"},
    "all-orders": {"type": "all", "bucket": "orders"},
}
AUTH = {"sessions": {TOKEN: {"userId": "u-1", "roles": ["admin"]}}}
FAST = ReconnectOptions(initial_delay_ms=1, max_delay_ms=20, jitter_ms=1)


def pending_requests(client: NoexClient) -> int:
    conn = client._link.conn
    return 0 if conn is None else conn.session.pending_count


@asynccontextmanager
async def setup(
    *, auth: bool = False, **server_options: Any
) -> AsyncIterator[tuple[LocalServer, Callable[..., NoexClient]]]:
    server = LocalServer(
        buckets=[USERS, ORDERS], queries=QUERIES, auth=AUTH if auth else None, **server_options
    )
    clients: list[NoexClient] = []

    def make(**options: Any) -> NoexClient:
        values: dict[str, Any] = {
            "request_timeout_ms": 2_000,
            "connect_timeout_ms": 2_000,
            "reconnect": FAST,
        }
        if auth:
            values["auth"] = AuthOptions(token=TOKEN)
        values.update(options)
        opts = ClientOptions(**values)
        backoff = opts.reconnect_options
        policy = None if backoff is None else ReconnectPolicy(backoff, random.Random(3))
        client = NoexClient(server.url, opts, reconnect_policy=policy)
        clients.append(client)
        return client

    async with server:
        try:
            yield server, make
        finally:
            for client in clients:
                await client.disconnect()


async def test_restart_relogins_resubscribes_and_delivers_fresh_state() -> None:
    async with setup(auth=True) as (server, make):
        client = make()
        log = EventLog(client)
        await client.connect()
        await client.store.bucket("users").insert({"name": "before"})
        users: list[list[str]] = []
        orders: list[list[str]] = []
        await client.store.subscribe("all-users", lambda r: users.append([x["name"] for x in r]))
        await client.store.subscribe("all-orders", lambda r: orders.append([x["n"] for x in r]))
        await server.restart(keep_data=False)  # state lost; sub ids reissued from sub-1
        await log.wait("reconnected")
        assert users == [["before"], []]  # fresh (empty) state after the restart
        assert orders == [[], []]
        server.insert("orders", {"n": "o1"})
        await until(lambda: orders[-1] == ["o1"])
        server.insert("users", {"name": "u1"})
        await until(lambda: users[-1] == ["u1"])
        assert orders[-1] == ["o1"]
        assert len(users) == 3


async def test_drop_refuse_then_recover() -> None:
    async with setup() as (server, make):
        client = make()
        log = EventLog(client)
        await client.connect()
        server.refuse_connections(True)
        server.drop_connections()
        await log.wait("reconnecting", 3)
        assert client.state == "reconnecting"
        server.refuse_connections(False)
        await log.wait("reconnected")
        assert log.args("disconnected") == []  # a reconnect was coming all along
        assert await client.store.bucket("users").count() == 0


async def test_pending_insert_is_rejected_at_a_drop_and_never_resent() -> None:
    async with setup() as (server, make):
        client = make(retry_reads=True)
        log = EventLog(client)
        await client.connect()
        server.set_response_delay(200)
        pending = asyncio.ensure_future(client.store.bucket("users").insert({"name": "x"}))
        await until(lambda: pending_requests(client) == 1)
        server.drop_connections()
        with pytest.raises(DisconnectedError):
            await pending
        await log.wait("reconnected")
        server.set_response_delay(0)
        names = [r["name"] for r in await client.store.bucket("users").all()]
        assert names.count("x") <= 1


async def test_retry_reads_survives_a_drop() -> None:
    async with setup() as (server, make):
        client = make(retry_reads=True)
        await client.connect()
        server.set_response_delay(100)
        pending = asyncio.ensure_future(client.store.bucket("users").count())
        await until(lambda: pending_requests(client) == 1)
        server.drop_connections()
        server.set_response_delay(0)
        assert await pending == 0


async def test_delayed_responses_time_out_with_a_typed_error() -> None:
    async with setup() as (server, make):
        client = make(request_timeout_ms=50)
        await client.connect()
        server.set_response_delay(500)
        with pytest.raises(RequestTimeoutError):
            await client.store.bucket("users").all()


async def test_silent_server_is_detected_by_the_liveness_window(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with setup(heartbeat_interval_ms=20) as (server, make):
        client = make()
        log = EventLog(client)
        await client.connect()
        # Two pings teach the client the interval; its window is then 2.5 intervals.
        await until(
            lambda: client._link.conn is not None and client._link.conn._ping_interval is not None
        )
        server.pause_pings()
        await log.wait("reconnected")
        assert "closing connection: liveness_timeout" in caplog.text
        server.resume_pings()


async def test_heartbeat_keeps_a_quiet_client_connected() -> None:
    async with setup(heartbeat_interval_ms=10) as (server, make):
        client = make(liveness_timeout_ms=0)
        log = EventLog(client)
        await client.connect()
        seen: list[Any] = []
        await client.store.subscribe("all-users", seen.append)
        for n in range(5):  # ~5 heartbeat intervals pass while we wait for pushes
            server.insert("users", {"name": f"n{n}"})
            await until(lambda n=n: len(seen) == n + 2)  # type: ignore[misc]
        assert "disconnected" not in log.names()


async def test_revocation_ends_disconnected_with_session_revoked() -> None:
    async with setup(auth=True) as (server, make):
        client = make()
        log = EventLog(client)
        await client.connect()
        assert server.revoke_sessions(user_id="u-1") == 1
        await log.wait("disconnected")
        assert client.state == "disconnected"
        assert log.names().count("session_revoked") == 1
        assert log.args("disconnected") == [("session_revoked",)]


async def test_graceful_shutdown_event_then_reconnect_after_restart() -> None:
    async with setup() as (server, make):
        client = make()
        log = EventLog(client)
        await client.connect()
        server.set_response_delay(30)
        inflight = asyncio.ensure_future(client.store.bucket("users").count())
        shutting = asyncio.ensure_future(server.shutdown(200))
        assert await log.wait("shutdown") == [(200,)]
        assert await inflight == 0  # in-flight work finishes during the grace period
        await shutting
        await until(lambda: client.state == "reconnecting")
        server.set_response_delay(0)
        await server.start()  # the same port
        await log.wait("reconnected")
        assert log.args("disconnected") == []
        assert client.is_connected


async def test_push_before_subscribe_result_is_not_lost() -> None:
    async with setup() as (server, make):
        server.push_before_subscribe_result(True)
        server.insert("users", {"name": "a"})
        client = make()
        await client.connect()
        seen: list[list[str]] = []
        await client.store.subscribe("all-users", lambda r: seen.append([x["name"] for x in r]))
        assert seen[0] == ["a"]
        assert all(s == ["a"] for s in seen)


async def test_max_retries_against_a_stopped_server() -> None:
    async with setup() as (server, make):
        client = make(reconnect=ReconnectOptions(max_retries=2, initial_delay_ms=1, jitter_ms=0))
        log = EventLog(client)
        await client.connect()
        await server.stop()
        await log.wait("disconnected")
        assert client.state == "disconnected"
        assert log.args("reconnecting") == [(1,), (2,)]
        assert log.args("disconnected") == [("Max reconnect attempts reached",)]
        await server.start()  # for the fixture's clean exit
