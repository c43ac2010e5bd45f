"""The lock queue kept in one register, without a backend (``adapters._lockqueue``)."""

from __future__ import annotations

import msgspec
import pytest

from adapters._lockqueue import Entry, decode, encode, settle


def test_values_round_trip_and_empty_is_none() -> None:
    queue = [Entry("a", 1.5, 100.0), Entry("b", 60.0, None)]
    value = encode("report", queue)
    assert msgspec.json.decode(value) == {
        "name": "report",
        "queue": [["a", 1.5, 100.0], ["b", 60.0, None]],
    }
    assert decode(value) == queue
    assert decode(None) == []


def test_a_foreign_value_is_refused() -> None:
    with pytest.raises(msgspec.DecodeError):
        decode(b'{"something": "else"}')


def test_settle_stamps_the_writers_entry_and_drops_expired_ones() -> None:
    queue = [
        Entry("dead", 1.0, 10.0),  # expired at 11
        Entry("alive", 5.0, 10.0),  # expires at 15
        Entry("writer", 1.0, None),  # renewed by the write stamped 12
    ]
    assert settle(queue, 12.0) == [Entry("alive", 5.0, 10.0), Entry("writer", 1.0, 12.0)]


def test_an_entry_lives_up_to_its_ttl_inclusive() -> None:
    queue = [Entry("a", 2.0, 10.0)]
    assert settle(queue, 12.0) == queue
    assert settle(queue, 12.000001) == []


def test_settle_keeps_arrival_order() -> None:
    queue = [Entry(str(i), 60.0, float(i)) for i in range(5)]
    assert [e.waiter for e in settle(queue, 10.0)] == ["0", "1", "2", "3", "4"]
