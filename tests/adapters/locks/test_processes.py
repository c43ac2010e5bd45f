"""Locks across OS processes, on SQLite, PostgreSQL and NATS (``worker.py`` processes).

Claims: critical sections never overlap, waiters are served in arrival order,
a killed holder loses the lock when its ttl runs out, a stalled holder loses
it to a waiter and learns so (``LockLost``), a live holder keeps the lock for
many ttls, ``timeout`` ends a wait with ``LockTimeout``, and Ctrl-C while
waiting or holding leaves no entry behind.
"""

from __future__ import annotations

import itertools
import signal
from pathlib import Path

from .procs import eventually, workers
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
    log = tmp_path / "order"
    common = ("--log", str(log), "--timeout", "60")
    async with workers() as spawn:
        holder = await spawn(process_place.url, NAME, "hold", *common, tag="holder")
        await holder.expect("ready")
        await holder.expect("acquired")
        waiters = []
        for i in range(3):
            waiter = await spawn(process_place.url, NAME, "hold", "--at-once", *common, tag=f"w{i}")
            await waiter.expect("ready")
            # The next waiter starts only once this one is in the backend's queue.
            await _queued(process_place, i + 2)
            waiters.append(waiter)
        await holder.send("release")
        await holder.expect("released")
        for waiter in waiters:
            await waiter.expect("acquired")
            await waiter.expect("released")
        for worker in [holder, *waiters]:
            assert await worker.finish() == ""
    assert _read(log).splitlines() == ["holder", "w0", "w1", "w2"]
    assert await process_place.queue(NAME) == 0


async def test_killed_holder_loses_the_lock_when_its_ttl_runs_out(
    process_place: Place, tmp_path: Path
) -> None:
    log = tmp_path / "takeover"
    async with workers() as spawn:
        holder = await spawn(
            process_place.url, NAME, "hold", "--ttl", "1", "--log", str(log), tag="holder"
        )
        await holder.expect("ready")
        await holder.expect("acquired")
        waiter = await spawn(
            process_place.url,
            NAME,
            "hold",
            "--at-once",
            "--timeout",
            "60",
            "--log",
            str(log),
            tag="next",
        )
        await waiter.expect("ready")
        await _queued(process_place, 2)
        holder.signal(signal.SIGKILL)
        await waiter.expect("acquired")
        await waiter.expect("released")
        assert await waiter.finish() == ""
    assert _read(log).splitlines() == ["holder", "next"]
    assert await process_place.queue(NAME) == 0


async def test_stalled_holder_loses_the_lock_and_learns_it(
    process_place: Place, tmp_path: Path
) -> None:
    log = tmp_path / "stalled"
    async with workers() as spawn:
        holder = await spawn(
            process_place.url, NAME, "hold", "--ttl", "1", "--log", str(log), tag="holder"
        )
        await holder.expect("ready")
        await holder.expect("acquired")
        waiter = await spawn(
            process_place.url, NAME, "hold", "--timeout", "60", "--log", str(log), tag="next"
        )
        await waiter.expect("ready")
        await _queued(process_place, 2)
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
    assert _read(log).splitlines() == ["holder", "next"]


async def test_live_holder_keeps_the_lock_for_many_ttls(
    process_place: Place, tmp_path: Path
) -> None:
    log = tmp_path / "long"
    async with workers() as spawn:
        holder = await spawn(
            process_place.url, NAME, "hold", "--ttl", "1", "--log", str(log), tag="holder"
        )
        await holder.expect("ready")
        await holder.expect("acquired")
        # The waiter gives up after 4 ttls of the holder: it never got the lock.
        waiter = await spawn(
            process_place.url, NAME, "hold", "--timeout", "4", "--log", str(log), tag="waiter"
        )
        await waiter.expect("ready")
        await waiter.expect("timeout")
        assert await waiter.finish() == ""
        assert await process_place.queue(NAME) == 1  # the waiter left the queue
        await holder.send("release")
        await holder.expect("released")
        assert await holder.finish() == ""
    assert _read(log).splitlines() == ["holder"]


async def test_ctrl_c_while_waiting_or_holding_leaves_nothing_behind(
    process_place: Place, tmp_path: Path
) -> None:
    log = tmp_path / "interrupted"
    common = ("--log", str(log), "--timeout", "60")
    async with workers() as spawn:
        holder = await spawn(process_place.url, NAME, "hold", *common, tag="holder")
        await holder.expect("ready")
        await holder.expect("acquired")
        waiter = await spawn(process_place.url, NAME, "hold", *common, tag="waiter")
        await waiter.expect("ready")
        await _queued(process_place, 2)
        waiter.signal(signal.SIGINT)
        await waiter.expect("interrupted")
        assert await waiter.finish() == ""
        assert await process_place.queue(NAME) == 1
        holder.signal(signal.SIGINT)
        await holder.expect("interrupted")
        assert await holder.finish() == ""
        assert await process_place.queue(NAME) == 0
        late = await spawn(
            process_place.url,
            NAME,
            "hold",
            "--at-once",
            "--timeout",
            "0",
            "--log",
            str(log),
            tag="late",
        )
        await late.expect("ready")
        await late.expect("acquired")
        assert await late.finish() == ""
    assert _read(log).splitlines() == ["holder", "late"]


async def _queued(place: Place, count: int) -> None:
    async def reached() -> bool:
        return await place.queue(NAME) >= count

    await eventually(reached)


def _read(path: Path) -> str:
    return path.read_text()
