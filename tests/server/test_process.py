"""The server as a process with a full test-fixture config, and restarts on the same port.

A suite written for the real server starts it as a process with a JSON
config (buckets, queries, token auth or built-in identity, audit, rules,
logic, a fixed port) and may stop it with SIGTERM and start a new one on the
same port to test reconnects. Both are run here with the real client.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from noex_client import AuthOptions, ClientOptions, NoexClient, NoexClientError, ReconnectOptions
from tests.client.helpers import EventLog, until

USERS = {
    "name": "users",
    "schema": {
        "name": {"type": "string", "required": True},
        "role": {"type": "string", "default": "user"},
    },
}
QUERIES = [
    {"name": "all-users", "type": "all", "bucket": "users"},
    {"name": "users-by-role", "type": "where", "bucket": "users", "field": "role"},
    {"name": "user-count", "type": "count", "bucket": "users"},
]
SESSIONS = {
    "admin": {"userId": "admin-1", "roles": ["admin"]},
    "custom": {"userId": "custom-1", "roles": ["custom"]},
    "writer": {"userId": "writer-1", "roles": ["writer"]},
}
FAST = ReconnectOptions(initial_delay_ms=20, max_delay_ms=50, jitter_ms=1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serve(config: dict[str, Any]) -> AsyncIterator[tuple[str, asyncio.subprocess.Process]]:
    """Run ``python -m noex_client.testing serve``; yields its URL and the process."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "noex_client.testing", "serve", "--config", json.dumps(config),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(20):
            url = (await proc.stdout.readline()).decode().strip()
        assert url.startswith("ws://127.0.0.1:"), url
        yield url, proc
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


async def stop(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM, then the process must exit cleanly with nothing on stderr."""
    proc.send_signal(signal.SIGTERM)
    async with asyncio.timeout(20):
        assert await proc.wait() == 0
    assert proc.stderr is not None
    assert await proc.stderr.read() == b""


def client_for(url: str, **options: Any) -> NoexClient:
    return NoexClient(
        url, ClientOptions(request_timeout_ms=5_000, connect_timeout_ms=5_000, **options)
    )


async def user_names(client: NoexClient) -> list[list[str]]:
    """Subscribe to ``all-users``; the list receives the names of every result."""
    seen: list[list[str]] = []
    await client.store.subscribe("all-users", lambda rows: seen.append([r["name"] for r in rows]))
    return seen


async def test_fixture_config_with_identity_audit_rules_and_logic() -> None:
    port = free_port()
    config = {
        "buckets": [USERS],
        "queries": QUERIES,
        "auth": {"builtIn": True, "adminSecret": "fixture-secret"},
        "audit": {"tiers": ["admin", "write"]},
        "rules": True,
        "logic": True,
        "port": port,
    }
    async with serve(config) as (url, proc):
        assert url == f"ws://127.0.0.1:{port}/"
        client = client_for(url, reconnect=False)
        welcome = await client.connect()
        try:
            assert welcome.requires_auth is True
            login = await client.identity.login_with_secret("fixture-secret")
            assert login["user"]["id"] == "__superadmin__"
            await client.identity.create_user({"username": "alice", "password": "AlicePass1"})
            admins: list[Any] = []
            await client.store.subscribe("users-by-role", admins.append, {"role": "admin"})
            counts: list[Any] = []
            await client.store.subscribe("user-count", counts.append)
            users = client.store.bucket("users")
            await users.insert({"name": "a", "role": "admin"})
            await users.insert({"name": "b"})
            await until(lambda: counts[-1] == 2 and len(admins) == 2)
            assert [r["name"] for r in admins[-1]] == ["a"]
            await client.rules.emit("fixture.started", {})
            assert await client.request("logic.evaluateExpr", expr={"$add": [1, 2]}) == 3
            audit = await client.request("audit.query", operation="store.insert")
            assert [e["userId"] for e in audit["entries"]] == ["__superadmin__"] * 2
        finally:
            await client.disconnect()
        await stop(proc)


async def test_fixture_config_with_token_auth_and_check_roles() -> None:
    config = {
        "buckets": [USERS],
        "queries": QUERIES,
        "auth": {"sessions": SESSIONS, "required": True, "permissions": {"checkRoles": ["custom"]}},
    }
    async with serve(config) as (url, proc):
        writer = client_for(url, reconnect=False, auth=AuthOptions(token="writer"))
        custom = client_for(url, reconnect=False, auth=AuthOptions(token="custom"))
        await writer.connect()
        await custom.connect()
        try:
            with pytest.raises(NoexClientError) as info:
                await writer.store.bucket("users").insert({"name": "w"})
            assert (info.value.code, info.value.message) == (
                "FORBIDDEN",
                "No permission for store.insert on users",
            )
            await custom.store.bucket("users").insert({"name": "c"})
        finally:
            await writer.disconnect()
            await custom.disconnect()
        await stop(proc)


async def test_sigterm_then_a_new_process_on_the_same_port() -> None:
    port = free_port()
    config = {"buckets": [USERS], "queries": QUERIES, "auth": {"sessions": SESSIONS}, "port": port}
    async with serve(config) as (url, first):
        client = client_for(url, reconnect=FAST, auth=AuthOptions(token="admin"))
        log = EventLog(client)
        await client.connect()
        try:
            seen = await user_names(client)
            await client.store.bucket("users").insert({"name": "before-restart"})
            await until(lambda: seen[-1] == ["before-restart"])
            await stop(first)
            await log.wait("reconnecting")
            async with serve(config) as (url_again, second):
                assert url_again == url
                await log.wait("reconnected", within_s=20)
                # A new process: the data is gone, the client logged in and
                # subscribed again by itself.
                assert seen[-1] == []
                await client.store.bucket("users").insert({"name": "after-restart"})
                await until(lambda: seen[-1] == ["after-restart"])
                who = await client.auth.whoami()
                assert who is not None
                assert who["userId"] == "admin-1"
                await client.disconnect()
                await stop(second)
        finally:
            await client.disconnect()


async def test_a_killed_process_restarted_with_its_persistence_path_keeps_the_data(
    tmp_path: Path,
) -> None:
    port = free_port()
    config = {
        "buckets": [USERS],
        "queries": QUERIES,
        "port": port,
        "persistence": {"path": str(tmp_path)},
    }
    async with serve(config) as (url, first):
        client = client_for(url, reconnect=FAST)
        log = EventLog(client)
        await client.connect()
        try:
            seen = await user_names(client)
            await client.store.bucket("users").insert({"name": "acknowledged"})
            first.kill()  # no graceful stop: what was acknowledged is on disk already
            await first.wait()
            await log.wait("reconnecting")
            async with serve(config) as (_url, second):
                await log.wait("reconnected", within_s=20)
                assert seen[-1] == ["acknowledged"]  # the re-subscription's fresh data
                stats = await client.store.stats()
                assert stats["persistence"] == {"enabled": True}
                await client.disconnect()
                await stop(second)
        finally:
            await client.disconnect()
