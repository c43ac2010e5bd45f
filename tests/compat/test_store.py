"""``client.store`` and ``BucketAPI``, called as the published README shows, against LocalServer.

Every published method is called once with the published argument forms, and
the returned shape is what the published client returns (checked by running it
as a black box against the same server).
"""

from __future__ import annotations

from typing import Any

import pytest

from noex_client import NoexClientError
from tests.client.helpers import until
from tests.compat.servers import local

META = {"_version", "_createdAt", "_updatedAt"}


async def test_bucket_crud_queries_and_aggregations_return_the_published_shapes() -> None:
    async with local() as (_server, client):
        users = client.store.bucket("users")  # a handle; no request
        alice = await users.insert({"name": "Alice", "age": 30, "role": "admin"})
        assert isinstance(alice, dict)
        assert set(alice) >= META
        assert alice["_version"] == 1
        assert await users.get(alice["id"]) == alice
        assert await users.get("missing") is None
        alice = await users.update(alice["id"], {"age": 31})
        assert (alice["age"], alice["_version"]) == (31, 2)
        bob = await users.insert({"name": "Bob", "age": 20, "role": "user"})

        everyone = await users.all()
        assert [u["name"] for u in everyone] == ["Alice", "Bob"]
        assert await users.where({"role": "admin"}) == [alice]
        assert await users.find_one({"name": "Bob"}) == bob
        assert await users.find_one({"name": "Zed"}) is None
        assert await users.count() == 2
        assert await users.count({"role": "user"}) == 1
        assert await users.first(1) == [alice]
        assert await users.last(1) == [bob]

        page = await users.paginate(limit=1)
        assert page == {"records": [alice], "hasMore": True, "nextCursor": alice["id"]}
        page = await users.paginate(limit=1, after=page["nextCursor"])
        assert (page["records"], page["hasMore"]) == ([bob], False)

        # Numbers come back as the server sent them: 51, not 51.0.
        total = await users.sum("age")
        assert (total, type(total)) == (51, int)
        assert await users.sum("age", {"role": "admin"}) == 31
        assert await users.avg("age") == 25.5
        assert await users.min("age") == 20
        assert await users.max("age") == 31
        assert await users.max("age", {"role": "nobody"}) is None
        assert await users.avg("age", {"role": "nobody"}) == 0

        await users.delete(bob["id"])  # returns None, also for a missing key
        await users.delete("missing")
        await users.clear()  # returns None
        assert await users.count() == 0


async def test_subscriptions_callbacks_and_synchronous_unsubscribe() -> None:
    async with local() as (_server, client):
        seen: list[Any] = []
        unsub = await client.store.subscribe("all-users", lambda data: seen.append(data))
        assert callable(unsub)
        assert seen == [[]]  # the initial data, before subscribe returns
        await client.store.bucket("users").insert({"name": "Carol", "role": "admin"})
        await until(lambda: len(seen) == 2)
        assert [u["name"] for u in seen[1]] == ["Carol"]
        assert unsub() is None  # synchronous

        admins: list[Any] = []
        await client.store.subscribe(
            "users-by-role", lambda rows: admins.append(rows), params={"role": "admin"}
        )
        assert [u["name"] for u in admins[0]] == ["Carol"]

        # By the server-assigned id (the second subscription of this server).
        await client.store.unsubscribe("sub-2")
        with pytest.raises(NoexClientError) as info:
            await client.store.unsubscribe("sub-2")
        assert info.value.code == "NOT_FOUND"
        assert str(info.value) == 'Subscription "sub-2" not found'


async def test_a_callback_raising_on_the_initial_data_propagates_and_unsubscribes() -> None:
    async with local() as (_server, client):

        def broken(data: Any) -> None:
            raise RuntimeError("cb boom")

        with pytest.raises(RuntimeError, match="cb boom"):
            await client.store.subscribe("all-users", broken)
        for _ in range(100):  # the unsubscribe goes out in the background
            stats = await client.request("server.stats")
            if stats["connections"]["totalStoreSubscriptions"] == 0:
                break
        assert stats["connections"]["totalStoreSubscriptions"] == 0


async def test_transactions_and_administration_return_the_server_json() -> None:
    async with local() as (_server, client):
        result = await client.store.transaction(
            [
                {"op": "insert", "bucket": "users", "data": {"id": "user-1", "name": "U"}},
                {"op": "update", "bucket": "users", "key": "user-1", "data": {"age": 40}},
                {"op": "get", "bucket": "users", "key": "user-1"},
            ]
        )
        assert [r["index"] for r in result["results"]] == [0, 1, 2]
        assert result["results"][2]["data"]["age"] == 40

        config = {"key": "sku", "schema": {"sku": {"type": "string"}}}
        assert await client.store.define_bucket("p", config) == {"name": "p", "created": True}
        updated = await client.store.update_bucket("p", {"addFields": {"x": {"type": "number"}}})
        assert updated == {"name": "p", "updated": True}
        schema = await client.store.get_bucket_schema("p")
        assert schema["name"] == "p"
        assert set(schema["config"]["schema"]) == {"sku", "x"}
        defined = await client.store.define_query("q", {"bucket": "p"})
        assert defined == {"name": "q", "defined": True}
        queries = await client.store.list_queries()
        assert {q["name"] for q in queries["queries"]} == {"all-users", "users-by-role", "q"}
        assert await client.store.undefine_query("q") == {"name": "q", "undefined": True}
        assert await client.store.buckets() == {"count": 2, "names": ["users", "p"]}
        stats = await client.store.stats()
        assert {"buckets", "records", "indexes", "queries"} <= set(stats)
        assert await client.store.drop_bucket("p") == {"name": "p", "dropped": True}


async def test_errors_carry_the_server_code_and_the_message_as_str() -> None:
    async with local() as (_server, client):
        with pytest.raises(NoexClientError) as info:
            await client.store.bucket("nobucket").all()
        assert info.value.code == "BUCKET_NOT_DEFINED"
        assert str(info.value) == 'Bucket "nobucket" is not defined'
        assert info.value.details is None
