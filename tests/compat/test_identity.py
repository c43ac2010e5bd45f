"""``client.identity`` against the recorded real server (LocalServer has no built-in
identity yet): every published method, called with the published argument
forms, returns the published shape (``None`` for acknowledgements, lists for
roles and ACL entries, the owner itself)."""

from __future__ import annotations

import pytest

from noex_client import AuthOptions, ClientOptions, CredentialOptions, NoexClientError
from tests.compat.servers import replay

ALICE = "68aaa0b1-2932-44ca-bf62-435d019c876e"
BOB = "407ae8cb-1f89-4c00-a09d-3ab747e6e400"


async def test_administration_as_the_superadmin() -> None:
    async with replay("identity", "A") as (_server, client):
        with pytest.raises(NoexClientError) as info:
            await client.identity.whoami()  # not logged in: the server refuses
        assert (info.value.code, str(info.value)) == ("UNAUTHORIZED", "Authentication required")
        assert await client.auth.whoami() is None
        login = await client.identity.login_with_secret("test-identity-secret")
        assert set(login) == {"token", "expiresAt", "user"}
        me = await client.identity.whoami()  # as the server sends it
        assert (me["authenticated"], me["userId"]) == (True, "__superadmin__")

        alice = await client.identity.create_user(
            {
                "username": "alice",
                "password": "AlicePass1",
                "displayName": "Alice",
                "email": "alice@example.com",
            }
        )
        assert (alice["id"], alice["username"], alice["enabled"]) == (ALICE, "alice", True)
        bob = await client.identity.create_user({"username": "bob", "password": "BobPass123"})
        with pytest.raises(NoexClientError) as info:
            await client.identity.create_user({"username": "alice", "password": "whatever12"})
        assert (info.value.code, str(info.value)) == (
            "ALREADY_EXISTS",
            'User "alice" already exists',
        )
        assert (await client.identity.get_user(ALICE))["email"] == "alice@example.com"
        updated = await client.identity.update_user(ALICE, {"displayName": "Alice A."})
        assert updated["displayName"] == "Alice A."
        page = await client.identity.list_users(page=1, page_size=1)
        assert (page["page"], page["pageSize"], len(page["users"])) == (1, 1, 1)
        assert (await client.identity.disable_user(bob["id"]))["enabled"] is False
        assert (await client.identity.enable_user(bob["id"]))["enabled"] is True
        await client.identity.reset_password(BOB, "BobPass456")

        roles = await client.identity.list_roles()
        assert isinstance(roles, list)
        assert {"superadmin", "admin", "writer", "reader"} <= {r["name"] for r in roles}
        auditor = await client.identity.create_role(
            {
                "name": "auditor",
                "description": "Reads audit",
                "permissions": [{"allow": ["store.get", "store.all"], "buckets": ["reports"]}],
            }
        )
        changed = await client.identity.update_role(auditor["id"], {"description": "Reads reports"})
        assert changed["description"] == "Reads reports"
        await client.identity.assign_role(ALICE, "writer")
        await client.identity.assign_role(ALICE, "auditor")
        assert [r["name"] for r in await client.identity.get_user_roles(ALICE)] == [
            "writer",
            "auditor",
        ]
        await client.identity.remove_role(ALICE, "auditor")
        assert [r["name"] for r in await client.identity.get_user_roles(ALICE)] == ["writer"]

        schema = {"id": {"type": "string", "generated": "uuid"}, "title": {"type": "string"}}
        await client.store.define_bucket("reports", {"key": "id", "schema": schema})
        owner = await client.identity.get_owner("bucket", "reports")
        assert owner == {
            "userId": "__superadmin__",
            "username": "__superadmin__",
            "resourceType": "bucket",
            "resourceName": "reports",
        }
        await client.identity.grant(
            {
                "subjectType": "user",
                "subjectId": BOB,
                "resourceType": "bucket",
                "resourceName": "reports",
                "operations": ["read"],
            }
        )
        acl = await client.identity.get_acl("bucket", "reports")
        assert [(e["subjectId"], e["operations"], e["isOwner"]) for e in acl] == [
            ("__superadmin__", [], True),
            (BOB, ["read"], False),
        ]


async def test_a_user_logs_in_with_credentials_on_connect() -> None:
    options = ClientOptions(auth=AuthOptions(credentials=CredentialOptions("bob", "BobPass456")))
    async with replay("identity", "B", options) as (_server, bob):
        # The recorded connection tried the old password first; the client sends the new one.
        me = await bob.identity.whoami()
        assert (me["userId"], me["roles"]) == (BOB, [])
        access = await bob.identity.my_access()
        assert access["resources"][0]["operations"] == ["read"]


async def test_ownership_transfer_and_cleanup() -> None:
    # The recorded session from the revoke on (seq 100), logged in as the superadmin.
    async with replay("identity", "A", start=100) as (server, client):
        revoke = {
            "subjectType": "user",
            "subjectId": BOB,
            "resourceType": "bucket",
            "resourceName": "reports",
        }
        await client.identity.revoke(revoke)  # all operations
        await client.identity.transfer_owner("bucket", "reports", BOB)
        owner = await client.identity.get_owner("bucket", "reports")
        assert owner is not None
        assert owner["username"] == "bob"
        await client.identity.delete_role("8f899a99-8ae5-4656-aff1-139d721abf5a")
        await client.identity.delete_user(ALICE)
        with pytest.raises(NoexClientError) as info:
            await client.identity.delete_user("__superadmin__")
        assert info.value.code == "FORBIDDEN"
        await client.identity.logout()
        assert len(server.matched) == 7


async def test_session_refresh_password_change_and_logout() -> None:
    async with replay("identity", "B") as (_server, bob):
        await bob.identity.login("bob", "BobPass456")
        refreshed = await bob.identity.refresh_session()
        assert set(refreshed) == {"token", "expiresAt", "user"}
        await bob.identity.change_password(BOB, "BobPass456", "BobPass789")
        with pytest.raises(NoexClientError) as info:
            await bob.identity.refresh_session()
        assert (info.value.code, str(info.value)) == ("UNAUTHORIZED", "Invalid or expired session")
        await bob.identity.logout()
        assert await bob.auth.whoami() is None
