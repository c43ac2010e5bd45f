"""The sans-I/O layer: paths, error mapping, the queue long-poll plan, codecs (no I/O)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from adapters.beaver import (
    AuthError,
    BadRequest,
    BeaverError,
    DecodeError,
    FieldIndex,
    IndexOutOfRange,
    KeyNotFound,
    LogEntry,
    QueueEmpty,
    QueueItem,
    RemoteTimeout,
    ServerError,
)
from adapters.beaver._models import Codec, codec_for
from adapters.beaver._ops import DictOps, ListOps
from adapters.beaver._ops_stream import LogOps, QueueGetPlan, QueueOps
from adapters.beaver._wire import Call, error_for, path_segment, result_of, undo_of


def _envelope(error: str, message: str = "m") -> bytes:
    return json.dumps({"error": error, "message": message, "detail": None}).encode()


@pytest.mark.parametrize(
    ("value", "expected"),
    [("a?b", "a%3Fb"), ("h#x", "h%23x"), ("a%41", "a%2541"), ("é", "%C3%A9"), ("a b", "a%20b")],
)
def test_path_segments_are_percent_encoded(value: str, expected: str) -> None:
    assert path_segment(value) == expected


@pytest.mark.parametrize("value", ["", ".", "..", "a/b", "/"])
def test_segments_no_path_can_carry(value: str) -> None:
    assert path_segment(value) is None


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (401, _envelope("AuthError"), AuthError),
        (400, _envelope("JSONDecodeError"), BadRequest),
        (409, _envelope("TransactionTimeoutError"), RemoteTimeout),
        (500, _envelope("IndexError"), IndexOutOfRange),
        (500, _envelope("IntegrityError"), ServerError),
        (404, b'{"detail":"Not Found"}', ServerError),
        (502, b"<html>bad gateway</html>", ServerError),
    ],
)
def test_error_replies_map_to_typed_errors(
    status: int, body: bytes, kind: type[BeaverError]
) -> None:
    error = error_for(status, body)
    assert type(error) is kind


def test_non_envelope_reply_says_what_is_wrong() -> None:
    error = error_for(404, b'{"detail":"Not Found"}')
    assert isinstance(error, ServerError)
    assert error.status == 404
    assert "BeaverDB 2.4 REST server" in str(error)


def test_operation_hooks_refine_the_generic_mapping() -> None:
    d = DictOps("d", codec_for(None))
    with pytest.raises(KeyNotFound) as info:
        result_of(d.get("k"), 404, _envelope("KeyError", "\"Key 'k' not found\""))
    assert str(info.value) == "key 'k' not found in dict 'd'"
    q = QueueOps("q", codec_for(None))
    with pytest.raises(QueueEmpty):
        result_of(q.take(), 500, _envelope("IndexError"))
    with pytest.raises(RemoteTimeout):
        result_of(q.take(), 409, _envelope("TransactionTimeoutError"))


def test_success_bodies_are_decoded() -> None:
    call: Call[int] = DictOps("d", codec_for(None)).count()
    assert result_of(call, 200, b"3") == 3
    assert result_of(DictOps("d", codec_for(None)).clear(), 200, b"null") is None
    with pytest.raises(ServerError, match="not JSON"):
        result_of(call, 200, b"<html>")


def _all_calls() -> list[Call[Any]]:
    c = codec_for(None)
    d, lst, q, log = DictOps("d", c), ListOps("l", c), QueueOps("q", c), LogOps("g", c)
    calls: list[Call[Any]] = []
    for key in ("k", "count", "a/b", ""):
        calls += [d.set(key, 1, 5), d.get(key), d.fetch(key, 0), d.contains(key)]
        calls += [d.delete(key), d.pop(key, 0)]
    calls += [d.count(), d.clear(), lst.get(-1), lst.set(0, 1), lst.delete(0), lst.contains(1)]
    calls += [lst.push(1), lst.prepend(1), lst.insert(2, 1), lst.pop(), lst.deque(), lst.count()]
    calls += [q.put(1, 1), q.peek(), q.take(), q.count()]
    calls += [log.log(1, 5.0), log.range(1, 2, 3, None, "DESC", 4), log.indexes(), log.count()]
    return calls


def test_leaked_handler_parameters_are_never_sent() -> None:
    for call in _all_calls():
        assert "_mn" not in call.request.target
        assert "_meta" not in call.request.target
        assert "_method" not in call.request.target
        if call.request.body is not None:
            assert not {"_mn", "_meta", "_method"} & set(json.loads(call.request.body))


def test_queue_gets_never_ask_the_server_to_wait() -> None:
    take = QueueOps("q", codec_for(None)).take()
    assert take.request.method == "POST"
    assert json.loads(take.request.body or b"") == {"block": False}


def test_blocking_get_polls_with_a_growing_pause() -> None:
    forever = QueueGetPlan.start(True, None, max_pause=0.5, now=100.0)
    pauses = [forever.pause(100.0) for _ in range(7)]
    assert pauses == [0.02, 0.04, 0.08, 0.16, 0.32, 0.5, 0.5]
    bounded = QueueGetPlan.start(True, 1.0, max_pause=0.5, now=100.0)
    assert bounded.pause(100.0) == 0.02
    assert bounded.pause(100.99) == pytest.approx(0.01)  # never past the deadline
    assert bounded.pause(101.0) is None  # the poll at the deadline was the last
    tiny = QueueGetPlan.start(True, None, max_pause=0.005, now=0.0)
    assert tiny.pause(0.0) == 0.005
    once = QueueGetPlan.start(False, None, max_pause=0.5, now=0.0)
    assert once.pause(0.0) is None
    with pytest.raises(BadRequest):
        QueueGetPlan.start(True, -1, max_pause=0.5, now=0.0)


def test_taking_calls_know_how_to_put_the_value_back() -> None:
    c = codec_for(None)
    item = b'{"priority":3.0,"timestamp":5.0,"data":{"job":1}}'
    undo = undo_of(QueueOps("q", c).take(), 200, item)
    assert undo is not None
    assert (undo.method, undo.target) == ("POST", "/queues/q/put")
    assert json.loads(undo.body or b"") == {"data": {"job": 1}, "priority": 3.0}
    assert undo_of(QueueOps("q", c).take(), 500, _envelope("IndexError")) is None
    lst = ListOps("l", c)
    pushed = undo_of(lst.pop(), 200, b'"x"')
    prepended = undo_of(lst.deque(), 200, b'"x"')
    assert pushed is not None
    assert prepended is not None
    assert (pushed.target, prepended.target) == ("/lists/l/push", "/lists/l/prepend")
    assert undo_of(lst.pop(), 200, b"null") is None  # an empty list: nothing was taken
    d = DictOps("d", c)
    restored = undo_of(d.pop("a/b", 0), 200, b"[1]")
    assert restored is not None
    assert restored.method == "PUT"
    assert json.loads(restored.body or b"") == {"value": [1], "key": "a/b"}
    for call in (d.set("k", 1), d.delete("k"), lst.push(1), d.get("k")):
        assert undo_of(call, 200, b"1") is None


class Duck:
    """Looks like a pydantic v2 model, without pydantic."""

    def __init__(self, n: int) -> None:
        self.n = n

    def model_dump(self, mode: str) -> dict[str, int]:
        assert mode == "json"
        return {"n": self.n}

    @classmethod
    def model_validate(cls, value: dict[str, int]) -> Duck:
        if not isinstance(value.get("n"), int):
            raise ValueError("n must be an int")
        return cls(value["n"])


def test_pydantic_style_models_are_duck_typed() -> None:
    codec: Codec[Duck] = Codec(Duck)
    assert codec.encode(Duck(3)) == {"n": 3}
    assert codec.decode({"n": 4}).n == 4
    with pytest.raises(DecodeError, match="Duck: n must be an int"):
        codec.decode({"n": "x"})


def test_public_surface() -> None:
    import adapters.beaver

    assert adapters.beaver.__all__ == sorted(adapters.beaver.__all__)
    assert {"AsyncBeaverClient", "BeaverClient", "NotSupportedRemotely", "AuthError"} <= set(
        adapters.beaver.__all__
    )
    for name in adapters.beaver.__all__:
        assert getattr(adapters.beaver, name).__doc__, name


def test_log_entries_and_field_indexes_are_decoded() -> None:
    log = LogOps("g", codec_for(None))
    raw = b'[{"timestamp":1000.0,"data":{"a":1}},{"timestamp":1000.000001,"data":null}]'
    entries = result_of(log.range(), 200, raw)
    assert entries == [LogEntry(1000.0, {"a": 1}), LogEntry(1000.000001, None)]
    body = b'[{"field":"host","declared":true,"complete":false,"rows":2}]'
    assert result_of(log.indexes(), 200, body) == [FieldIndex("host", True, False, 2)]
    item = result_of(
        QueueOps("q", codec_for(None)).peek(), 200, b'{"priority":1,"timestamp":2,"data":"x"}'
    )
    assert item == QueueItem(1.0, 2.0, "x")
