"""Built-in identity beyond the recorded transcript: hashing, sessions, limits, permissions."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from noex_client.testing import ConfigError, IdentityConfig, LocalServer
from tests.server.conftest import Client, ClientFactory

SECRET = "identity-test-secret"
REPORTS = {"key": "id", "schema": {"id": {"type": "string", "generated": "uuid"}}}


def identity_server(**auth: Any) -> LocalServer:
    return LocalServer(auth={"builtIn": True, "adminSecret": SECRET, **auth})


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with identity_server() as srv:
        yield srv


@pytest.fixture
async def admin(server: LocalServer, client_factory: ClientFactory) -> Client:
    """A connection logged in as the virtual superadmin."""
    client = await client_factory(server)
    await client.ok("identity.loginWithSecret", secret=SECRET)
    return client


async def make_user(admin: Client, name: str, *roles: str, password: str = "Password1") -> str:
    user = await admin.ok("identity.createUser", username=name, password=password)
    for role in roles:
        await admin.ok("identity.assignRole", userId=user["id"], roleName=role)
    return str(user["id"])


async def login(
    server: LocalServer, factory: ClientFactory, name: str, password: str = "Password1"
) -> tuple[Client, dict[str, Any]]:
    client = await factory(server)
    return client, await client.ok("identity.login", username=name, password=password)


# -- passwords -----------------------------------------------------------------------
async def test_passwords_are_salted_scrypt_hashes(server: LocalServer, admin: Client) -> None:
    alice = await make_user(admin, "alice", password="SamePassword")
    bob = await make_user(admin, "bob", password="SamePassword")
    assert server.core.identity is not None
    directory = server.core.identity.directory
    hashes = [directory.password_hash(alice), directory.password_hash(bob)]
    for stored in hashes:
        assert stored is not None
        assert stored.startswith("scrypt$")
        assert "SamePassword" not in stored
    assert hashes[0] != hashes[1]  # a salt per user
    listed = await admin.ok("identity.listUsers")
    assert all("password" not in str(u).lower() for u in listed["users"])


async def test_password_rules_and_change(
    server: LocalServer, admin: Client, client_factory: ClientFactory
) -> None:
    bad = await admin.error("identity.createUser", username="ab", password="Password1")
    assert bad["message"] == "Username must be between 3 and 64 characters"
    missing = await admin.error("identity.createUser", username="abc")
    assert missing["message"] == 'Missing or invalid "password": expected non-empty string'
    user_id = await make_user(admin, "carol")
    carol, _ = await login(server, client_factory, "carol")
    wrong = await carol.error(
        "identity.changePassword", userId=user_id, currentPassword="nope", newPassword="Another1"
    )
    assert (wrong["code"], wrong["message"]) == ("UNAUTHORIZED", "Current password is incorrect")
    short = await carol.error(
        "identity.changePassword", userId=user_id, currentPassword="Password1", newPassword="x"
    )
    assert short["message"] == "Password must be at least 8 characters"
    await carol.ok(
        "identity.changePassword",
        userId=user_id,
        currentPassword="Password1",
        newPassword="Another1",
    )
    again = await client_factory(server)
    await again.error("identity.login", username="carol", password="Password1")
    await again.ok("identity.login", username="carol", password="Another1")
    await admin.ok("identity.resetPassword", userId=user_id, newPassword="ByAdmin123")
    await again.ok("identity.login", username="carol", password="ByAdmin123")
    gone = await admin.error("identity.resetPassword", userId="missing", newPassword="ByAdmin123")
    assert (gone["code"], gone["message"]) == ("NOT_FOUND", "User not found")


# -- sessions ------------------------------------------------------------------------
async def test_session_expires_lazily_then_needs_a_new_login(
    client_factory: ClientFactory,
) -> None:
    async with identity_server(sessionTtl=150) as srv:
        admin = await client_factory(srv)
        result = await admin.ok("identity.loginWithSecret", secret=SECRET)
        assert result["user"] == {
            "id": "__superadmin__",
            "username": "__superadmin__",
            "roles": ["superadmin"],
        }
        async with asyncio.timeout(5):
            while True:  # poll until the server-side expiry passes (checked per request)
                frame = await admin.request("identity.whoami")
                if frame["type"] == "error":
                    break
        assert frame["message"] == "Session expired"
        after = await admin.error("identity.whoami")
        assert after["message"] == "Authentication required"
        expired = await admin.error("auth.login", token=result["token"])
        assert expired["message"] == "Invalid token"


async def test_refresh_replaces_the_token(server: LocalServer, admin: Client) -> None:
    first = await admin.ok("identity.loginWithSecret", secret=SECRET)
    second = await admin.ok("identity.refreshSession")
    assert second["token"] != first["token"]
    assert second["expiresAt"] >= first["expiresAt"]
    assert (await admin.ok("identity.whoami"))["expiresAt"] == second["expiresAt"]
    stale = await admin.error("auth.login", token=first["token"])
    assert stale["message"] == "Invalid token"


async def test_token_resume_rereads_roles_and_has_no_token_of_its_own(
    server: LocalServer, admin: Client, client_factory: ClientFactory
) -> None:
    user_id = await make_user(admin, "dave")
    _, result = await login(server, client_factory, "dave")
    assert result["user"]["roles"] == []
    await admin.ok("identity.assignRole", userId=user_id, roleName="reader")
    resumed = await client_factory(server)
    session = await resumed.ok("auth.login", token=result["token"])
    assert session == {"userId": user_id, "roles": ["reader"], "expiresAt": result["expiresAt"]}
    refresh = await resumed.error("identity.refreshSession")
    assert refresh["message"] == "No active session to refresh"
    await resumed.ok("identity.logout")  # does not delete the token it resumed with
    third = await client_factory(server)
    assert (await third.ok("auth.login", token=result["token"]))["userId"] == user_id


async def test_disable_ends_stored_sessions_but_not_open_connections(
    server: LocalServer, admin: Client, client_factory: ClientFactory
) -> None:
    user_id = await make_user(admin, "erin", "reader")
    erin, result = await login(server, client_factory, "erin")
    await admin.ok("identity.disableUser", userId=user_id)
    assert (await erin.ok("identity.whoami"))["userId"] == user_id
    stale = await (await client_factory(server)).error("auth.login", token=result["token"])
    assert stale["message"] == "Invalid token"
    disabled = await (await client_factory(server)).error(
        "identity.login", username="erin", password="Password1"
    )
    assert (disabled["code"], disabled["message"]) == ("UNAUTHORIZED", "Account disabled")
    refresh = await erin.error("identity.refreshSession")
    assert refresh["message"] == "Invalid or expired session"
    superadmin = await admin.error("identity.disableUser", userId="__superadmin__")
    assert superadmin["message"] == "Cannot disable virtual superadmin"


# -- login rate limit ----------------------------------------------------------------
async def test_login_limit_per_user_and_ip(client_factory: ClientFactory) -> None:
    async with identity_server(loginRateLimit={"maxAttempts": 3, "windowMs": 60_000}) as srv:
        admin = await client_factory(srv)
        await admin.ok("identity.loginWithSecret", secret=SECRET)
        await make_user(admin, "frank")
        client = await client_factory(srv)
        await client.error("identity.login", username="frank", password="wrong-one")
        await client.error("identity.login", username="ghost", password="wrong-one")
        # A success resets the user counter, not the IP counter (2 failures).
        await client.ok("identity.login", username="frank", password="Password1")
        await client.error("identity.login", username="ghost", password="wrong-one")
        limited = await client.error("identity.login", username="frank", password="Password1")
        assert limited["code"] == "RATE_LIMITED"
        assert limited["message"] == "Too many failed login attempts. Try again later."
        assert 0 < limited["details"]["retryAfterMs"] <= 60_000
        secret = await client.error("identity.loginWithSecret", secret=SECRET)
        assert secret["code"] == "RATE_LIMITED"  # the same IP counter


async def test_secret_login_failures_count_per_ip(client_factory: ClientFactory) -> None:
    async with identity_server(loginRateLimit={"maxAttempts": 2}) as srv:
        client = await client_factory(srv)
        assert (await client.error("identity.loginWithSecret", secret="x"))["message"] == (
            "Invalid secret"
        )
        await client.ok("identity.loginWithSecret", secret=SECRET)  # resets the IP counter
        await client.error("identity.loginWithSecret", secret="x")
        await client.error("identity.loginWithSecret", secret="x")
        limited = await client.error("identity.loginWithSecret", secret=SECRET)
        assert limited["code"] == "RATE_LIMITED"


# -- roles ---------------------------------------------------------------------------
async def test_system_roles_cannot_be_deleted(admin: Client) -> None:
    roles = (await admin.ok("identity.listRoles"))["roles"]
    assert [r["name"] for r in roles] == ["superadmin", "admin", "writer", "reader"]
    for role in roles:
        error = await admin.error("identity.deleteRole", roleId=role["id"])
        assert (error["code"], error["message"]) == ("FORBIDDEN", "Cannot delete system role")
    missing = await admin.error("identity.deleteRole", roleId="nope")
    assert (missing["code"], missing["message"]) == ("NOT_FOUND", "Role not found")
    assert len((await admin.ok("identity.listRoles"))["roles"]) == 4


async def test_custom_role_lifecycle_and_role_admin_rules(
    server: LocalServer, admin: Client, client_factory: ClientFactory
) -> None:
    role = await admin.ok("identity.createRole", name="ops", permissions=[{"allow": "rules.*"}])
    assert role["system"] is False
    assert "description" not in role
    user_id = await make_user(admin, "gina", "admin", "ops")
    taken = await admin.error("identity.assignRole", userId=user_id, roleName="ops")
    assert (taken["code"], taken["message"]) == ("ALREADY_EXISTS", 'User already has role "ops"')
    unknown = await admin.error("identity.assignRole", userId=user_id, roleName="nope")
    assert unknown["message"] == 'Role "nope" not found'
    gina, _ = await login(server, client_factory, "gina")
    forbidden = await gina.error("identity.createRole", name="x")
    assert (forbidden["code"], forbidden["message"]) == ("FORBIDDEN", "Superadmin role required")
    await gina.ok("identity.createUser", username="henry", password="Password1")  # admin may
    await admin.ok("identity.deleteRole", roleId=role["id"])
    names = [r["name"] for r in (await admin.ok("identity.getUserRoles", userId=user_id))["roles"]]
    assert names == ["admin"]
    not_assigned = await admin.error("identity.removeRole", userId=user_id, roleName="writer")
    assert not_assigned["message"] == 'User does not have role "writer"'


# -- permissions of store and rules operations ----------------------------------------
async def test_system_role_permissions(
    server: LocalServer, admin: Client, client_factory: ClientFactory
) -> None:
    await admin.ok("store.defineBucket", name="reports", config=REPORTS)
    await make_user(admin, "rita", "reader")
    await make_user(admin, "will", "writer")
    rita, _ = await login(server, client_factory, "rita")
    will, _ = await login(server, client_factory, "will")
    assert await rita.ok("store.all", bucket="reports") == []
    denied = await rita.error("store.insert", bucket="reports", data={})
    assert (denied["code"], denied["message"]) == (
        "FORBIDDEN",
        "No access to store.insert on reports",
    )
    await will.ok("store.insert", bucket="reports", data={})
    define = await will.error("store.defineBucket", name="b2", config=REPORTS)
    assert define["message"] == "No access to store.defineBucket on b2"
    stats = await will.error("server.stats")
    assert stats["message"] == "No access to server.stats on *"
    await will.ok("rules.emit", topic="a.b", data={})
    emit = await rita.error("rules.emit", topic="a.b", data={})
    assert emit["message"] == "No access to rules.emit on a.b"
    system = await will.error(
        "store.transaction", operations=[{"op": "get", "bucket": "_users", "key": "x"}]
    )
    assert system["message"] == 'Cannot access system bucket "_users" in transaction'


async def test_custom_role_constraints_and_role_acl(
    server: LocalServer, admin: Client, client_factory: ClientFactory
) -> None:
    for name in ("reports", "secrets"):
        await admin.ok("store.defineBucket", name=name, config=REPORTS)
    role = await admin.ok(
        "identity.createRole",
        name="report-reader",
        permissions=[{"allow": ["store.all"], "buckets": ["reports"]}],
    )
    await make_user(admin, "ivy", "report-reader")
    ivy, _ = await login(server, client_factory, "ivy")
    await ivy.ok("store.all", bucket="reports")
    assert (await ivy.error("store.all", bucket="secrets"))["code"] == "FORBIDDEN"
    await admin.ok(
        "identity.grant",
        subjectType="role",
        subjectId=role["id"],
        resourceType="bucket",
        resourceName="secrets",
        operations=["read"],
    )
    await ivy.ok("store.all", bucket="secrets")  # live role data: no new login needed
    access = await ivy.ok("identity.myAccess")
    assert access["resources"] == [
        {
            "resourceType": "bucket",
            "resourceName": "secrets",
            "operations": ["read"],
            "isOwner": False,
        }
    ]
    missing = await admin.error(
        "identity.grant",
        subjectType="role",
        subjectId="nope",
        resourceType="bucket",
        resourceName="secrets",
        operations=["read"],
    )
    assert (missing["code"], missing["message"]) == ("NOT_FOUND", "Subject role not found")


async def test_ownership_and_acl_management(
    server: LocalServer, admin: Client, client_factory: ClientFactory
) -> None:
    owner_id = await make_user(admin, "olga")
    other_id = await make_user(admin, "paul")
    await admin.ok(
        "identity.grant",
        subjectType="user",
        subjectId=owner_id,
        resourceType="bucket",
        resourceName="olga-data",
        operations=["admin"],
    )
    olga, _ = await login(server, client_factory, "olga")
    paul, _ = await login(server, client_factory, "paul")
    await olga.ok("store.defineBucket", name="olga-data", config=REPORTS)
    owner = await paul.ok("identity.getOwner", resourceType="bucket", resourceName="olga-data")
    assert owner["owner"]["username"] == "olga"
    grant = {
        "subjectType": "user",
        "subjectId": other_id,
        "resourceType": "bucket",
        "resourceName": "olga-data",
        "operations": ["read"],
    }
    refused = await paul.error("identity.grant", **grant)
    assert refused["message"] == (
        "Must be the resource owner, admin, or have admin ACL to manage permissions"
    )
    await olga.ok("identity.grant", **grant)
    await paul.ok("store.all", bucket="olga-data")
    transfer = await paul.error(
        "identity.transferOwner",
        resourceType="bucket",
        resourceName="olga-data",
        newOwnerId=other_id,
    )
    assert transfer["message"] == "Only the owner or superadmin can transfer ownership"
    nobody = await olga.error(
        "identity.transferOwner", resourceType="bucket", resourceName="olga-data", newOwnerId="x"
    )
    assert nobody["message"] == "New owner not found"
    await olga.ok("store.dropBucket", name="olga-data")
    assert (
        await paul.ok("identity.getOwner", resourceType="bucket", resourceName="olga-data")
    ) == {"owner": None}
    assert (await paul.ok("identity.getAcl", resourceType="bucket", resourceName="olga-data")) == {
        "entries": []
    }
    empty = await olga.error(
        "identity.transferOwner", resourceType="bucket", resourceName="x", newOwnerId=other_id
    )
    assert empty["message"] == "Resource has no owner"
    # Dropping the bucket removed olga's ACL entries and ownership with it.
    assert (await olga.error("identity.revoke", **grant))["code"] == "FORBIDDEN"
    revoke = await admin.error("identity.revoke", **grant)
    assert (revoke["code"], revoke["message"]) == ("NOT_FOUND", "ACL entry not found")


async def test_delete_user_cascades(
    server: LocalServer, admin: Client, client_factory: ClientFactory
) -> None:
    user_id = await make_user(admin, "quinn", "writer")
    await admin.ok("identity.grant", subjectType="user", subjectId=user_id, resourceType="bucket",
                   resourceName="q", operations=["admin"])  # fmt: skip
    quinn, result = await login(server, client_factory, "quinn")
    await quinn.ok("store.defineBucket", name="q", config=REPORTS)
    await admin.ok("identity.deleteUser", userId=user_id)
    assert (await admin.ok("identity.getOwner", resourceType="bucket", resourceName="q")) == {
        "owner": None
    }
    assert (await admin.ok("identity.getAcl", resourceType="bucket", resourceName="q")) == {
        "entries": []
    }
    stale = await (await client_factory(server)).error("auth.login", token=result["token"])
    assert stale["message"] == "Invalid token"
    assert (await quinn.error("store.all", bucket="q"))["code"] == "FORBIDDEN"
    assert (await quinn.error("identity.myAccess"))["code"] == "NOT_FOUND"


async def test_update_user_rules(
    server: LocalServer, admin: Client, client_factory: ClientFactory
) -> None:
    user_id = await make_user(admin, "sam")
    other_id = await make_user(admin, "tess")
    sam, _ = await login(server, client_factory, "sam")
    updated = await sam.ok("identity.updateUser", userId=user_id, displayName=5, metadata=[1])
    assert (updated["displayName"], updated["metadata"]) == (None, {})
    other = await sam.error("identity.updateUser", userId=other_id, displayName="x")
    assert (other["code"], other["message"]) == ("FORBIDDEN", "Admin role required")
    email = await sam.error("identity.updateUser", userId=user_id, email=None)
    assert (email["code"], email["message"]) == ("INTERNAL_ERROR", "Internal server error")
    bad = await admin.error(
        "identity.createUser", username="uma", password="Password1", email="not-an-email"
    )
    assert (bad["code"], bad["message"]) == ("INTERNAL_ERROR", "Internal server error")
    unchanged = await admin.ok("identity.updateUser", userId=other_id)
    assert unchanged == await admin.ok("identity.getUser", userId=other_id)


async def test_list_users_pages_are_clamped(admin: Client) -> None:
    for i in range(3):
        await admin.ok("identity.createUser", username=f"user{i}", password="Password1")
    page = await admin.ok("identity.listUsers", page=2, pageSize=2)
    assert [u["username"] for u in page["users"]] == ["user2"]
    assert (page["total"], page["page"], page["pageSize"]) == (3, 2, 2)
    clamped = await admin.ok("identity.listUsers", page=0, pageSize=1000)
    assert (clamped["page"], clamped["pageSize"], len(clamped["users"])) == (1, 200, 3)
    ignored = await admin.ok("identity.listUsers", page="x", pageSize="y")
    assert (ignored["page"], ignored["pageSize"]) == (1, 50)


async def test_identity_needs_the_config(client_factory: ClientFactory) -> None:
    async with LocalServer() as srv:
        client = await client_factory(srv)
        error = await client.error("identity.login", username="a", password="b")
        assert error["message"] == "Identity management is not configured"


def test_secret_and_tokens_stay_out_of_reprs() -> None:
    server = identity_server()
    assert SECRET not in repr(server.config)
    assert SECRET not in repr(server.core.identity)


async def test_secrets_never_reach_the_server_logs(
    caplog: pytest.LogCaptureFixture, client_factory: ClientFactory
) -> None:
    caplog.set_level(logging.DEBUG)
    password, new_password = "Hunter2-secret-pw", "Hunter3-secret-pw"
    async with identity_server() as srv:
        admin = await client_factory(srv)
        result = await admin.ok("identity.loginWithSecret", secret=SECRET)
        user_id = await make_user(admin, "vera", password=password)
        vera, session = await login(srv, client_factory, "vera", password)
        await vera.error("identity.login", username="vera", password="wrong-" + password)
        await vera.ok("identity.changePassword", userId=user_id, currentPassword=password,
                      newPassword=new_password)  # fmt: skip
        await (await client_factory(srv)).error("auth.login", token=session["token"])
        assert srv.core.identity is not None
        reprs = [repr(srv.config), repr(srv.core.identity), repr(vera_session(srv, user_id))]
    server_logs = [
        r.getMessage() + (r.exc_text or "")
        for r in caplog.records
        if r.name.startswith(("noex_client", "websockets.server"))
    ]
    secrets = (SECRET, password, new_password, result["token"], session["token"])
    for text in [*server_logs, *reprs]:
        assert not any(s in text for s in secrets), text


def vera_session(server: LocalServer, user_id: str) -> object:
    return next(
        c.session
        for c in server.core.connections.values()
        if c.session is not None and c.session.user_id == user_id
    )


async def test_store_buckets_hides_system_buckets(client_factory: ClientFactory) -> None:
    hidden = {"name": "_internal", "schema": {"x": {"type": "string"}}}
    async with LocalServer(
        buckets=[hidden, {"name": "notes", "schema": {}}],
        auth={"builtIn": True, "adminSecret": SECRET},
    ) as srv:
        admin = await client_factory(srv)
        await admin.ok("identity.loginWithSecret", secret=SECRET)
        assert await admin.ok("store.buckets") == {"count": 1, "names": ["notes"]}
        assert (await admin.error("store.all", bucket="_internal"))["message"] == (
            'Cannot access system bucket "_internal" directly'
        )


async def test_python_options_and_restart_keeping_data(client_factory: ClientFactory) -> None:
    async with LocalServer(identity=IdentityConfig(admin_secret=SECRET)) as srv:
        admin = await client_factory(srv)
        await admin.ok("identity.loginWithSecret", secret=SECRET)
        user_id = await make_user(admin, "walt", "writer")
        _, session = await login(srv, client_factory, "walt")
        await srv.restart(keep_data=True)
        resumed = await client_factory(srv)
        assert (await resumed.ok("auth.login", token=session["token"]))["roles"] == ["writer"]
        await srv.restart()
        fresh = await client_factory(srv)
        assert (await fresh.error("auth.login", token=session["token"]))["message"] == (
            "Invalid token"
        )
        await fresh.ok("identity.loginWithSecret", secret=SECRET)
        assert (await fresh.error("identity.getUser", userId=user_id))["code"] == "NOT_FOUND"


def test_identity_config_errors_name_the_key() -> None:
    with pytest.raises(ConfigError, match="loginRateLimit"):
        IdentityConfig.from_config({"adminSecret": "s", "loginRateLimit": {"max": 1}})
    with pytest.raises(ConfigError, match="sessionTtl"):
        IdentityConfig.from_config({"adminSecret": "s", "sessionTtl": 0})
    with pytest.raises(ConfigError, match="unknown built-in identity key"):
        IdentityConfig.from_config({"adminSecret": "s", "sessions": {}})
    with pytest.raises(ConfigError, match="either token auth or built-in identity"):
        LocalServer(auth={"sessions": {}}, identity=IdentityConfig(admin_secret="s"))
    ignored = IdentityConfig.from_config(
        {"builtIn": True, "adminSecret": "s", "passwordMinLength": 12, "maxSessionsPerUser": 1}
    )
    assert ignored.session_ttl_ms == 86_400_000
