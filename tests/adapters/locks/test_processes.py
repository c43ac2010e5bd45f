"""Locks across OS processes, on SQLite, PostgreSQL and NATS (``worker.py`` processes).

Claims: critical sections never overlap, waiters are served in arrival order,
a killed holder loses the lock when its ttl runs out, a stalled holder loses
it to a waiter and learns so (``LockLost``), a live holder keeps the lock for
many ttls, ``timeout`` ends a wait with ``LockTimeout``, and Ctrl-C while
waiting or holding leaves no entry behind.
"""

from __future__ import annotations

import contextlib
import itertools
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from .procs import Spawn, Worker, eventually, workers
from .targets import Place

NAME = "nightly-report"
WORKERS = 4
ROUNDS = 8


async def test_critical_sections_of_four_processes_never_overlap(
    process_place: Place, tmp_path: Path
) -> None:
    log = tmp_path / "sections"
    async with workers() as spawn:
        contenders = [
            await spawn(
                process_place.url,
                NAME,
                "contend",
                "--rounds",
                str(ROUNDS),
                "--ttl",
                "10",
                "--log",
                str(log),
                tag=f"w{i}",
            )
            for i in range(WORKERS)
        ]
        for worker in contenders:
            await worker.expect("ready")
        for worker in contenders:
            await worker.send("go")
        for worker in contenders:
            await worker.expect("done")
            assert await worker.finish() == ""
    lines = _read(log).splitlines()
    assert len(lines) == 2 * WORKERS * ROUNDS
    for enter, leave in zip(lines[::2], lines[1::2], strict=True):
        assert enter.startswith("enter "), lines
        assert leave == "exit " + enter.removeprefix("enter "), lines
    # The unprotected read-modify-write inside the sections lost no increment.
    assert _read(Path(f"{log}.counter")) == str(WORKERS * ROUNDS)
    tags = [line.split()[1] for line in lines[::2]]
    assert set(tags) == {f"w{i}" for i in range(WORKERS)}
    assert sum(a != b for a, b in itertools.pairwise(tags)) >= WORKERS - 1


async def test_waiters_are_served_in_arrival_order(process_place: Place, tmp_path: Path) -> None:
    async with _scene(process_place, tmp_path) as scene:
        holder = await scene.holder("--timeout", "60")
        # Each waiter starts only once the previous one is in the backend's queue.
        waiters = [
            await scene.waiter("--at-once", "--timeout", "60", tag=f"w{i}", queued=i + 2)
            for i in range(3)
        ]
        await holder.send("release")
        await holder.expect("released")
        for waiter in waiters:
            await waiter.expect("acquired")
            await waiter.expect("released")
        for worker in [holder, *waiters]:
            assert await worker.finish() == ""
    assert scene.served() == ["holder", "w0", "w1", "w2"]
    assert await process_place.queue(NAME) == 0


async def test_killed_holder_loses_the_lock_when_its_ttl_runs_out(
    process_place: Place, tmp_path: Path
) -> None:
    async with _scene(process_place, tmp_path) as scene:
        holder = await scene.holder("--ttl", "1")
        waiter = await scene.waiter("--at-once", "--timeout", "60", tag="next", queued=2)
        holder.signal(signal.SIGKILL)
        await waiter.expect("acquired")
        await waiter.expect("released")
        assert await waiter.finish() == ""
    assert scene.served() == ["holder", "next"]
    assert await process_place.queue(NAME) == 0


async def test_stalled_holder_loses_the_lock_and_learns_it(
    process_place: Place, tmp_path: Path
) -> None:
    async with _scene(process_place, tmp_path) as scene:
        holder = await scene.holder("--ttl", "1")
        waiter = await scene.waiter("--timeout", "60", tag="next", queued=2)
        holder.signal(signal.SIGSTOP)  # alive, but renewing nothing
        try:
            await waiter.expect("acquired")
        finally:
            holder.signal(signal.SIGCONT)
        # Resumed, the holder finds its ttl ran out: its block is cancelled and
        # ends with LockLost, without waiting for the "release" line.
        await holder.expect("lost: ")
        assert "lost" in await holder.finish()  # the warning in the log
        await waiter.send("release")
        await waiter.expect("released")
        assert await waiter.finish() == ""
    assert scene.served() == ["holder", "next"]


async def test_live_holder_keeps_the_lock_for_many_ttls(
    process_place: Place, tmp_path: Path
) -> None:
    async with _scene(process_place, tmp_path) as scene:
        holder = await scene.holder("--ttl", "1")
        # The waiter gives up after 4 ttls of the holder: it never got the lock.
        waiter = await scene.waiter("--timeout", "4", tag="waiter")
        await waiter.expect("timeout")
        assert await waiter.finish() == ""
        assert await process_place.queue(NAME) == 1  # the waiter left the queue
        await holder.send("release")
        await holder.expect("released")
        assert await holder.finish() == ""
    assert scene.served() == ["holder"]


async def test_ctrl_c_while_waiting_or_holding_leaves_nothing_behind(
    process_place: Place, tmp_path: Path
) -> None:
    async with _scene(process_place, tmp_path) as scene:
        holder = await scene.holder("--timeout", "60")
        waiter = await scene.waiter("--timeout", "60", tag="waiter", queued=2)
        waiter.signal(signal.SIGINT)
        await waiter.expect("interrupted")
        assert await waiter.finish() == ""
        assert await process_place.queue(NAME) == 1
        holder.signal(signal.SIGINT)
        await holder.expect("interrupted")
        assert await holder.finish() == ""
        assert await process_place.queue(NAME) == 0
        late = await scene.waiter("--at-once", "--timeout", "0", tag="late")
        await late.expect("acquired")
        assert await late.finish() == ""
    assert scene.served() == ["holder", "late"]


@dataclass
class _Scene:
    """Workers in ``hold`` mode on one lock, appending their tag to one log when served."""

    spawn: Spawn
    place: Place
    log: Path

    async def holder(self, *options: str) -> Worker:
        """A worker that took the lock and holds it until told to release."""
        holder = await self.spawn(
            self.place.url, NAME, "hold", "--log", str(self.log), *options, tag="holder"
        )
        await holder.expect("ready")
        await holder.expect("acquired")
        return holder

    async def waiter(self, *options: str, tag: str, queued: int | None = None) -> Worker:
        """A worker asking for the lock; with ``queued``, once the queue is that long."""
        waiter = await self.spawn(
            self.place.url, NAME, "hold", "--log", str(self.log), *options, tag=tag
        )
        await waiter.expect("ready")
        if queued is not None:
            await _queued(self.place, queued)
        return waiter

    def served(self) -> list[str]:
        """The tags of the workers that got the lock, in order."""
        return _read(self.log).splitlines()


@contextlib.asynccontextmanager
async def _scene(place: Place, tmp_path: Path) -> AsyncIterator[_Scene]:
    async with workers() as spawn:
        yield _Scene(spawn, place, tmp_path / "served")


async def _queued(place: Place, count: int) -> None:
    async def reached() -> bool:
        return await place.queue(NAME) >= count

    await eventually(reached)


def _read(path: Path) -> str:
    return path.read_text()
