"""Argument shaping and push handling, checked against scripted recorded exchanges.

Each test scripts the exact wire frames a real server would see and send; the
:class:`ReplayServer` answers only when the client sends exactly those frames.
"""

from __future__ import annotations

from typing import Any

import pytest

from noex_client import ClientOptions, NoexClient, NoexClientError
from tests.client.helpers import EventLog, until
from tests.client.replay_server import ReplayServer, ok, replaying, scripted


async def test_store_push_that_precedes_the_subscribe_result_is_delivered_after_it() -> None:
    push = {"type": "push", "channel": "subscription", "subscriptionId": "sub-1", "data": [1]}
    async with replaying(
        ({"id": 1, "type": "store.subscribe", "query": "q"},
         [push, ok(1, {"subscriptionId": "sub-1", "data": []})]),
    ) as (_server, client):  # fmt: skip
        seen: list[Any] = []
        await client.store.subscribe("q", seen.append)
        await until(lambda: len(seen) == 2)
        assert seen == [[], [1]]


async def test_rules_push_that_precedes_the_subscribe_result_is_delivered() -> None:
    event = {"id": "e1", "topic": "a.b", "data": {}, "timestamp": 1, "source": "api"}
    push = {"type": "push", "channel": "event", "subscriptionId": "sub-7",
            "data": {"topic": "a.b", "event": event}}  # fmt: skip
    async with replaying(
        ({"id": 1, "type": "rules.subscribe", "pattern": "a.*"},
         [push, ok(1, {"subscriptionId": "sub-7"})]),
    ) as (_server, client):  # fmt: skip
        seen: list[tuple[Any, str]] = []
        await client.rules.subscribe("a.*", lambda e, t: seen.append((e, t)))
        await until(lambda: len(seen) == 1)
        assert seen == [(event, "a.b")]


async def test_async_callbacks_and_raising_callbacks_on_pushes() -> None:
    pushes = [
        {"type": "push", "channel": "subscription", "subscriptionId": "sub-1", "data": [n]}
        for n in (1, 2)
    ]
    async with replaying(
        ({"id": 1, "type": "store.subscribe", "query": "q"},
         [ok(1, {"subscriptionId": "sub-1", "data": []}), *pushes]),
    ) as (_server, client):  # fmt: skip
        log = EventLog(client)
        seen: list[Any] = []

        async def on_data(data: Any) -> None:
            seen.append(data)
            if data == [1]:
                raise ValueError("boom")

        await client.store.subscribe("q", on_data)
        await until(lambda: len(seen) == 3)
        (error,) = (await log.wait("error"))[0]
        assert isinstance(error, ValueError)
        assert client.is_connected


async def test_identity_uses_camel_case_wire_fields_and_translates_the_seed_shapes() -> None:
    grant = {"type": "identity.grant", "subjectType": "user", "subjectId": "u1",
             "resourceType": "bucket", "resourceName": "users", "operations": ["read"]}  # fmt: skip
    revoke = {"type": "identity.revoke", "subjectType": "role", "subjectId": "r1",
              "resourceType": "topic", "resourceName": "orders", "operations": ["read", "write"]}  # fmt: skip
    async with replaying(
        ({"id": 1, **grant}, [ok(1, {"granted": True})]),
        ({"id": 2, **revoke}, [ok(2, {"revoked": True})]),
        ({"id": 3, "type": "identity.createUser", "username": "alice", "password": "s3cretpass",
          "displayName": "Alice"}, [ok(3, {"id": "u1", "username": "alice"})]),
        ({"id": 4, "type": "identity.listUsers", "pageSize": 20}, [ok(4, {"users": []})]),
        ({"id": 5, "type": "identity.updateUser", "userId": "u1", "displayName": "Al"},
         [ok(5, {"id": "u1"})]),
        ({"id": 6, "type": "identity.changePassword", "userId": "u1",
          "currentPassword": "old-pass1", "newPassword": "new-pass1"}, [ok(6, {"changed": True})]),
    ) as (_server, client):  # fmt: skip
        # The published client's documented shape ...
        seed = {"userId": "u1", "resource": "bucket:users", "permission": "read"}
        await client.identity.grant(seed)
        # ... and snake_case keys both become the wire shape.
        entry = {"role_id": "r1", "resource": "topic:orders", "permissions": ["read", "write"]}
        await client.identity.revoke(entry)
        user = {"username": "alice", "password": "s3cretpass", "display_name": "Alice"}
        assert (await client.identity.create_user(user))["id"] == "u1"
        assert await client.identity.list_users(page=None) == {"users": []}
        await client.identity.update_user("u1", {"displayName": "Al"})
        await client.identity.change_password("u1", "old-pass1", "new-pass1")


async def test_bad_arguments_raise_typed_errors_before_sending() -> None:
    async with replaying() as (server, client):
        with pytest.raises(ValueError, match="resource"):
            await client.identity.grant({"userId": "u1", "resource": "users"})
        with pytest.raises(ValueError, match="reserved"):
            await client.identity.create_user({"username": "a", "type": "x"})
        with pytest.raises(TypeError, match="audit filter"):
            await client.audit.query([("limit", 1)])  # type: ignore[arg-type]
        assert server.matched == []


async def test_audit_filter_sends_only_present_keys() -> None:
    async with replaying(
        ({"id": 1, "type": "audit.query", "userId": "admin-1", "from": 5, "limit": 2},
         [ok(1, {"entries": []})]),
        ({"id": 2, "type": "audit.query"}, [ok(2, {"entries": [{"operation": "x"}]})]),
    ) as (_server, client):  # fmt: skip
        query = {"user_id": "admin-1", "from": 5, "limit": 2, "result": None}
        assert await client.audit.query(query) == []
        assert await client.audit.query() == [{"operation": "x"}]


async def test_set_fact_sends_an_explicit_null_and_update_bucket_translates_schema() -> None:
    async with replaying(
        ({"id": 1, "type": "rules.setFact", "key": "k", "value": None},
         [ok(1, {"key": "k", "value": None, "version": 1})]),
        ({"id": 2, "type": "store.updateBucket", "name": "users",
          "updates": {"addFields": {"email": {"type": "string"}}, "addIndexes": ["email"]}},
         [ok(2, {"name": "users", "updated": True})]),
        ({"id": 3, "type": "procedures.call", "name": "p", "input": {}},
         [ok(3, {"success": True})]),
    ) as (_server, client):  # fmt: skip
        assert (await client.rules.set_fact("k", None))["version"] == 1
        updates = {"schema": {"email": {"type": "string"}}, "indexes": ["email"]}
        assert (await client.store.update_bucket("users", updates))["updated"] is True
        assert await client.procedures.call("p") == {"success": True}


def test_api_groups_exist_on_the_client_with_plain_reprs() -> None:
    client = NoexClient("ws://127.0.0.1:1/")
    assert repr(client.auth) == "AuthAPI()"
    assert repr(client.identity) == "IdentityAPI()"
    assert repr(client.audit) == "AuditAPI()"
    assert repr(client.procedures) == "ProceduresAPI()"
    assert repr(client.server) == "ServerAPI()"


async def test_replay_server_rejects_frames_that_were_not_recorded() -> None:
    async with ReplayServer(
        scripted(({"id": 1, "type": "store.get", "bucket": "users", "key": "a"},
                  [ok(1, {"id": "a"})]))
    ) as server:  # fmt: skip
        async with NoexClient(server.url("A"), ClientOptions(reconnect=False)) as client:
            users = client.store.bucket("users")
            with pytest.raises(NoexClientError) as info:
                await users.get("b")
            assert info.value.code == "REPLAY_MISMATCH"
            assert await users.get("a") == {"id": "a"}
            with pytest.raises(NoexClientError) as again:
                await users.get("a")  # each recorded request answers once
            assert again.value.code == "REPLAY_MISMATCH"
        assert server.mismatches == [
            {"id": 1, "type": "store.get", "bucket": "users", "key": "b"},
            {"id": 3, "type": "store.get", "bucket": "users", "key": "a"},
        ]
        assert server.matched == [2]


async def test_replay_server_rewrites_ids_of_late_answers() -> None:
    # Recorded: two pipelined requests, both answers after the second send.
    transcript = scripted(
        ({"id": 7, "type": "store.count", "bucket": "a"}, []),
        ({"id": 8, "type": "store.count", "bucket": "b"}, [ok(7, 1), ok(8, 2)]),
    )
    async with ReplayServer(transcript) as server:
        async with NoexClient(server.url("A"), ClientOptions(reconnect=False)) as client:
            assert await client.store.bucket("a").count() == 1
            assert await client.store.bucket("b").count() == 2
        assert server.mismatches == []


def test_wire_names() -> None:
    from noex_client._api._base import camel, camel_keys

    assert camel("page_size") == "pageSize"
    assert camel("new_owner_id") == "newOwnerId"
    assert camel("displayName") == "displayName"
    assert camel("from") == "from"
    assert camel("_expiresAt") == "_expiresAt"
    assert camel_keys(None, "x") == {}
    with pytest.raises(TypeError, match="keys must be strings"):
        camel_keys({1: "a"}, "filter")  # type: ignore[dict-item]
