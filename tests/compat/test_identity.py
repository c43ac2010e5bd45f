"""``client.identity`` against the recorded real server and against LocalServer's
built-in identity: every published method, called with the published argument
forms, returns the published shape (``None`` for acknowledgements, lists for
roles and ACL entries, the owner itself)."""

from __future__ import annotations

from typing import Any

import pytest

from noex_client import AuthOptions, ClientOptions, CredentialOptions, NoexClient, NoexClientError
from tests.compat.servers import KINDS, session

SECRET = "test-identity-secret"
#: The ids the recording's server gave (a LocalServer gives its own).
RECORDED = {
    "alice": "68aaa0b1-2932-44ca-bf62-435d019c876e",
    "bob": "407ae8cb-1f89-4c00-a09d-3ab747e6e400",
    "auditor": "8f899a99-8ae5-4656-aff1-139d721abf5a",
}
REPORTS = {"key": "id", "schema": {"id": {"type": "string", "generated": "uuid"},
                                   "title": {"type": "string"}}}  # fmt: skip
AUDITOR = {
    "name": "auditor",
    "description": "Reads audit",
    "permissions": [{"allow": ["store.get", "store.all"], "buckets": ["reports"]}],
}


def grant(bob: str, *operations: str) -> dict[str, Any]:
    return {"subjectType": "user", "subjectId": bob, "resourceType": "bucket",
            "resourceName": "reports", "operations": list(operations)}  # fmt: skip


async def bob_reads_reports(admin: NoexClient) -> dict[str, str]:
    """The recorded state when bob first logs in: bob (password reset) may read ``reports``."""
    await admin.identity.login_with_secret(SECRET)
    bob = await admin.identity.create_user({"username": "bob", "password": "BobPass456"})
    await admin.store.define_bucket("reports", REPORTS)
    await admin.identity.grant(grant(bob["id"], "read"))
    return {"bob": bob["id"]}


async def before_the_revoke(admin: NoexClient) -> dict[str, str]:
    """The recorded state at the revoke: alice, bob with read+write on ``reports``, auditor."""
    ids = await bob_reads_reports(admin)
    alice = await admin.identity.create_user({"username": "alice", "password": "AlicePass1"})
    auditor = await admin.identity.create_role(AUDITOR)
    await admin.identity.grant(grant(ids["bob"], "read", "write"))
    return {**ids, "alice": alice["id"], "auditor": auditor["id"]}


@pytest.mark.parametrize("kind", KINDS)
async def test_administration_as_the_superadmin(kind: str) -> None:
    async with session(kind, "identity", "A") as (client, _ids):
        with pytest.raises(NoexClientError) as info:
            await client.identity.whoami()  # not logged in: the server refuses
        assert (info.value.code, str(info.value)) == ("UNAUTHORIZED", "Authentication required")
        assert await client.auth.whoami() is None
        login = await client.identity.login_with_secret(SECRET)
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
        assert (alice["username"], alice["enabled"]) == ("alice", True)
        bob = await client.identity.create_user({"username": "bob", "password": "BobPass123"})
        with pytest.raises(NoexClientError) as info:
            await client.identity.create_user({"username": "alice", "password": "whatever12"})
        assert (info.value.code, str(info.value)) == (
            "ALREADY_EXISTS",
            'User "alice" already exists',
        )
        assert (await client.identity.get_user(alice["id"]))["email"] == "alice@example.com"
        updated = await client.identity.update_user(alice["id"], {"displayName": "Alice A."})
        assert updated["displayName"] == "Alice A."
        page = await client.identity.list_users(page=1, page_size=1)
        assert (page["page"], page["pageSize"], len(page["users"])) == (1, 1, 1)
        assert (await client.identity.disable_user(bob["id"]))["enabled"] is False
        assert (await client.identity.enable_user(bob["id"]))["enabled"] is True
        await client.identity.reset_password(bob["id"], "BobPass456")

        roles = await client.identity.list_roles()
        assert isinstance(roles, list)
        assert {"superadmin", "admin", "writer", "reader"} <= {r["name"] for r in roles}
        auditor = await client.identity.create_role(AUDITOR)
        changed = await client.identity.update_role(auditor["id"], {"description": "Reads reports"})
        assert changed["description"] == "Reads reports"
        await client.identity.assign_role(alice["id"], "writer")
        await client.identity.assign_role(alice["id"], "auditor")
        assert [r["name"] for r in await client.identity.get_user_roles(alice["id"])] == [
            "writer",
            "auditor",
        ]
        await client.identity.remove_role(alice["id"], "auditor")
        assert [r["name"] for r in await client.identity.get_user_roles(alice["id"])] == ["writer"]

        await client.store.define_bucket("reports", REPORTS)
        owner = await client.identity.get_owner("bucket", "reports")
        assert owner == {
            "userId": "__superadmin__",
            "username": "__superadmin__",
            "resourceType": "bucket",
            "resourceName": "reports",
        }
        await client.identity.grant(grant(bob["id"], "read"))
        acl = await client.identity.get_acl("bucket", "reports")
        assert [(e["subjectId"], e["operations"], e["isOwner"]) for e in acl] == [
            ("__superadmin__", [], True),
            (bob["id"], ["read"], False),
        ]


@pytest.mark.parametrize("kind", KINDS)
async def test_a_user_logs_in_with_credentials_on_connect(kind: str) -> None:
    options = ClientOptions(auth=AuthOptions(credentials=CredentialOptions("bob", "BobPass456")))
    prepared = session(kind, "identity", "B", options, recorded=RECORDED, prepare=bob_reads_reports)
    async with prepared as (bob, ids):
        # The recorded connection tried the old password first; the client sends the new one.
        me = await bob.identity.whoami()
        assert (me["userId"], me["roles"]) == (ids["bob"], [])
        access = await bob.identity.my_access()
        assert access["resources"][0]["operations"] == ["read"]


@pytest.mark.parametrize("kind", KINDS)
async def test_ownership_transfer_and_cleanup(kind: str) -> None:
    # The recorded session from the revoke on (seq 100), logged in as the superadmin.
    prepared = session(
        kind, "identity", "A", start=100, recorded=RECORDED, prepare=before_the_revoke,
        secret=SECRET if kind == "local" else None,
    )  # fmt: skip
    async with prepared as (client, ids):
        revoke = {
            "subjectType": "user",
            "subjectId": ids["bob"],
            "resourceType": "bucket",
            "resourceName": "reports",
        }
        await client.identity.revoke(revoke)  # all operations
        await client.identity.transfer_owner("bucket", "reports", ids["bob"])
        owner = await client.identity.get_owner("bucket", "reports")
        assert owner is not None
        assert owner["username"] == "bob"
        await client.identity.delete_role(ids["auditor"])
        await client.identity.delete_user(ids["alice"])
        with pytest.raises(NoexClientError) as info:
            await client.identity.delete_user("__superadmin__")
        assert info.value.code == "FORBIDDEN"
        await client.identity.logout()


@pytest.mark.parametrize("kind", KINDS)
async def test_session_refresh_password_change_and_logout(kind: str) -> None:
    prepared = session(kind, "identity", "B", recorded=RECORDED, prepare=bob_reads_reports)
    async with prepared as (bob, ids):
        login = await bob.identity.login("bob", "BobPass456")
        assert login["user"]["id"] == ids["bob"]
        refreshed = await bob.identity.refresh_session()
        assert set(refreshed) == {"token", "expiresAt", "user"}
        await bob.identity.change_password(ids["bob"], "BobPass456", "BobPass789")
        with pytest.raises(NoexClientError) as info:
            await bob.identity.refresh_session()
        assert (info.value.code, str(info.value)) == ("UNAUTHORIZED", "Invalid or expired session")
        await bob.identity.logout()
        assert await bob.auth.whoami() is None
