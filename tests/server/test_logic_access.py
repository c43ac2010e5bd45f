"""Who may use ``logic.*``: tiers, built-in identity roles, token auth and audit.

Defining, dropping, listing and explaining are admin tier (like bucket and
query administration); ``queryView``, ``subscribeView``, ``unsubscribeView``
and ``evaluateExpr`` are read tier (like store reads).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from noex_client import AuthOptions, ClientOptions, ForbiddenError, NoexClient
from noex_client import expr as e
from noex_client.testing import LocalServer
from noex_client.testing._auth import tier_of

ORDERS = {"name": "orders", "key": "id",
          "schema": {"id": {"type": "string"}, "qty": {"type": "number"}}}  # fmt: skip
VIEW = {"name": "qtys", "from": {"o": "orders"}, "select": {"id": "o.id", "qty": "o.qty"}}
SECRET = "logic-secret"


@pytest.mark.parametrize(
    ("op", "tier"),
    [
        ("logic.defineComputed", "admin"), ("logic.dropComputed", "admin"),
        ("logic.listComputed", "admin"), ("logic.defineView", "admin"),
        ("logic.dropView", "admin"), ("logic.explainView", "admin"),
        ("logic.listViews", "admin"), ("logic.defineConstraint", "admin"),
        ("logic.dropConstraint", "admin"), ("logic.listConstraints", "admin"),
        ("logic.queryView", "read"), ("logic.subscribeView", "read"),
        ("logic.unsubscribeView", "read"), ("logic.evaluateExpr", "read"),
        ("logic.nope", None),
    ],
)  # fmt: skip
def test_logic_tiers(op: str, tier: str | None) -> None:
    assert tier_of(op) == tier


@pytest.fixture
async def identity_server() -> AsyncIterator[LocalServer]:
    config = {"buckets": [ORDERS], "logic": True, "auth": {"builtIn": True, "adminSecret": SECRET}}
    async with LocalServer.from_config(config) as server:
        yield server


async def user(server: LocalServer, admin: NoexClient, name: str, role: str) -> NoexClient:
    """A connected client logged in as a new user with one system role."""
    created = await admin.identity.create_user({"username": name, "password": f"{name}-pass-1"})
    await admin.identity.assign_role(created["id"], role)
    client = NoexClient(server.url)
    await client.connect()
    await client.identity.login(name, f"{name}-pass-1")
    return client


async def test_system_roles_grant_logic_by_tier(identity_server: LocalServer) -> None:
    async with NoexClient(identity_server.url) as root:
        await root.identity.login_with_secret(SECRET)
        boss = await user(identity_server, root, "boss", "admin")
        writer = await user(identity_server, root, "wally", "writer")
        reader = await user(identity_server, root, "rita", "reader")
        try:
            await boss.logic.define_view(VIEW)
            await boss.logic.define_constraint(
                {"name": "q", "on": "orders", "expr": e.gt(e.f("qty"), 0), "message": "qty"}
            )
            assert [v["name"] for v in await boss.logic.list_views()] == ["qtys"]
            await writer.store.bucket("orders").insert({"id": "o1", "qty": 2})
            for client in (writer, reader):
                assert await client.logic.query_view("qtys") == [{"id": "o1", "qty": 2}]
                assert await client.logic.evaluate_expr(e.add(1, 2)) == 3
                seen: list[Any] = []
                unsubscribe = await client.logic.subscribe_view("qtys", seen.append)
                assert seen == [[{"id": "o1", "qty": 2}]]
                unsubscribe()
                with pytest.raises(ForbiddenError) as info:
                    await client.logic.define_view({**VIEW, "name": "mine"})
                assert info.value.message == "No access to logic.defineView on *"
                with pytest.raises(ForbiddenError):
                    await client.logic.list_constraints()
            assert await boss.logic.drop_view("qtys") is True
        finally:
            for client in (boss, writer, reader):
                await client.disconnect()


async def test_custom_roles_can_grant_single_logic_operations(
    identity_server: LocalServer,
) -> None:
    async with NoexClient(identity_server.url) as root:
        await root.identity.login_with_secret(SECRET)
        await root.logic.define_view(VIEW)
        await root.identity.create_role(
            {"name": "viewer", "permissions": [{"allow": ["logic.queryView"]}]}
        )
        viewer = await user(identity_server, root, "vic", "viewer")
        try:
            assert await viewer.logic.query_view("qtys") == []
            with pytest.raises(ForbiddenError):
                await viewer.logic.evaluate_expr(1)
        finally:
            await viewer.disconnect()


async def test_system_roles_list_the_logic_grants_only_with_a_logic_engine() -> None:
    for logic in (True, False):
        auth = {"builtIn": True, "adminSecret": SECRET}
        server = LocalServer.from_config({"logic": logic, "auth": auth})
        async with server, NoexClient(server.url) as root:
            await root.identity.login_with_secret(SECRET)
            roles = {r["name"]: r["permissions"] for r in await root.identity.list_roles()}
        grants = {
            name: [p["allow"] for p in perms if "logic" in str(p["allow"])]
            for name, perms in roles.items()
        }
        read = ["logic.queryView", "logic.subscribeView", "logic.unsubscribeView",
                "logic.evaluateExpr"]  # fmt: skip
        expected = {"superadmin": [], "admin": [["logic.*"]], "writer": [read], "reader": [read]}
        assert grants == (expected if logic else {key: [] for key in expected})


async def test_token_auth_checks_the_logic_tiers() -> None:
    sessions = {"r": {"userId": "reader-1", "roles": ["reader"]},
                "a": {"userId": "admin-1", "roles": ["admin"]}}  # fmt: skip
    config = {"buckets": [ORDERS], "logic": True, "auth": {"sessions": sessions}}
    async with LocalServer.from_config(config) as server:
        options = ClientOptions(auth=AuthOptions(token="r"))
        async with NoexClient(server.url, options) as reader:
            assert await reader.logic.evaluate_expr(e.add(1, 1)) == 2
            with pytest.raises(ForbiddenError) as info:
                await reader.logic.define_view(VIEW)
            assert info.value.message == (
                "Role level insufficient for logic.defineView (requires admin)"
            )
        async with NoexClient(server.url, ClientOptions(auth=AuthOptions(token="a"))) as admin:
            await admin.logic.define_view(VIEW)


async def test_audit_records_logic_operations_of_the_audited_tiers() -> None:
    config = {"buckets": [ORDERS], "logic": True, "audit": {"tiers": ["admin"]}}
    async with LocalServer.from_config(config) as server, NoexClient(server.url) as client:
        await client.logic.define_view(VIEW)
        await client.logic.query_view("qtys")  # read tier: not audited here
        await client.logic.drop_view("qtys")
        entries = await client.audit.query()
        assert [(x["operation"], x["resource"]) for x in entries] == [
            ("logic.dropView", "qtys"),
            ("logic.defineView", "*"),
        ]
