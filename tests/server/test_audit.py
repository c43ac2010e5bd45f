"""The audit log beyond the recorded transcript: identity mode, tiers, filters, ring buffer."""

from __future__ import annotations

from typing import Any

import pytest

from noex_client.testing import AuditConfig, LocalServer
from tests.server.conftest import USERS, Client, ClientFactory

SECRET = "audit-test-secret"
SESSIONS = {
    "sessions": {
        "admin": {"userId": "admin-1", "roles": ["admin"]},
        "writer": {"userId": "writer-1", "roles": ["writer"]},
    }
}


async def admin_client(server: LocalServer, factory: ClientFactory) -> Client:
    client = await factory(server)
    await client.ok("auth.login", token="admin")
    return client


async def test_identity_operations_are_audited_without_secrets(
    client_factory: ClientFactory,
) -> None:
    async with LocalServer(
        auth={"builtIn": True, "adminSecret": SECRET}, audit={"tiers": ["admin"]}
    ) as srv:
        anonymous = await client_factory(srv)
        await anonymous.error("server.stats")  # a gate error is recorded too
        admin = await client_factory(srv)
        await admin.ok("identity.loginWithSecret", secret=SECRET)
        user = await admin.ok("identity.createUser", username="alice", password="AlicePass1")
        await admin.ok("identity.assignRole", userId=user["id"], roleName="writer")
        alice = await client_factory(srv)
        await alice.error("identity.login", username="alice", password="WrongPass1")
        await alice.ok("identity.login", username="alice", password="AlicePass1")
        await alice.ok("identity.whoami")  # no tier: never recorded
        denied = await alice.error("audit.query")
        assert denied["message"] == "No access to audit.query on *"
        entries = (await admin.ok("audit.query"))["entries"]
    summary = [(e["operation"], e["userId"], e["resource"], e["result"]) for e in entries]
    assert summary == [
        ("audit.query", user["id"], "*", "error"),
        ("identity.login", user["id"], "user:alice", "success"),
        ("identity.login", None, "user:alice", "error"),
        ("identity.assignRole", "__superadmin__", f"user:{user['id']}", "success"),
        ("identity.createUser", "__superadmin__", "user:alice", "success"),
        ("identity.loginWithSecret", "__superadmin__", "*", "success"),
        ("server.stats", None, "*", "error"),
    ]
    assert entries[2]["error"] == "Invalid credentials"
    assert entries[1]["details"] == {"username": "alice"}
    assert entries[3]["details"] == {"userId": user["id"], "roleName": "writer"}
    assert entries[-1]["error"] == "Authentication required"
    assert [e["sessionId"] for e in entries[-2:]] == ["conn-2", "conn-1"]
    assert all(e["remoteAddress"] == "127.0.0.1" for e in entries)
    assert SECRET not in str(entries)
    assert "AlicePass1" not in str(entries)


async def test_tiers_select_what_is_recorded(client_factory: ClientFactory) -> None:
    async with LocalServer(buckets=[USERS], auth=SESSIONS, audit={"tiers": ["read"]}) as srv:
        admin = await admin_client(srv, client_factory)
        await admin.ok("store.insert", bucket="users", data={"name": "a"})
        await admin.ok("store.all", bucket="users")
        await admin.ok("rules.getFact", key="k")
        entries = (await admin.ok("audit.query"))["entries"]
    assert [(e["operation"], e["resource"]) for e in entries] == [
        ("rules.getFact", "k"),
        ("store.all", "users"),
    ]


async def test_every_filter(client_factory: ClientFactory) -> None:
    async with LocalServer(buckets=[USERS], auth=SESSIONS, audit={"tiers": ["write"]}) as srv:
        admin = await admin_client(srv, client_factory)
        writer = await client_factory(srv)
        await writer.ok("auth.login", token="writer")
        await writer.ok("store.insert", bucket="users", data={"name": "w"})
        await writer.error("store.insert", bucket="users", data={})
        await admin.ok("store.insert", bucket="users", data={"name": "a"})
        await admin.ok("rules.emit", topic="t.x", data={})

        async def query(**filters: Any) -> list[tuple[str, str, str]]:
            entries = (await admin.ok("audit.query", **filters))["entries"]
            return [(e["userId"], e["operation"], e["result"]) for e in entries]

        everything = (await admin.ok("audit.query"))["entries"]
        assert [e["timestamp"] for e in everything] == sorted(
            (e["timestamp"] for e in everything), reverse=True
        )
        assert await query(userId="writer-1") == [
            ("writer-1", "store.insert", "error"),
            ("writer-1", "store.insert", "success"),
        ]
        assert await query(operation="rules.emit") == [("admin-1", "rules.emit", "success")]
        assert await query(result="error") == [("writer-1", "store.insert", "error")]
        assert await query(userId="admin-1", operation="store.insert") == [
            ("admin-1", "store.insert", "success")
        ]
        assert len(await query(limit=2)) == 2
        first, last = everything[-1]["timestamp"], everything[0]["timestamp"]
        assert len(await query(**{"from": first, "to": last})) == 4
        assert await query(**{"from": last + 1}) == []
        assert await query(to=first - 1) == []

        invalid: list[tuple[dict[str, Any], str]] = [
            ({"userId": 1}, 'Invalid "userId": expected string'),
            ({"userId": None}, 'Invalid "userId": expected string'),
            ({"operation": []}, 'Invalid "operation": expected string'),
            ({"result": "maybe"}, 'Invalid "result": expected "success" or "error"'),
            ({"from": "0"}, 'Invalid "from": expected number'),
            ({"to": None}, 'Invalid "to": expected number'),
            ({"limit": 1.5}, 'Invalid "limit": expected positive integer'),
            ({"limit": 0}, 'Invalid "limit": expected positive integer'),
        ]
        for filters, message in invalid:
            error = await admin.error("audit.query", **filters)
            assert (error["code"], error["message"]) == ("VALIDATION_ERROR", message), filters
        unknown = await admin.error("audit.nope")
        assert unknown["message"] == 'Unknown audit operation "audit.nope"'


async def test_ring_buffer_keeps_the_newest(client_factory: ClientFactory) -> None:
    config = AuditConfig(tiers=frozenset({"write"}), max_entries=3)
    async with LocalServer(buckets=[USERS], auth=SESSIONS, audit=config) as srv:
        admin = await admin_client(srv, client_factory)
        for name in "abcde":
            await admin.ok("store.insert", bucket="users", data={"name": name})
        entries = (await admin.ok("audit.query"))["entries"]
    assert len(entries) == 3


async def test_audit_needs_the_config(client_factory: ClientFactory) -> None:
    async with LocalServer() as srv:
        client = await client_factory(srv)
        error = await client.error("audit.query")
        assert (error["code"], error["message"]) == (
            "UNKNOWN_OPERATION",
            "Audit log is not configured",
        )


def test_audit_config_errors_name_the_key() -> None:
    with pytest.raises(ValueError, match="maxEntries"):
        AuditConfig.from_config({"maxEntries": 0})
    with pytest.raises(ValueError, match="unknown key"):
        AuditConfig.from_config({"tier": ["admin"]})


def test_audit_true_means_the_defaults() -> None:
    assert LocalServer.from_config({"audit": True}).config.audit == AuditConfig()
    assert LocalServer.from_config({"audit": False}).config.audit is None
