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
from adapters.beaver._wire import Call, error_for, path_segment, result_of


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
        result_of(q.get_once(False, None), 500, _envelope("IndexError"))
    with pytest.raises(RemoteTimeout):
        result_of(q.get_once(True, 1.0), 409, _envelope("TimeoutError"))


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
    calls += [q.put(1, 1), q.peek(), q.get_once(True, 1.0), q.get_once(False, None), q.count()]
    calls += [log.log(1, 5.0), log.range(1, 2, 3, None, "DESC", 4), log.indexes(), log.count()]
    return calls


def test_leaked_handler_parameters_are_never_sent() -> None:
    for call in _all_calls():
        assert "_mn" not in call.request.target
        assert "_meta" not in call.request.target
        assert "_method" not in call.request.target
        if call.request.body is not None:
            assert not {"_mn", "_meta", "_method"} & set(json.loads(call.request.body))


def test_blocking_get_always_bounds_the_server_wait() -> None:
    forever = QueueGetPlan.start(True, None, chunk=10.0, now=100.0)
    assert forever.wait(100.0) == 10.0
    assert forever.again(1e9)
    bounded = QueueGetPlan.start(True, 25.0, chunk=10.0, now=100.0)
    assert bounded.wait(100.0) == 10.0
    assert bounded.wait(120.0) == 5.0
    assert bounded.again(124.9)
    assert not bounded.again(125.0)
    once = QueueGetPlan.start(False, None, chunk=10.0, now=0.0)
    assert once.wait(0.0) is None
    assert not once.again(0.0)
    with pytest.raises(BadRequest):
        QueueGetPlan.start(True, -1, chunk=10.0, now=0.0)


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
