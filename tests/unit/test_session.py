"""The sans-I/O session: ids, matching, push routing, heartbeat."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from noex_client._errors import BackpressureError, ProtocolError
from noex_client._protocol import Error, Ping, Push, Result, System, Welcome
from noex_client._session import (
    Deliver,
    Dropped,
    Held,
    Reply,
    ServerError,
    Session,
    StrayReply,
)


def frame(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


def push(sid: str, data: Any = None) -> bytes:
    return frame(type="push", channel="subscription", subscriptionId=sid, data=data)


def test_ids_start_at_one_and_increase() -> None:
    session: Session[str] = Session()
    ids = [session.start_request("store.all", {"bucket": "b"})[0] for _ in range(3)]
    assert ids == [1, 2, 3]
    _rid, wire = session.start_request("store.get", {"bucket": "b", "key": None})
    assert msgspec.json.decode(wire) == {"id": 4, "type": "store.get", "bucket": "b"}


def test_result_and_error_match_pending_requests() -> None:
    session: Session[str] = Session()
    a, _ = session.start_request("store.all", {})
    b, _ = session.start_request("store.get", {})
    assert session.receive(frame(type="result", id=a, data=[1])) == Reply(
        "store.all", Result(a, [1])
    )
    error = session.receive(frame(type="error", id=b, code="NOT_FOUND", message="x"))
    assert error == Reply("store.get", Error(b, "NOT_FOUND", "x", None))
    assert session.pending_count == 0


def test_unknown_and_forgotten_ids_are_stray() -> None:
    session: Session[str] = Session()
    rid, _ = session.start_request("store.all", {})
    session.forget_request(rid)
    assert isinstance(session.receive(frame(type="result", id=rid)), StrayReply)
    assert isinstance(session.receive(frame(type="result", id=99)), StrayReply)


def test_error_with_id_zero_is_a_server_error_never_a_reply() -> None:
    session: Session[str] = Session()
    session.start_request("store.all", {})
    event = session.receive(frame(type="error", id=0, code="PARSE_ERROR", message="Invalid JSON"))
    assert event == ServerError(Error(0, "PARSE_ERROR", "Invalid JSON", None))
    assert session.pending_count == 1


def test_ping_queues_a_pong_echoing_the_timestamp() -> None:
    session: Session[str] = Session()
    assert session.receive(frame(type="ping", timestamp=123)) == Ping(123)
    assert [msgspec.json.decode(f) for f in session.data_to_send()] == [
        {"type": "pong", "timestamp": 123}
    ]
    assert session.data_to_send() == []


def test_ping_without_heartbeat_sends_nothing() -> None:
    session: Session[str] = Session(heartbeat=False)
    session.receive(frame(type="ping", timestamp=5))
    assert session.data_to_send() == []


def test_welcome_and_system_are_returned_as_is() -> None:
    session: Session[str] = Session()
    welcome = session.receive(
        frame(type="welcome", version="1.0.0", serverTime=1, requiresAuth=True)
    )
    assert welcome == Welcome("1.0.0", 1, True)
    assert session.welcome == welcome
    assert session.receive(frame(type="system", event="shutdown", gracePeriodMs=9)) == System(
        "shutdown", 9
    )


def test_pushes_route_to_the_bound_key() -> None:
    session: Session[str] = Session()
    session.bind("sub-1", "users")
    assert session.receive(push("sub-1", [1])) == Deliver(
        "users", Push("subscription", "sub-1", [1])
    )
    session.unbind("sub-1")
    assert isinstance(session.receive(push("sub-1", [2])), Dropped)


def test_push_before_subscribe_result_is_held_and_handed_over_in_order() -> None:
    session: Session[str] = Session()
    rid, _ = session.start_request("store.subscribe", {"query": "q"})
    assert isinstance(session.receive(push("sub-7", "early-1")), Held)
    assert isinstance(session.receive(push("sub-8", "someone-else")), Held)
    assert isinstance(session.receive(push("sub-7", "early-2")), Held)
    reply = session.receive(
        frame(type="result", id=rid, data={"subscriptionId": "sub-7", "data": "initial"})
    )
    assert isinstance(reply, Reply)
    # After the result, pushes for the announced id keep being held until bind().
    assert isinstance(session.receive(push("sub-7", "early-3")), Held)
    # Nothing in flight any more: a push for an unknown id is dropped.
    assert isinstance(session.receive(push("sub-8", "late")), Dropped)
    held = session.bind("sub-7", "q")
    assert [p.data for p in held] == ["early-1", "early-2", "early-3"]
    assert session.bind("sub-7", "q") == []


@pytest.mark.parametrize("op", ["rules.subscribe", "logic.subscribeView"])
def test_every_subscribe_op_holds_early_pushes(op: str) -> None:
    session: Session[str] = Session()
    rid, _ = session.start_request(op, {"name": "v"})
    assert isinstance(session.receive(push("sub-3", [{"total": 1}])), Held)
    session.receive(frame(type="result", id=rid, data={"subscriptionId": "sub-3", "data": []}))
    assert [p.data for p in session.bind("sub-3", "v")] == [[{"total": 1}]]


def test_push_for_unknown_id_without_subscribe_in_flight_is_dropped() -> None:
    session: Session[str] = Session()
    assert isinstance(session.receive(push("sub-3")), Dropped)


def test_failed_or_forgotten_subscribe_releases_orphans() -> None:
    session: Session[str] = Session()
    rid, _ = session.start_request("rules.subscribe", {"pattern": "a.*"})
    assert isinstance(session.receive(push("sub-1")), Held)
    session.receive(frame(type="error", id=rid, code="RATE_LIMITED", message="limit"))
    rid2, _ = session.start_request("rules.subscribe", {"pattern": "a.*"})
    session.forget_request(rid2)
    session.receive(frame(type="result", id=rid2, data={"subscriptionId": "sub-1"}))
    assert session.bind("sub-1", "x") == []


def test_held_pushes_are_bounded_dropping_the_oldest() -> None:
    session: Session[str] = Session(max_buffered_pushes=2)
    rid, _ = session.start_request("store.subscribe", {"query": "q"})
    for n in range(5):
        assert isinstance(session.receive(push("sub-1", n)), Held)
    session.receive(frame(type="result", id=rid, data={"subscriptionId": "sub-1", "data": None}))
    assert [p.data for p in session.bind("sub-1", "q")] == [3, 4]


def test_zero_buffer_drops_early_pushes() -> None:
    session: Session[str] = Session(max_buffered_pushes=0)
    session.start_request("store.subscribe", {"query": "q"})
    assert isinstance(session.receive(push("sub-1")), Dropped)


def test_pending_table_is_bounded() -> None:
    session: Session[str] = Session(max_pending=2)
    session.start_request("store.all", {})
    rid, _ = session.start_request("store.all", {})
    with pytest.raises(BackpressureError):
        session.start_request("store.all", {})
    session.receive(frame(type="result", id=rid))
    assert session.start_request("store.all", {})[0] == 3  # a refused request uses no id


def test_unencodable_field_raises_without_consuming_an_id() -> None:
    session: Session[str] = Session()
    with pytest.raises(TypeError):
        session.start_request("store.insert", {"data": object()})
    assert session.pending_count == 0
    assert session.start_request("store.all", {})[0] == 1


def test_garbage_raises_protocol_error_and_leaves_state_intact() -> None:
    session: Session[str] = Session()
    rid, _ = session.start_request("store.all", {})
    with pytest.raises(ProtocolError):
        session.receive(b"{")
    assert isinstance(session.receive(frame(type="result", id=rid)), Reply)
