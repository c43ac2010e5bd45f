"""Reconnect, re-login, subscription recovery, fatal close codes, liveness, shutdown."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from noex_client import (
    AuthOptions,
    ClientOptions,
    DisconnectedError,
    NoexClient,
    NoexClientError,
    ReconnectOptions,
    ReconnectPolicy,
    RequestTimeoutError,
)
from tests.client.conftest import FAST_RECONNECT, MakeClient
from tests.client.helpers import EventLog, until
from tests.client.scripted import TOKEN, PeerConnection, PeerError, ScriptedPeer, no_reply


async def test_reconnects_after_a_drop_and_emits_events_in_order(
    make_client: MakeClient, peer: ScriptedPeer
) -> None:
    client = make_client()
    log = EventLog(client)
    await client.connect()
    peer.restart()
    await log.wait("reconnected")
    assert client.state == "connected"
    # As the published client: no "disconnected" while a reconnect is coming.
    assert log.names() == [
        "connected",
        "welcome",
        "reconnecting",
        "connected",
        "reconnected",
        "welcome",
    ]
    assert log.args("reconnecting") == [(1,)]
    assert await client.store.bucket("users").count() == 0


async def test_relogin_and_resubscribe_before_reporting_connected(
    make_client: MakeClient, peer: ScriptedPeer
) -> None:
    peer.requires_auth = True
    client = make_client(auth=AuthOptions(token=TOKEN))
    log = EventLog(client)
    await client.connect()
    users = client.store.bucket("users")
    await users.insert({"id": "a"})
    seen: list[list[str]] = []
    await client.store.subscribe("all-users", lambda rows: seen.append([r["id"] for r in rows]))
    states_at_fresh_data: list[str] = []
    client.on("reconnected", lambda: states_at_fresh_data.append(f"reconnected:{len(seen)}"))
    peer.restart()
    await log.wait("reconnected")
    second = peer.connections[1].received
    assert [m["type"] for m in second] == ["auth.login", "store.subscribe"]
    # Fresh data reached the callback before "reconnected" was emitted.
    assert seen == [["a"], ["a"]]
    assert states_at_fresh_data == ["reconnected:2"]
    await users.insert({"id": "b"})
    await until(lambda: seen[-1] == ["a", "b"])


async def test_new_server_ids_map_to_the_right_subscriptions(
    make_client: MakeClient, peer: ScriptedPeer
) -> None:
    peer.buckets["orders"] = {}
    peer.queries["all-orders"] = "orders"
    client = make_client()
    log = EventLog(client)
    await client.connect()
    users_seen: list[Any] = []
    orders_seen: list[Any] = []
    await client.store.subscribe("all-users", users_seen.append)  # sub-1
    await client.store.subscribe("all-orders", orders_seen.append)  # sub-2
    # After the restart the ids come back swapped: all-users is sub-2, all-orders sub-1.
    peer.restart(sub_ids=[2, 1])
    await log.wait("reconnected")
    assert {q: sid for sid, (_k, q) in peer.connections[1].subs.items()} == {
        "all-users": "sub-2",
        "all-orders": "sub-1",
    }
    await client.store.bucket("orders").insert({"id": "o1"})
    await until(lambda: len(orders_seen) == 3)
    await client.store.bucket("users").insert({"id": "u1"})
    await until(lambda: len(users_seen) == 3)
    assert users_seen[:2] == [[], []]
    assert [r["id"] for r in users_seen[2]] == ["u1"]
    assert [r["id"] for r in orders_seen[2]] == ["o1"]
    assert len(orders_seen) == 3


async def test_push_for_an_old_id_never_reaches_a_subscription(
    make_client: MakeClient, peer: ScriptedPeer
) -> None:
    client = make_client()
    log = EventLog(client)
    await client.connect()
    seen: list[Any] = []
    await client.rules.subscribe("*", lambda event, topic: seen.append(topic))  # sub-1
    peer.restart()
    await log.wait("reconnected")
    conn = peer.connections[1]
    (new_id,) = conn.subs
    await conn.push("sub-1" if new_id != "sub-1" else "sub-99", {"topic": "stale", "event": {}})
    await conn.push(new_id, {"topic": "fresh", "event": {}}, "event")
    await until(lambda: seen == ["fresh"])


async def test_resubscribe_rejected_is_reported_and_removed(
    make_client: MakeClient, peer: ScriptedPeer
) -> None:
    client = make_client()
    log = EventLog(client)
    await client.connect()
    await client.store.subscribe("all-users", lambda _rows: None)
    del peer.queries["all-users"]  # the restarted server no longer defines it
    peer.restart()
    await log.wait("reconnected")
    (exc,), *_ = log.args("error")
    assert isinstance(exc, NoexClientError)
    assert exc.code == "QUERY_NOT_DEFINED"
    assert len(client._subscriptions) == 0
    peer.restart()
    await log.wait("reconnected", 2)
    assert [m["type"] for m in peer.connections[2].received] == []  # not retried forever


async def test_pending_write_is_rejected_not_resent(
    make_client: MakeClient, peer: ScriptedPeer
) -> None:
    arrived = asyncio.Event()

    async def hang(conn: PeerConnection, m: dict[str, Any]) -> Any:
        arrived.set()
        return no_reply()

    peer.handlers["store.insert"] = hang
    client = make_client(retry_reads=True)
    log = EventLog(client)
    await client.connect()
    pending = asyncio.ensure_future(client.store.bucket("users").insert({"id": "x"}))
    await arrived.wait()
    peer.restart()
    with pytest.raises(DisconnectedError):
        await pending
    await log.wait("reconnected")
    assert [m["type"] for m in peer.log].count("store.insert") == 1


async def test_retry_reads_resends_a_pending_read_once(
    make_client: MakeClient, peer: ScriptedPeer
) -> None:
    calls = 0
    original = peer.handlers["store.all"]

    async def first_hangs(conn: PeerConnection, m: dict[str, Any]) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            peer.restart()
            return no_reply()
        return await original(conn, m)

    peer.handlers["store.all"] = first_hangs
    client = make_client(retry_reads=True)
    await client.connect()
    assert await client.store.bucket("users").all() == []
    assert calls == 2


async def test_without_retry_reads_a_pending_read_fails(
    make_client: MakeClient, peer: ScriptedPeer
) -> None:
    async def drop(conn: PeerConnection, m: dict[str, Any]) -> Any:
        peer.restart()
        return no_reply()

    peer.handlers["store.all"] = drop
    client = make_client()
    await client.connect()
    with pytest.raises(DisconnectedError):
        await client.store.bucket("users").all()


async def test_retried_read_still_honours_its_timeout(
    make_client: MakeClient, peer: ScriptedPeer
) -> None:
    async def drop(conn: PeerConnection, m: dict[str, Any]) -> Any:
        peer.refuse_tcp = True
        peer.restart()
        return no_reply()

    peer.handlers["store.all"] = drop
    client = make_client(retry_reads=True, request_timeout_ms=100)
    await client.connect()
    with pytest.raises(RequestTimeoutError):
        await client.store.bucket("users").all()


@pytest.mark.parametrize(
    ("code", "reason"),
    [(1003, "binary_not_supported"), (4002, "session_revoked"), (4003, "too_many_connections")],
)
async def test_fatal_close_codes_end_disconnected(
    make_client: MakeClient, peer: ScriptedPeer, code: int, reason: str
) -> None:
    client = make_client()
    log = EventLog(client)
    await client.connect()
    seen: list[Any] = []
    await client.store.subscribe("all-users", seen.append)
    await peer.connections[0].close(code, reason)
    await log.wait("disconnected")
    assert client.state == "disconnected"
    assert log.args("disconnected") == [(reason,)]
    assert log.args("reconnecting") == []
    assert len(peer.connections) == 1
    assert ("session_revoked" in log.names()) == (code == 4002)
    assert len(client._subscriptions) == 0


async def test_the_injected_policy_decides_which_close_codes_are_fatal(
    peer: ScriptedPeer,
) -> None:
    policy = ReconnectPolicy(FAST_RECONNECT, fatal_close_codes={4001})
    client = NoexClient("ws://peer.invalid/", connector=peer.connector, reconnect_policy=policy)
    log = EventLog(client)
    await client.connect()
    try:
        await peer.connections[0].close(4003, "too_many_connections")  # not fatal here
        await log.wait("reconnected")
        await peer.connections[1].close(4001, "heartbeat_timeout")  # fatal here
        await log.wait("disconnected")
        assert log.args("disconnected") == [("heartbeat_timeout",)]
        assert log.args("reconnecting") == [(1,)]
        assert client.reconnect_policy is policy
    finally:
        await client.disconnect()


class _RetryRejectedLogins(ReconnectPolicy):
    def is_fatal(self, error: Exception) -> bool:
        return False


async def test_the_injected_policy_decides_which_attempt_errors_are_fatal(
    peer: ScriptedPeer,
) -> None:
    peer.requires_auth = True
    options = ClientOptions(auth=AuthOptions(token=TOKEN), reconnect=FAST_RECONNECT)
    policy = _RetryRejectedLogins(FAST_RECONNECT)
    client = NoexClient(
        "ws://peer.invalid/", options, connector=peer.connector, reconnect_policy=policy
    )
    log = EventLog(client)
    await client.connect()
    original = peer.handlers["auth.login"]
    rejections = 0

    async def reject_twice(conn: PeerConnection, m: dict[str, Any]) -> Any:
        nonlocal rejections
        rejections += 1
        if rejections <= 2:
            raise PeerError("UNAUTHORIZED", "Invalid token")
        return await original(conn, m)

    peer.handlers["auth.login"] = reject_twice
    try:
        peer.restart()
        await log.wait("reconnected")  # the rejected logins were retried
        assert log.args("reconnecting") == [(1,), (2,), (3,)]
        assert log.args("disconnected") == []
    finally:
        await client.disconnect()


async def test_revocation_notice_then_4002_emits_session_revoked_once(
    make_client: MakeClient, peer: ScriptedPeer
) -> None:
    client = make_client()
    log = EventLog(client)
    await client.connect()
    conn = peer.connections[0]
    await conn.send(
        type="system", event="session_revoked", reason="Session revoked by administrator"
    )
    await conn.close(4002, "session_revoked")
    await log.wait("disconnected")
    assert log.names().count("session_revoked") == 1
    assert client.state == "disconnected"


async def test_too_many_connections_during_reconnect_stops(
    make_client: MakeClient, peer: ScriptedPeer
) -> None:
    client = make_client()
    log = EventLog(client)
    await client.connect()
    peer.refuse_with = (4003, "too_many_connections")
    peer.restart()
    await log.wait("disconnected")
    assert client.state == "disconnected"
    assert log.args("disconnected") == [("too_many_connections",)]
    assert log.args("reconnecting") == [(1,)]


async def test_revoked_login_during_reconnect_stops(
    make_client: MakeClient, peer: ScriptedPeer
) -> None:
    peer.requires_auth = True
    client = make_client(auth=AuthOptions(token=TOKEN))
    log = EventLog(client)
    await client.connect()

    async def revoked(conn: PeerConnection, m: dict[str, Any]) -> Any:
        raise PeerError("SESSION_REVOKED", "Session has been revoked")

    peer.handlers["auth.login"] = revoked
    peer.restart()
    await log.wait("disconnected")
    assert client.state == "disconnected"
    assert log.args("disconnected") == [("login rejected: SESSION_REVOKED",)]
    assert log.args("session_revoked") == [("Session has been revoked",)]
    ((error,),) = log.args("error")
    assert isinstance(error, NoexClientError)
    assert error.code == "SESSION_REVOKED"


async def test_gives_up_after_max_retries(make_client: MakeClient, peer: ScriptedPeer) -> None:
    client = make_client(
        reconnect=ReconnectOptions(max_retries=3, initial_delay_ms=1, max_delay_ms=2, jitter_ms=0)
    )
    log = EventLog(client)
    states: list[str] = []
    client.on("disconnected", lambda _reason: states.append(client.state))
    client.on("error", lambda _error: states.append(client.state))
    await client.connect()
    peer.refuse_tcp = True
    peer.restart()
    await log.wait("error")
    assert client.state == "disconnected"
    assert log.args("reconnecting") == [(1,), (2,), (3,)]
    # As the published client: failed attempts emit nothing; giving up emits
    # "disconnected" and then "error" with the same message, state already set.
    assert log.names()[-2:] == ["disconnected", "error"]
    assert log.args("disconnected") == [("Max reconnect attempts reached",)]
    ((error,),) = log.args("error")
    assert isinstance(error, DisconnectedError)
    assert str(error) == "Max reconnect attempts reached"
    assert states == ["disconnected", "disconnected"]


async def test_backoff_resets_after_a_successful_reconnect(
    make_client: MakeClient, peer: ScriptedPeer
) -> None:
    client = make_client()
    log = EventLog(client)
    await client.connect()
    peer.refuse_tcp = True
    peer.restart()
    await log.wait("reconnecting", 3)
    peer.refuse_tcp = False
    await log.wait("reconnected")
    peer.restart()
    await log.wait("reconnected", 2)
    attempts = [args[0] for args in log.args("reconnecting")]
    assert attempts[-1] == 1  # counting started again for the second outage


async def test_disconnect_stops_the_reconnect_loop_at_once(
    make_client: MakeClient, peer: ScriptedPeer
) -> None:
    client = make_client(
        reconnect=ReconnectOptions(initial_delay_ms=60_000, max_delay_ms=60_000, jitter_ms=0)
    )
    log = EventLog(client)
    await client.connect()
    peer.restart()
    await until(lambda: client.state == "reconnecting")
    await asyncio.wait_for(client.disconnect(), 1)
    assert client.state == "disconnected"
    assert log.args("reconnecting") == []
    assert len(peer.connections) == 1


async def test_disconnect_during_a_reconnect_attempt(
    make_client: MakeClient, peer: ScriptedPeer
) -> None:
    client = make_client()
    log = EventLog(client)
    await client.connect()
    peer.send_welcome = False  # the attempt hangs waiting for a welcome
    peer.restart()
    await log.wait("reconnecting")
    await asyncio.wait_for(client.disconnect(), 1)
    assert client.state == "disconnected"
    await until(lambda: not peer.live)


async def test_no_reconnect_when_disabled(make_client: MakeClient, peer: ScriptedPeer) -> None:
    client = make_client(reconnect=False)
    log = EventLog(client)
    await client.connect()
    peer.restart()
    await log.wait("disconnected")
    assert client.state == "disconnected"
    assert len(peer.connections) == 1


async def test_liveness_window_closes_a_silent_connection(
    make_client: MakeClient, peer: ScriptedPeer, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(liveness_timeout_ms=30)
    log = EventLog(client)
    await client.connect()
    await log.wait("reconnected")
    assert "closing connection: liveness_timeout" in caplog.text
    assert log.args("disconnected") == []
    await peer.connections[0].closed.wait()


async def test_liveness_window_is_derived_from_the_ping_interval(
    make_client: MakeClient, peer: ScriptedPeer, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client()
    log = EventLog(client)
    await client.connect()
    conn = peer.connections[0]
    for stamp in (1, 2):
        await conn.send(type="ping", timestamp=stamp)
        await until(lambda s=stamp: conn.pongs[-1:] == [s])  # type: ignore[misc]
    # Two pings ~ms apart: the window is now 2.5 intervals; the server falls silent.
    await log.wait("reconnected")
    assert "closing connection: liveness_timeout" in caplog.text


async def test_liveness_zero_disables_the_check(
    make_client: MakeClient, peer: ScriptedPeer
) -> None:
    client = make_client(liveness_timeout_ms=0)
    await client.connect()
    conn = peer.connections[0]
    await conn.send(type="ping", timestamp=1)
    await conn.send(type="ping", timestamp=2)
    await until(lambda: conn.pongs == [1, 2])
    assert client._link.conn is not None
    assert client._link.conn._watchdog is None


async def test_graceful_shutdown_lets_requests_finish_then_reconnects(
    make_client: MakeClient, peer: ScriptedPeer
) -> None:
    client = make_client()
    log = EventLog(client)
    await client.connect()
    conn = peer.connections[0]
    await conn.send(type="system", event="shutdown", gracePeriodMs=50)
    assert await log.wait("shutdown") == [(50,)]
    assert await client.store.bucket("users").count() == 0
    await conn.close(1000, "server_shutdown")
    await log.wait("reconnected")
    assert log.args("disconnected") == []
    assert client.is_connected


async def test_disconnect_stops_a_connect_waiting_for_the_welcome(
    make_client: MakeClient, peer: ScriptedPeer
) -> None:
    peer.send_welcome = False
    client = make_client(connect_timeout_ms=60_000)
    connecting = asyncio.ensure_future(client.connect())
    await peer.next_connection()
    await asyncio.wait_for(client.disconnect(), 1)
    with pytest.raises(DisconnectedError):
        await connecting
    assert client.state == "disconnected"
    await until(lambda: not peer.live)


async def test_cancelling_connect_cancels_it(make_client: MakeClient, peer: ScriptedPeer) -> None:
    peer.send_welcome = False
    client = make_client(connect_timeout_ms=60_000)
    connecting = asyncio.ensure_future(client.connect())
    await peer.next_connection()
    connecting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await connecting
    assert client.state == "disconnected"
    await until(lambda: not peer.live)
