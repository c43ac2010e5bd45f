"""Server behaviour over the wire that the transcripts do not cover."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.client import connect

from noex_client.testing import AuthConfig, ConfigError, LocalServer, PermissionRule, Session
from noex_client.testing._store._values import now_ms
from tests.server.conftest import USERS, Client, ClientFactory


async def test_session_expiry_is_reported_once(client_factory: ClientFactory) -> None:
    expires = now_ms() + 30

    def validate(token: str) -> Session | None:
        return Session("u1", ("writer",), expires) if token == "t" else None

    async with LocalServer(buckets=[USERS], auth=AuthConfig(validate=validate)) as srv:
        client = await client_factory(srv)
        login = await client.ok("auth.login", token="t")
        assert login == {"userId": "u1", "roles": ["writer"], "expiresAt": expires}
        # Poll with a deadline until the session has expired.
        async with asyncio.timeout(5):
            while True:
                frame = await client.request("store.count", bucket="users")
                if frame["type"] == "error":
                    break
        assert frame["message"] == "Session expired"
        again = await client.error("store.count", bucket="users")
        assert again["message"] == "Authentication required"


async def test_async_validate_and_permission_rules(client_factory: ClientFactory) -> None:
    async def validate(token: str) -> Session | None:
        return Session(token, (token,))

    auth = AuthConfig(
        validate=validate,
        rules=[PermissionRule(role="ops", allow="store.*", buckets=("users",))],
        default="deny",
    )
    async with LocalServer(buckets=[USERS, {**USERS, "name": "other"}], auth=auth) as srv:
        client = await client_factory(srv)
        await client.ok("auth.login", token="ops")
        assert await client.ok("store.count", bucket="users") == 0
        denied = await client.error("store.count", bucket="other")
        assert (denied["code"], denied["message"]) == (
            "FORBIDDEN",
            "No permission for store.count on other",
        )


async def test_rate_limit_and_retry_after(client_factory: ClientFactory) -> None:
    async with LocalServer(rate_limit={"maxRequests": 2, "windowMs": 60_000}) as srv:
        client = await client_factory(srv)
        await client.ok("store.buckets")
        await client.ok("store.buckets")
        error = await client.error("store.buckets")
        retry = error["details"]["retryAfterMs"]
        assert 0 < retry <= 60_000
        assert error["message"] == f"Rate limit exceeded. Retry after {retry}ms"


async def test_error_details_can_be_hidden(client_factory: ClientFactory) -> None:
    async with LocalServer(buckets=[USERS], expose_error_details=False) as srv:
        client = await client_factory(srv)
        error = await client.error("store.insert", bucket="users", data={})
        assert error["code"] == "VALIDATION_ERROR"
        assert "details" not in error


async def test_transaction_pushes_once(server: LocalServer, client: Client) -> None:
    await client.ok("store.subscribe", query="all-users")
    ops = [{"op": "insert", "bucket": "users", "data": {"name": n}} for n in "abc"]
    await client.ok("store.transaction", operations=ops)
    push = await client.recv()
    assert [r["name"] for r in push["data"]] == ["a", "b", "c"]
    await client.ok("store.clear", bucket="users")  # no push for clear
    assert await client.ok("store.count", bucket="users") == 0


async def test_rules_emit_pushes_before_result(client_factory: ClientFactory) -> None:
    async with LocalServer() as srv:
        client = await client_factory(srv)
        sub = await client.ok("rules.subscribe", pattern="order.*")
        await client.ws.send(json.dumps({"id": 99, "type": "rules.emit", "topic": "order.x.v2"}))
        push, result = await client.recv(), await client.recv()
        assert push["subscriptionId"] == sub["subscriptionId"]
        assert push["data"]["event"] == result["data"]
        facts = await client.ok("rules.queryFacts", pattern="*")
        assert facts == []
        await client.ok("rules.setFact", key="a", value=1)
        await client.ok("rules.setFact", key="a:b", value=2)
        assert [f["key"] for f in await client.ok("rules.queryFacts", pattern="*")] == ["a"]
        store_unsub = await client.error("store.unsubscribe", subscriptionId=sub["subscriptionId"])
        assert store_unsub["code"] == "NOT_FOUND"


async def test_global_subscription_limit(client_factory: ClientFactory) -> None:
    queries: dict[str, Any] = {"q": {"type": "all", "bucket": "users"}}
    async with LocalServer(buckets=[USERS], queries=queries, max_total_subscriptions=1) as srv:
        a, b = await client_factory(srv), await client_factory(srv)
        await a.ok("store.subscribe", query="q")
        error = await b.error("rules.subscribe", pattern="*")
        assert error["message"] == "Global subscription limit reached (max 1)"


async def test_origin_check() -> None:
    async with LocalServer(allowed_origins=["http://ok"]) as srv:
        async with connect(srv.url, origin="http://ok") as ws:  # type: ignore[arg-type]
            assert json.loads(await ws.recv())["type"] == "welcome"
        with pytest.raises(Exception, match="403"):
            await connect(srv.url, origin="http://evil")  # type: ignore[arg-type]


def test_config_errors_name_the_problem() -> None:
    with pytest.raises(ConfigError, match="unknown config key"):
        LocalServer.from_config({"bukets": []})
    with pytest.raises(ConfigError, match="'schema' must be an object"):
        LocalServer.from_config({"buckets": [{"name": "b"}]})
    with pytest.raises(ConfigError, match="adminSecret"):
        LocalServer.from_config({"auth": {"builtIn": True}})
    with pytest.raises(ConfigError, match="builtIn"):
        LocalServer.from_config({"auth": {"adminSecret": "s"}})
    with pytest.raises(ConfigError, match=r"audit\.tiers"):
        LocalServer.from_config({"audit": {"tiers": ["everything"]}})
    with pytest.raises(TypeError, match="unknown option"):
        LocalServer(heartbeat=5)
