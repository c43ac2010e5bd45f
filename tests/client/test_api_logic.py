"""``client.logic``: wire frames as ``logic.md`` states them, and view subscriptions
sharing the one subscription mechanism (early pushes, reconnect replay with
fresh data, callback isolation, bounded watch buffers).

The frames are scripted (no server with a logic engine is recorded yet): the
replay server answers only exactly the request frames listed here, and the
in-memory peer serves view rows a test sets.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from noex_client import (
    DisconnectedError,
    LogicNotAvailableError,
    NoexClient,
    NoexClientError,
    UnknownOperationError,
    expr,
)
from noex_client.testing import LocalServer
from tests.client.conftest import MakeClient
from tests.client.helpers import EventLog, until
from tests.client.replay_server import ok, replaying
from tests.client.scripted import ScriptedPeer

ROWS = [{"id": "o1", "total": 10}]


@pytest.fixture
async def client(make_client: MakeClient, peer: ScriptedPeer) -> NoexClient:
    """A connected client of a peer serving the view ``totals`` (no rows yet)."""
    peer.views["totals"] = []
    connected = make_client()
    await connected.connect()
    return connected


def result(request_id: int) -> dict[str, Any]:
    """A result frame without ``data`` (what the server sends for "ignored")."""
    return {"type": "result", "id": request_id}


async def test_every_method_sends_the_logic_md_frame_and_returns_its_shape() -> None:
    total = expr.multiply(expr.f("qty"), expr.f("price"))
    fields = {"total": {"depends": ["qty", "price"], "expr": total}}
    view = {"name": "totals", "from": {"o": "orders"}, "select": {"id": "o.id", "t": "o.total"}}
    rule = {"name": "qty", "on": "orders", "expr": expr.gt("$qty", 0), "message": "qty > 0"}
    async with replaying(
        ({"id": 1, "type": "logic.defineComputed", "bucket": "orders", "fields": fields},
         [result(1)]),
        ({"id": 2, "type": "logic.listComputed"}, [ok(2, [{"bucket": "orders", **fields}])]),
        ({"id": 3, "type": "logic.dropComputed", "bucket": "orders"}, [ok(3, {"dropped": True})]),
        ({"id": 4, "type": "logic.defineView", "definition": view}, [result(4)]),
        ({"id": 5, "type": "logic.queryView", "name": "totals"}, [ok(5, ROWS)]),
        ({"id": 6, "type": "logic.explainView", "name": "totals"},
         [ok(6, {"name": "totals", "sources": {"o": "orders"}})]),
        ({"id": 7, "type": "logic.listViews"}, [ok(7, [{"name": "totals"}])]),
        ({"id": 8, "type": "logic.dropView", "name": "totals"}, [ok(8, {"dropped": False})]),
        ({"id": 9, "type": "logic.defineConstraint", "constraint": rule}, [result(9)]),
        ({"id": 10, "type": "logic.listConstraints"}, [ok(10, [rule])]),
        ({"id": 11, "type": "logic.dropConstraint", "name": "qty"}, [ok(11, {"dropped": True})]),
        ({"id": 12, "type": "logic.evaluateExpr", "expr": {"$add": [2, 3]}}, [ok(12, 5)]),
        ({"id": 13, "type": "logic.evaluateExpr", "expr": "$qty", "record": {"qty": 4}},
         [ok(13, 4)]),
        ({"id": 14, "type": "logic.evaluateExpr", "expr": None}, [ok(14, None)]),
    ) as (_server, client):  # fmt: skip
        logic = client.logic
        await logic.define_computed("orders", fields)
        assert await logic.list_computed() == [{"bucket": "orders", **fields}]
        assert await logic.drop_computed("orders") is True
        await logic.define_view(view)
        assert await logic.query_view("totals") == ROWS
        assert (await logic.explain_view("totals"))["sources"] == {"o": "orders"}
        assert await logic.list_views() == [{"name": "totals"}]
        assert await logic.drop_view("totals") is False
        await logic.define_constraint(rule)
        assert await logic.list_constraints() == [rule]
        assert await logic.drop_constraint("qty") is True
        assert await logic.evaluate_expr(expr.add(2, 3)) == 5
        assert await logic.evaluate_expr(expr.f("qty"), {"qty": 4}) == 4
        assert await logic.evaluate_expr(None) is None  # a literal null is still sent


async def test_a_server_without_logic_engine_answers_with_an_error() -> None:
    refusal = {"type": "error", "id": 1, "code": "UNKNOWN_OPERATION",
               "message": 'Unknown operation "logic.listViews"'}  # fmt: skip
    async with replaying(({"id": 1, "type": "logic.listViews"}, [refusal])) as (_s, client):
        with pytest.raises(UnknownOperationError) as info:
            await client.logic.list_views()
        assert info.value.code == "UNKNOWN_OPERATION"


async def test_local_server_without_a_logic_engine_raises_logic_not_available() -> None:
    async with LocalServer() as server, NoexClient(server.url) as client:
        for call in (client.logic.list_views, lambda: client.logic.evaluate_expr(expr.add(1, 2))):
            with pytest.raises(LogicNotAvailableError) as info:
                await call()
            assert (info.value.code, str(info.value)) == (
                "LOGIC_NOT_AVAILABLE",
                "Logic engine is not configured",
            )
        assert isinstance(info.value, NoexClientError)


async def test_subscribe_view_delivers_rows_then_pushes_and_unsubscribes(
    client: NoexClient, peer: ScriptedPeer
) -> None:
    seen: list[Any] = []
    unsubscribe = await client.logic.subscribe_view("totals", seen.append)
    assert seen == [[]]
    await peer.set_view("totals", ROWS)
    await until(lambda: seen == [[], ROWS])
    assert unsubscribe() is None  # synchronous
    conn = peer.connections[0]
    await until(lambda: conn.received[-1]["type"] == "logic.unsubscribeView")
    assert conn.received[-1]["subscriptionId"] == "sub-1"
    await peer.set_view("totals", [])
    assert seen == [[], ROWS]


async def test_push_that_precedes_the_subscribe_view_result_is_delivered_after_it() -> None:
    push = {"type": "push", "channel": "view", "subscriptionId": "sub-4", "data": ROWS}
    async with replaying(
        ({"id": 1, "type": "logic.subscribeView", "name": "totals"},
         [push, ok(1, {"subscriptionId": "sub-4", "data": []})]),
    ) as (_server, client):  # fmt: skip
        seen: list[Any] = []
        await client.logic.subscribe_view("totals", seen.append)
        await until(lambda: len(seen) == 2)
        assert seen == [[], ROWS]


async def test_view_subscriptions_resubscribe_with_fresh_rows_after_a_reconnect(
    client: NoexClient, peer: ScriptedPeer
) -> None:
    log = EventLog(client)
    fresh: list[Any] = []
    client.on("reconnected", lambda: fresh.append(list(seen)))
    seen: list[Any] = []
    await client.logic.subscribe_view("totals", seen.append)
    peer.views["totals"] = ROWS  # changed while the client was away: no push for it
    peer.restart()
    await log.wait("reconnected")
    assert fresh == [[[], ROWS]]  # the fresh rows arrived before "reconnected"
    resubscribe = peer.connections[1].received[0]
    assert resubscribe == {"id": 1, "type": "logic.subscribeView", "name": "totals"}
    await peer.set_view("totals", [])
    await until(lambda: seen == [[], ROWS, []])


async def test_a_callback_raising_on_the_initial_rows_unsubscribes_and_reraises(
    client: NoexClient, peer: ScriptedPeer
) -> None:
    peer.views["totals"] = ROWS

    def broken(rows: Any) -> None:
        raise LookupError("bad rows")

    with pytest.raises(LookupError, match="bad rows"):
        await client.logic.subscribe_view("totals", broken)
    conn = peer.connections[0]
    await until(lambda: conn.subs == {})
    assert conn.received[-1] == {"id": 2, "type": "logic.unsubscribeView",
                                 "subscriptionId": "sub-1"}  # fmt: skip
    assert len(client._subscriptions) == 0


async def test_a_callback_raising_on_a_push_is_isolated(
    client: NoexClient, peer: ScriptedPeer
) -> None:
    log = EventLog(client)
    seen: list[Any] = []

    def picky(rows: Any) -> None:
        seen.append(rows)
        if rows == ROWS:
            raise ValueError("no thanks")

    await client.logic.subscribe_view("totals", picky)
    await peer.set_view("totals", ROWS)
    ((error,),) = await log.wait("error")
    assert isinstance(error, ValueError)
    await peer.set_view("totals", [{"id": "o2", "total": 3}])
    await until(lambda: len(seen) == 3)
    assert client.is_connected


async def test_unsubscribe_view_by_server_id(client: NoexClient, peer: ScriptedPeer) -> None:
    seen: list[Any] = []
    await client.logic.subscribe_view("totals", seen.append)
    await client.logic.unsubscribe_view("sub-1")
    assert peer.connections[0].subs == {}
    assert len(client._subscriptions) == 0
    with pytest.raises(NoexClientError) as info:
        await client.logic.unsubscribe_view("sub-1")
    assert info.value.code == "NOT_FOUND"


async def test_watch_view_yields_rows_keeps_the_latest_and_ends_on_disconnect(
    client: NoexClient, peer: ScriptedPeer
) -> None:
    async with client.logic.watch_view("totals", buffer_size=2) as results:
        assert await anext(results) == []
        for n in range(5):  # nobody reads: only the latest two stay buffered
            await peer.set_view("totals", [{"n": n}])
        await until(lambda: results.dropped == 3)
        assert [await anext(results), await anext(results)] == [[{"n": 3}], [{"n": 4}]]
        await client.disconnect()
        with pytest.raises(DisconnectedError):
            await asyncio.wait_for(anext(results), 1)


async def test_watch_view_survives_a_reconnect_with_fresh_rows(
    client: NoexClient, peer: ScriptedPeer
) -> None:
    log = EventLog(client)
    async with client.logic.watch_view("totals") as results:
        assert await anext(results) == []
        peer.views["totals"] = ROWS
        peer.restart()
        await log.wait("reconnected")
        assert await anext(results) == ROWS


def test_view_names_are_checked_before_sending() -> None:
    from noex_client import NoexClient

    client = NoexClient("ws://127.0.0.1:1/")
    with pytest.raises(ValueError, match="view name"):
        client.logic.watch_view("")
    with pytest.raises(TypeError, match="view name"):
        client.logic.watch_view(3)  # type: ignore[arg-type]
