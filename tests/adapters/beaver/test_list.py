"""List endpoints (L1-L11) on the real server."""

from __future__ import annotations

import pytest

from adapters.beaver import AsyncBeaverClient, BeaverClient, IndexOutOfRange

pytestmark = pytest.mark.beaver


def test_push_prepend_insert_and_indexing(db: BeaverClient, name: str) -> None:
    lst = db.list(name)
    lst.push("b")
    lst.push({"task": "ship", "done": False})
    lst.prepend("a")
    lst.insert(1, "a2")
    lst.insert(99, "last")  # >= len appends
    lst.insert(-5, "first")  # <= 0 prepends
    assert len(lst) == 6
    assert [lst[i] for i in range(len(lst))] == [
        "first",
        "a",
        "a2",
        "b",
        {"task": "ship", "done": False},
        "last",
    ]
    assert lst[-1] == "last"
    assert lst[-6] == "first"
    lst[0] = "FIRST"
    assert lst.get(0) == "FIRST"
    del lst[1]
    assert lst[1] == "a2"
    assert "b" in lst
    assert {"task": "ship", "done": False} in lst
    assert "zzz" not in lst


def test_out_of_range_raises_index_error(db: BeaverClient, name: str) -> None:
    lst = db.list(name)
    lst.push(1)
    for action in (lambda: lst[5], lambda: lst.set(5, 0), lambda: lst.delete(-2)):
        with pytest.raises(IndexError) as info:
            action()
        assert isinstance(info.value, IndexOutOfRange)
    assert lst[0] == 1


def test_pop_deque_and_clear(db: BeaverClient, name: str) -> None:
    lst = db.list(name)
    assert lst.pop() is None
    assert lst.deque() is None
    for value in (1, 2, 3):
        lst.push(value)
    assert lst.pop() == 3
    assert lst.deque() == 1
    assert lst.count() == 1
    lst.clear()
    assert len(lst) == 0


async def test_async_list(adb: AsyncBeaverClient, name: str) -> None:
    lst = adb.list(name)
    await lst.push(2)
    await lst.prepend(1)
    await lst.insert(2, 3)
    assert await lst.count() == 3
    assert await lst.get(-1) == 3
    await lst.set(0, 10)
    assert await lst.contains(10)
    await lst.delete(0)
    with pytest.raises(IndexOutOfRange):
        await lst.get(7)
    assert await lst.pop() == 3
    assert await lst.deque() == 2
    await lst.push(1)
    await lst.clear()
    assert await lst.count() == 0
