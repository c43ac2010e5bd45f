"""``client.logic`` and the expression helpers, called as the published client's
LogicAPI is called, with the wire format and semantics of ``logic.md``.

The session runs against two servers:

* ``scripted``: the replay server answering the frames of ``logic_script.py``
  (written from ``logic.md``; it answers only exactly those requests);
* ``local``: LocalServer started with ``{"logic": true}``, as the reference
  fixture starts noex-server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from noex_client import ClientOptions, LogicNotAvailableError, NoexClient, NoexClientError
from noex_client import expr as e
from noex_client.testing import LocalServer
from tests.client.helpers import until
from tests.client.replay_server import ReplayServer, scripted
from tests.compat.logic_script import CONSTRAINT, ORDERS, SCRIPT, VIEW
from tests.compat.servers import local

ROW_1 = {"id": "o1", "total": 10}
ROW_2 = {"id": "o2", "total": 9}


@pytest.fixture(params=["scripted", "local"])
async def client(request: pytest.FixtureRequest) -> AsyncIterator[NoexClient]:
    if request.param == "scripted":
        async with ReplayServer(scripted(*SCRIPT)) as replay:
            async with NoexClient(replay.url("A"), ClientOptions(reconnect=False)) as connected:
                yield connected
            assert replay.mismatches == []
        return
    server = LocalServer.from_config({"buckets": [ORDERS], "logic": True})
    async with server, NoexClient(server.url) as connected:
        yield connected


async def test_a_logic_session(client: NoexClient) -> None:
    logic = client.logic
    assert await logic.evaluate_expr(e.add(2, 3)) == 5
    total = e.multiply(e.f("qty"), e.f("price"))
    assert await logic.evaluate_expr(total, {"qty": 2, "price": 5}) == 10

    await logic.define_computed("orders", {"total": {"depends": ["qty", "price"], "expr": total}})
    assert [c["bucket"] for c in await logic.list_computed()] == ["orders"]
    orders = client.store.bucket("orders")
    first = await orders.insert({"id": "o1", "qty": 2, "price": 5})
    assert first["total"] == 10  # set by the computed field

    await logic.define_view(VIEW)
    assert await logic.query_view("order-totals") == [ROW_1]
    explained = await logic.explain_view("order-totals")
    assert (explained["name"], explained["sources"]) == ("order-totals", {"o": "orders"})
    assert [v["name"] for v in await logic.list_views()] == ["order-totals"]

    seen: list[Any] = []
    unsubscribe = await logic.subscribe_view("order-totals", seen.append)
    assert seen == [[ROW_1]]  # the initial rows, before subscribe_view returns
    await orders.insert({"id": "o2", "qty": 3, "price": 3})
    await until(lambda: len(seen) == 2)
    assert seen[1] == [ROW_1, ROW_2]  # the whole new result

    await logic.define_constraint(CONSTRAINT)
    with pytest.raises(NoexClientError) as info:
        await orders.insert({"id": "o3", "qty": 0, "price": 1})
    assert "qty must be positive" in str(info.value)
    assert [c["name"] for c in await logic.list_constraints()] == ["positive-qty"]
    assert await logic.drop_constraint("positive-qty") is True

    assert unsubscribe() is None  # synchronous; the server is told in the background
    with pytest.raises(NoexClientError) as info:
        await logic.unsubscribe_view("sub-99")
    assert info.value.code == "NOT_FOUND"
    assert await logic.drop_view("order-totals") is True
    assert await logic.drop_view("order-totals") is False
    assert await logic.drop_computed("orders") is True


async def test_a_server_without_a_logic_engine_answers_with_an_error() -> None:
    async with local() as (_server, client):
        with pytest.raises(LogicNotAvailableError):
            await client.logic.evaluate_expr(e.add(2, 3))
