"""``client.store`` and ``BucketAPI`` against the in-process server."""

from __future__ import annotations

from typing import Any

import pytest

from noex_client import (
    AlreadyExistsError,
    BucketNotDefinedError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    QueryNotDefinedError,
    ValidationError,
)
from tests.client.helpers import until
from tests.client.local import local_client


async def test_crud_returns_records_with_metadata() -> None:
    async with local_client() as (_server, client):
        users = client.store.bucket("users")
        alice = await users.insert({"name": "Alice", "age": 30})
        assert alice["name"] == "Alice"
        assert alice["role"] == "user"  # schema default
        assert alice["_version"] == 1
        assert isinstance(alice["id"], str)
        assert await users.get(alice["id"]) == alice
        updated = await users.update(alice["id"], {"age": 31})
        assert (updated["age"], updated["_version"]) == (31, 2)
        await users.delete(alice["id"])
        assert await users.get(alice["id"]) is None
        await users.delete("missing")  # no error for a missing key


async def test_queries_and_aggregations() -> None:
    async with local_client() as (_server, client):
        users = client.store.bucket("users")
        for name, age in (("a", 10), ("b", 20), ("c", 30)):
            await users.insert({"name": name, "age": age, "role": "admin" if age > 15 else "user"})
        assert [u["name"] for u in await users.all()] == ["a", "b", "c"]
        assert [u["name"] for u in await users.where({"role": "admin"})] == ["b", "c"]
        found = await users.find_one({"age": {"$gte": 20}})
        assert found is not None
        assert found["name"] == "b"
        assert await users.find_one({"name": "zzz"}) is None
        assert await users.count() == 3
        assert await users.count({"role": "admin"}) == 2
        assert [u["name"] for u in await users.first(2)] == ["a", "b"]
        assert [u["name"] for u in await users.last(2)] == ["b", "c"]
        total = await users.sum("age")
        assert total == 60
        assert isinstance(total, int)  # as the server sent it, like the published client
        assert await users.sum("age", {"role": "admin"}) == 50.0
        assert await users.avg("age") == 20.0
        assert await users.min("age") == 10.0
        assert await users.max("age", {"role": "user"}) == 10.0
        assert await users.min("age", {"name": "nobody"}) is None
        assert await users.max("age", {"name": "nobody"}) is None
        assert await users.avg("age", {"name": "nobody"}) == 0.0
        await users.clear()  # returns None, as published
        assert await users.count() == 0


async def test_paginate_walks_every_page_and_never_sends_a_null_cursor() -> None:
    async with local_client() as (_server, client):
        users = client.store.bucket("users")
        keys = [(await users.insert({"name": f"u{i}"}))["id"] for i in range(5)]
        sent: list[dict[str, Any]] = []
        client.on("request", lambda info: sent.append(info.fields))
        seen: list[str] = []
        after = None
        while True:
            page = await users.paginate(limit=2, after=after)
            seen += [r["id"] for r in page["records"]]
            if not page["hasMore"]:
                break
            after = page["nextCursor"]
        assert seen == keys
        assert sent[0].get("after") is None  # None is omitted on the wire (see conformance)
        assert [f.get("after") for f in sent[1:]] == [keys[1], keys[3]]


async def test_server_errors_are_typed() -> None:
    async with local_client() as (_server, client):
        with pytest.raises(BucketNotDefinedError, match="nope"):
            await client.store.bucket("nope").all()
        with pytest.raises(ValidationError) as info:
            await client.store.bucket("users").insert({"age": 1})
        assert info.value.details[0]["field"] == "name"
        with pytest.raises(InternalServerError):
            await client.store.bucket("users").update("missing", {"age": 1})
        with pytest.raises(QueryNotDefinedError):
            await client.store.subscribe("no-such-query", lambda _d: None)
        with pytest.raises(NotFoundError):
            await client.store.unsubscribe("sub-999")


def test_bucket_handle_rejects_bad_names_and_models() -> None:
    from noex_client import NoexClient

    client = NoexClient("ws://127.0.0.1:1/")
    with pytest.raises(ValueError, match="bucket name"):
        client.store.bucket("")
    with pytest.raises(TypeError, match="bucket name"):
        client.store.bucket(42)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match=r"msgspec\.Struct"):
        client.store.bucket("users", model=dict)  # type: ignore[type-var]
    assert repr(client.store.bucket("users")) == "BucketAPI(name='users')"


async def test_transaction_returns_per_operation_results_and_conflicts() -> None:
    async with local_client() as (_server, client):
        users = client.store.bucket("users")
        alice = await users.insert({"name": "Alice"})
        result = await client.store.transaction(
            [
                {"op": "get", "bucket": "users", "key": alice["id"]},
                {"op": "update", "bucket": "users", "key": alice["id"], "data": {"age": 5}},
                {"op": "insert", "bucket": "users", "data": {"name": "Bob"}},
                {"op": "count", "bucket": "users"},
            ]
        )
        assert [r["index"] for r in result["results"]] == [0, 1, 2, 3]
        assert result["results"][1]["data"]["age"] == 5
        assert result["results"][3]["data"] == 2
        with pytest.raises(ConflictError):
            await client.store.transaction(
                [{"op": "insert", "bucket": "users", "data": {"id": alice["id"], "name": "X"}}]
            )
        with pytest.raises(ValidationError, match="operations"):
            await client.store.transaction([])


async def test_bucket_and_query_administration() -> None:
    async with local_client() as (_server, client):
        config = {"key": "sku", "schema": {"sku": {"type": "string"}, "price": {"type": "number"}}}
        assert await client.store.define_bucket("products", config) == {
            "name": "products",
            "created": True,
        }
        with pytest.raises(AlreadyExistsError):
            await client.store.define_bucket("products", config)
        schema = await client.store.get_bucket_schema("products")
        assert schema["name"] == "products"
        assert schema["config"]["key"] == "sku"
        # The published client's ``{"schema": ...}`` shape goes out as ``addFields``.
        updated = await client.store.update_bucket(
            "products", {"schema": {"stock": {"type": "number"}}}
        )
        assert updated == {"name": "products", "updated": True}
        schema = await client.store.get_bucket_schema("products")
        assert "stock" in schema["config"]["schema"]
        assert await client.store.define_query(
            "cheap", {"bucket": "products", "filter": {"price": {"$lt": 10}}}
        ) == {"name": "cheap", "defined": True}
        names = [q["name"] for q in (await client.store.list_queries())["queries"]]
        assert "cheap" in names
        assert (await client.store.buckets())["names"] == ["users", "products"]
        stats = await client.store.stats()
        assert stats["buckets"]["count"] == 2
        assert await client.store.undefine_query("cheap") == {"name": "cheap", "undefined": True}
        assert await client.store.drop_bucket("products") == {"name": "products", "dropped": True}
        with pytest.raises(BucketNotDefinedError):
            await client.store.get_bucket_schema("products")


async def test_subscribe_delivers_initial_and_whole_new_results() -> None:
    async with local_client() as (_server, client):
        users = client.store.bucket("users")
        await users.insert({"name": "a"})
        seen: list[Any] = []
        unsubscribe = await client.store.subscribe("all-users", seen.append)
        assert [[u["name"] for u in r] for r in seen] == [["a"]]
        await users.insert({"name": "b"})
        await until(lambda: len(seen) == 2)
        assert [u["name"] for u in seen[1]] == ["a", "b"]  # the whole result, not a diff
        unsubscribe()
        await users.insert({"name": "c"})
        await users.count()  # a round trip after the write: a push would have come first
        assert len(seen) == 2


async def test_subscribe_with_params_on_a_declarative_query() -> None:
    async with local_client() as (_server, client):
        await client.store.define_query(
            "by-role", {"bucket": "users", "filter": {"role": "{{ params.role }}"}}
        )
        users = client.store.bucket("users")
        await users.insert({"name": "a", "role": "admin"})
        await users.insert({"name": "b"})
        seen: list[Any] = []
        await client.store.subscribe("by-role", seen.append, params={"role": "admin"})
        assert [[u["name"] for u in r] for r in seen] == [["a"]]
