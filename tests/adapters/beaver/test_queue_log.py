"""Queue (Q1-Q5) and log (G1-G5) endpoints on the real server."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from adapters.beaver import (
    AsyncBeaverClient,
    BadRequest,
    BeaverClient,
    LogEntry,
    QueueEmpty,
    QueueItem,
    RemoteTimeout,
)

pytestmark = pytest.mark.beaver


def test_queue_priority_order_peek_and_count(db: BeaverClient, name: str) -> None:
    q = db.queue(name)
    assert q.peek() is None
    q.put({"job": "resize"}, 5)
    q.put({"job": "email"}, 1)
    q.put({"job": "later"}, 5)
    assert len(q) == 3
    peeked = q.peek()
    assert peeked is not None
    assert (peeked.priority, peeked.data) == (1.0, {"job": "email"})
    item = q.get()
    assert isinstance(item, QueueItem)
    priority, timestamp, data = item
    assert (priority, data) == (1.0, {"job": "email"})
    assert timestamp > 0
    assert q.get(block=False).data == {"job": "resize"}
    assert q.get(timeout=1).data == {"job": "later"}
    q.put(1, 0)
    q.clear()
    assert q.count() == 0


def test_queue_empty_and_timeout_are_typed(db: BeaverClient, name: str) -> None:
    q = db.queue(name)
    with pytest.raises(IndexError) as empty:
        q.get(block=False)
    assert isinstance(empty.value, QueueEmpty)
    with pytest.raises(TimeoutError) as late:
        q.get(timeout=0.3)
    assert isinstance(late.value, RemoteTimeout)


def test_blocking_get_receives_an_item_put_later(db: BeaverClient, name: str) -> None:
    q = db.queue(name)
    got: list[QueueItem[object]] = []
    waiter = threading.Thread(target=lambda: got.append(q.get()))
    waiter.start()
    q.put("hello", 1)
    waiter.join(timeout=10)
    assert not waiter.is_alive()
    assert [item.data for item in got] == ["hello"]


@pytest.mark.parametrize("priority", [None, "high", float("inf"), True])
def test_bad_priority_is_refused(db: BeaverClient, name: str, priority: object) -> None:
    with pytest.raises(BadRequest, match="priority"):
        db.queue(name).put("x", priority)  # type: ignore[arg-type]


def test_log_range_order_offset_and_bounds(db: BeaverClient, name: str) -> None:
    log = db.log(name)
    log.log({"msg": "disk"}, timestamp=1000.0)
    log.log({"msg": "full"}, timestamp=1000.0)  # same timestamp: bumped by 1 us
    log.log({"msg": "late"}, timestamp=datetime(2001, 9, 9, 1, 46, 40, tzinfo=UTC))
    log.log({"msg": "now"})
    assert len(log) == 4
    entries = log.range()
    assert [e.data["msg"] for e in entries] == ["disk", "full", "late", "now"]
    assert entries[0] == LogEntry(1000.0, {"msg": "disk"})
    assert entries[1].timestamp == pytest.approx(1000.000001)
    assert entries[2].timestamp == 1_000_000_000.0
    assert [e.data["msg"] for e in log.range(start=999, end=1001)] == ["disk", "full"]
    assert [e.data["msg"] for e in log.range(order="DESC", limit=2, offset=1)] == ["late", "full"]
    assert [e.data["msg"] for e in log.range(offset=3)] == ["now"]
    assert [e.data["msg"] for e in log.range(limit=1)] == ["disk"]
    assert log.indexes() == []
    log.clear()
    assert log.count() == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"order": "desc"}, "order"),
        ({"limit": -1}, "limit"),
        ({"offset": 1.5}, "offset"),
        ({"start": datetime(2020, 1, 1)}, "timezone"),
    ],
)
def test_bad_range_arguments(
    db: BeaverClient, name: str, kwargs: dict[str, object], match: str
) -> None:
    with pytest.raises(BadRequest, match=match):
        db.log(name).range(**kwargs)  # type: ignore[arg-type]


def test_timestamp_zero_is_refused(db: BeaverClient, name: str) -> None:
    with pytest.raises(BadRequest, match="timestamp 0"):
        db.log(name).log("x", timestamp=0)
    assert len(db.log(name)) == 0


async def test_async_queue_and_log(adb: AsyncBeaverClient, name: str) -> None:
    q = adb.queue(name)
    await q.put("a", 2)
    await q.put("b", 1)
    assert await q.count() == 2
    peeked = await q.peek()
    assert peeked is not None
    assert peeked.data == "b"
    assert (await q.get()).data == "b"
    assert (await q.get(block=False)).data == "a"
    with pytest.raises(QueueEmpty):
        await q.get(block=False)
    with pytest.raises(RemoteTimeout):
        await q.get(timeout=0.3)
    await q.put("c", 1)
    await q.clear()
    assert await q.count() == 0

    log = adb.log(name)
    await log.log("x", timestamp=5.0)
    await log.log("y", timestamp=6.0)
    assert [e.data for e in await log.range(order="DESC")] == ["y", "x"]
    assert await log.indexes() == []
    assert await log.count() == 2
    await log.clear()
    assert await log.count() == 0
