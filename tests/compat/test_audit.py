"""``client.audit`` against the recorded real server and LocalServer's audit log:
``query(filter)`` returns the list of entries, newest first."""

from __future__ import annotations

import pytest

from noex_client import NoexClientError
from tests.compat.servers import KINDS, session

ENTRY_KEYS = {"timestamp", "userId", "sessionId", "operation", "resource", "result"}


@pytest.mark.parametrize("kind", KINDS)
async def test_query_returns_the_entries(kind: str) -> None:
    async with session(kind, "audit") as (client, _ids):
        await client.auth.login("writer")
        await client.store.bucket("users").insert({"name": "x"})
        with pytest.raises(NoexClientError) as info:
            await client.store.bucket("users").insert({})
        assert info.value.code == "VALIDATION_ERROR"
        assert info.value.details == [
            {"field": "name", "message": "Field is required", "code": "required"}
        ]
        with pytest.raises(NoexClientError) as info:
            await client.audit.query()  # admin tier
        assert info.value.code == "FORBIDDEN"

        await client.auth.login("admin")
        await client.store.define_bucket(
            "logs", {"key": "id", "schema": {"id": {"type": "string", "generated": "uuid"}}}
        )
        entries = await client.audit.query()
        assert isinstance(entries, list)
        assert all(set(entry) >= ENTRY_KEYS for entry in entries)
        assert entries[0]["operation"] == "store.defineBucket"  # newest first
        by_user = await client.audit.query({"userId": "writer-1"})
        assert {e["userId"] for e in by_user} == {"writer-1"}
        failed = await client.audit.query({"operation": "store.insert", "result": "error"})
        assert [e["result"] for e in failed] == ["error"]
        assert "Field is required" in failed[0]["error"]
        assert len(await client.audit.query({"limit": 1})) == 1
        assert await client.audit.query({"from": 0, "to": 1}) == []
        with pytest.raises(NoexClientError) as info:
            await client.audit.query({"result": "maybe"})
        assert str(info.value) == 'Invalid "result": expected "success" or "error"'
