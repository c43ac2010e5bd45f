"""A cancelled or timed-out ``get`` (or ``pop``) never makes a value disappear.

On the real server. ``Gate`` holds queue-get requests at a chosen point (before
they are sent, or with the server's reply in hand) so the tests can cancel the
caller exactly there; the sweeps cancel at arbitrary moments and check that every
item is received exactly once or is still in the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Literal

import pytest

from adapters.beaver import (
    AsyncBeaverClient,
    AsyncBeaverQueue,
    BeaverClient,
    BeaverQueue,
    QueueItem,
    RemoteTimeout,
)
from adapters.beaver._transport import SyncSender
from adapters.beaver._wire import Request

pytestmark = pytest.mark.beaver

_DEADLINE = 10.0


class Gate:
    """Holds requests whose path ends with ``suffix`` until ``release_when()`` is true.

    ``hold="before"`` holds them before they are sent, ``"after"`` once the
    server's reply is in hand, ``None`` lets them through (and only signals).
    """

    def __init__(self, suffix: str, hold: Literal["before", "after"] | None) -> None:
        self.suffix = suffix
        self.hold = hold
        self.sent = threading.Event()
        self.replied = threading.Event()
        self.release_when: Callable[[], bool] = lambda: True

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real = SyncSender.exchange

        def exchange(sender: SyncSender, request: Request) -> tuple[int, bytes]:
            if not request.target.endswith(self.suffix):
                return real(sender, request)
            self.sent.set()
            if self.hold == "before":
                self._wait()
            reply = real(sender, request)
            self.replied.set()
            if self.hold == "after":
                self._wait()
            return reply

        monkeypatch.setattr(SyncSender, "exchange", exchange)

    def _wait(self) -> None:
        deadline = time.monotonic() + _DEADLINE
        while not self.release_when():
            assert time.monotonic() < deadline, "the gate was never released"
            time.sleep(0.001)  # poll interval of a deadline-bounded wait


# The server's own blocking get polls every 0.1 s: an abandoned one left running
# would take an item put within this window.
_WATCH = 0.6


async def _stays_queued(q: AsyncBeaverQueue[Any], count: int) -> None:
    """Check, for ``_WATCH`` seconds, that nothing takes items from ``q``."""
    end = time.monotonic() + _WATCH
    while time.monotonic() < end:
        assert await q.count() == count


def _stays_queued_sync(q: BeaverQueue[Any], count: int) -> None:
    end = time.monotonic() + _WATCH
    while time.monotonic() < end:
        assert len(q) == count


async def _signalled(event: threading.Event) -> None:
    assert await asyncio.to_thread(event.wait, _DEADLINE), "the request never came"


def _cancelling(task: asyncio.Task[Any]) -> Callable[[], bool]:
    return lambda: task.cancelling() > 0 or task.done()


@pytest.fixture(params=["native", "as_async"])
async def aclient(request: pytest.FixtureRequest, beaver_url: str) -> AsyncIterator[Any]:
    """The native ``AsyncBeaverClient``, or ``BeaverClient.as_async()``."""
    if request.param == "native":
        async with AsyncBeaverClient(beaver_url, timeout=5.0, queue_poll=0.05) as client:
            yield client
    else:
        with BeaverClient(beaver_url, timeout=5.0, queue_poll=0.05) as sync:
            yield sync.as_async()


async def _cancelled(task: asyncio.Task[Any]) -> None:
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.mark.parametrize("poll", [None, 0.5])
async def test_timed_out_get_leaves_the_next_item_to_a_later_get(
    beaver_url: str, name: str, poll: float | None
) -> None:
    # The scenario reported by users: with a server-side blocking get, the
    # abandoned wait went on after the timeout and swallowed the next put.
    async with AsyncBeaverClient(beaver_url, queue_poll=poll) as db:
        jobs = db.queue(name)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(jobs.get(), 1.0)
        await jobs.put({"job": "precious"}, 1)
        await _stays_queued(jobs, 1)
        item = await jobs.get(timeout=5)
        assert item.data == {"job": "precious"}


@pytest.mark.parametrize("poll", [None, 0.5])
def test_timed_out_get_through_as_async_in_asyncio_run(
    beaver_url: str, name: str, poll: float | None
) -> None:
    with BeaverClient(beaver_url, queue_poll=poll) as db:

        async def wait_briefly() -> None:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(db.queue(name).as_async().get(), 1.0)

        asyncio.run(wait_briefly())
        db.queue(name).put("precious", 1)
        _stays_queued_sync(db.queue(name), 1)

        async def receive() -> QueueItem[Any]:
            return await db.queue(name).as_async().get(timeout=5)

        assert asyncio.run(receive()).data == "precious"


def test_timed_out_sync_get_leaves_the_next_item(beaver_url: str, name: str) -> None:
    with BeaverClient(beaver_url) as db:
        jobs = db.queue(name)
        with pytest.raises(RemoteTimeout):
            jobs.get(timeout=1.0)
        jobs.put("precious", 1)
        _stays_queued_sync(jobs, 1)
        assert jobs.get(timeout=5).data == "precious"


@pytest.mark.parametrize("hold", ["before", "after"])
async def test_cancel_while_the_get_is_on_the_wire(
    aclient: AsyncBeaverClient, name: str, monkeypatch: pytest.MonkeyPatch, hold: Any
) -> None:
    gate = Gate("/get", hold)
    gate.install(monkeypatch)
    q = aclient.queue(name)
    await q.put({"job": 1}, 3)
    task = asyncio.create_task(q.get())
    gate.release_when = _cancelling(task)
    await _signalled(gate.sent if hold == "before" else gate.replied)
    task.cancel()
    await _cancelled(task)
    # The server had taken the item (or took it once released): it is back.
    assert await q.count() == 1
    item = await q.get(block=False)
    assert (item.priority, item.data) == (3.0, {"job": 1})


async def test_repeated_cancellation_still_puts_the_item_back(
    aclient: AsyncBeaverClient, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate("/get", "after")
    gate.install(monkeypatch)
    q = aclient.queue(name)
    await q.put("x", 1)
    task = asyncio.create_task(q.get())
    cancels = 0

    def after_three_cancels() -> bool:
        return cancels >= 3

    gate.release_when = after_three_cancels
    await _signalled(gate.replied)
    for _ in range(3):
        task.cancel()
        await asyncio.sleep(0)  # let the task take each cancellation in turn
        cancels += 1
    await _cancelled(task)
    assert (await q.get(block=False)).data == "x"


async def test_cancel_while_waiting_between_polls(
    aclient: AsyncBeaverClient, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate("/get", None)
    gate.install(monkeypatch)
    q = aclient.queue(name)
    task = asyncio.create_task(q.get())
    await _signalled(gate.replied)  # one empty poll done: now pausing or polling again
    task.cancel()
    await _cancelled(task)
    await q.put("later", 1)
    await _stays_queued(q, 1)
    assert (await q.get(block=False)).data == "later"


def test_event_loop_ending_mid_get_puts_the_item_back(
    beaver_url: str, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate("/get", "after")
    gate.install(monkeypatch)
    with BeaverClient(beaver_url, queue_poll=0.05) as db:
        db.queue(name).put("x", 1)

        async def main() -> None:
            task = asyncio.create_task(db.queue(name).as_async().get())
            gate.release_when = _cancelling(task)
            await _signalled(gate.replied)
            # Returning now: asyncio.run cancels the task while its reply is held.

        asyncio.run(main())
        assert db.queue(name).get(block=False).data == "x"


async def _sweep(
    q: AsyncBeaverQueue[Any], rounds: int, rng: random.Random
) -> tuple[list[Any], list[Any]]:
    received: list[Any] = []
    for i in range(rounds):
        await q.put(i, 1)
        task = asyncio.create_task(q.get())
        await asyncio.sleep(rng.uniform(0, 0.012))  # cancel at an arbitrary moment
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            received.append((await task).data)
    left = []
    while await q.count():
        left.append((await q.get(block=False)).data)
    return received, left


async def test_cancelling_at_any_moment_loses_no_item(
    aclient: AsyncBeaverClient, name: str
) -> None:
    rng = random.Random(16)
    received, left = await _sweep(aclient.queue(name), 40, rng)
    assert sorted(received + left) == list(range(40))


async def test_cancelled_pops_lose_nothing(aclient: AsyncBeaverClient, name: str) -> None:
    rng = random.Random(7)
    lst, d = aclient.list(name), aclient.dict(name)
    got: list[Any] = []
    for i in range(20):
        await lst.push(i)
        await d.set(f"k{i}", i)
        for coro in (lst.pop(), d.pop(f"k{i}")):
            task: asyncio.Task[Any] = asyncio.create_task(coro)
            await asyncio.sleep(rng.uniform(0, 0.01))
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                got.append(await task)
    left = [await lst.get(i) for i in range(await lst.count())]
    left += [await d.get(f"k{i}") for i in range(20) if await d.contains(f"k{i}")]
    assert sorted(got + left) == sorted(list(range(20)) * 2)


@pytest.fixture
def silent_restore_log(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    assert not [r for r in caplog.records if "could not be put back" in r.getMessage()]


@pytest.mark.usefixtures("silent_restore_log")
async def test_cancelled_get_of_an_empty_queue_takes_nothing(
    aclient: AsyncBeaverClient, name: str
) -> None:
    q = aclient.queue(name)
    for _ in range(10):
        task = asyncio.create_task(q.get())
        await asyncio.sleep(0)
        task.cancel()
        await _cancelled(task)
    assert await q.count() == 0
