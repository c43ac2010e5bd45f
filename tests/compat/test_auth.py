"""``client.auth`` and automatic login, as the published README shows, against LocalServer."""

from __future__ import annotations

import pytest

from noex_client import AuthOptions, ClientOptions, NoexClientError
from tests.compat.servers import local, replay

SESSIONS = {
    "sessions": {
        "admin-token": {"userId": "admin-1", "roles": ["admin"]},
        "short-token": {"userId": "u-2", "roles": ["reader"], "expiresAt": 4_102_444_800_000},
    }
}


async def test_login_whoami_logout() -> None:
    async with local(auth=SESSIONS) as (_server, client):
        assert await client.auth.whoami() is None  # not authenticated
        session = await client.auth.login("admin-token")
        assert session == {"userId": "admin-1", "roles": ["admin"], "expiresAt": None}
        # whoami: the session without "authenticated"; expiresAt only when it expires.
        assert await client.auth.whoami() == {"userId": "admin-1", "roles": ["admin"]}
        await client.auth.login("short-token")
        assert await client.auth.whoami() == {
            "userId": "u-2",
            "roles": ["reader"],
            "expiresAt": 4_102_444_800_000,
        }
        await client.auth.logout()  # returns None
        assert await client.auth.whoami() is None
        with pytest.raises(NoexClientError) as info:
            await client.auth.login("nope")
        assert (info.value.code, str(info.value)) == ("UNAUTHORIZED", "Invalid token")


async def test_token_login_runs_on_connect() -> None:
    options = ClientOptions(auth=AuthOptions(token="admin-token"))
    async with local(options, auth=SESSIONS) as (_server, client):
        assert client.is_connected
        assert await client.auth.whoami() == {"userId": "admin-1", "roles": ["admin"]}
        assert await client.store.bucket("users").count() == 0


async def test_whoami_of_a_resumed_identity_session() -> None:
    # Recorded: a second connection resumes alice's identity session with auth.login.
    async with replay("identity", "D") as (_server, client):
        session = await client.auth.login("00b2fa08-b822-4060-8fff-0b1954dfb7f0")
        assert set(session) == {"userId", "roles", "expiresAt"}
        assert await client.auth.whoami() == {
            "userId": "68aaa0b1-2932-44ca-bf62-435d019c876e",
            "roles": ["writer"],
            "expiresAt": 1795493789076,
        }
