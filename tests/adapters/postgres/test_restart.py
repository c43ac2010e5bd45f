"""PostgreSQL restarted while writes are in flight: no acknowledged write is lost."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import adapters

from ..backends import PG_LOCK_PATH, PG_URL

pytestmark = pytest.mark.postgres

WRITERS = 3


def _cluster_version() -> str | None:
    if shutil.which("pg_ctlcluster") is None or os.geteuid() != 0:
        return None
    versions = sorted(p.name for p in Path("/etc/postgresql").glob("*") if p.is_dir())
    return versions[-1] if versions else None


async def _writer(
    coll: adapters.Collection[dict[str, object]],
    name: str,
    acked: list[str],
    failures: list[adapters.BackendUnavailable],
    stop: asyncio.Event,
    progress: asyncio.Event,
) -> None:
    n = 0
    while not stop.is_set():
        key = f"{name}-{n}"
        n += 1
        try:
            await coll.insert({"writer": name, "n": n}, key=key)
        except adapters.BackendUnavailable as exc:
            failures.append(exc)
            continue
        acked.append(key)
        progress.set()


async def _until_acked(
    acked: list[str], count: int, progress: asyncio.Event, deadline: float
) -> None:
    """Wait for writer progress until ``count`` writes are acknowledged (bounded)."""
    async with asyncio.timeout(deadline):
        while len(acked) < count:
            progress.clear()
            await progress.wait()


@contextlib.asynccontextmanager
async def _exclusive() -> AsyncIterator[None]:
    """Hold the PostgreSQL test lock exclusively: no cooperating test is running.

    Polls (bounded) rather than blocking, so a busy machine cannot starve this
    test forever; after the deadline it restarts anyway.
    """
    fd = os.open(PG_LOCK_PATH, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if loop.time() > deadline:
                    break
                await asyncio.sleep(0.05)  # poll interval while other sessions finish
        yield
    finally:
        os.close(fd)


async def _restart(version: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        "pg_ctlcluster",
        "--skip-systemctl-redirect",
        version,
        "main",
        "restart",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert await proc.wait() == 0


async def _write_through_a_restart(
    coll: adapters.Collection[dict[str, object]],
    version: str,
    acked: list[str],
    failures: list[adapters.BackendUnavailable],
) -> None:
    """Writers insert all along; PostgreSQL restarts once 30 writes are acknowledged.

    Returns once 30 more writes were acknowledged after the restart: the pool
    recovers by itself.
    """
    stop = asyncio.Event()
    progress = asyncio.Event()
    tasks = [
        asyncio.create_task(_writer(coll, f"w{i}", acked, failures, stop, progress))
        for i in range(WRITERS)
    ]
    try:
        await _until_acked(acked, 30, progress, 30)
        await _restart(version)
        await _until_acked(acked, len(acked) + 30, progress, 60)
    finally:
        stop.set()
        await asyncio.gather(*tasks)


async def test_restart_loses_no_acknowledged_write(pg_schema_unlocked: str) -> None:
    version = _cluster_version()
    if version is None:
        pytest.skip("needs root and pg_ctlcluster to restart PostgreSQL")
    pg_schema = pg_schema_unlocked
    async with (
        _exclusive(),
        adapters.connect(PG_URL, schema=pg_schema, timeout=2.0) as store,
    ):
        coll = store.collection("durable")
        acked: list[str] = []
        failures: list[adapters.BackendUnavailable] = []
        await _write_through_a_restart(coll, version, acked, failures)
        stored = {r.key for r in await coll.find()}
    assert set(acked) <= stored
    assert failures, "the restart should have failed some in-flight operations"
    assert all(f.url == "postgresql://***@127.0.0.1:5432/test" for f in failures)


async def _collect(
    changes: adapters.ChangeStream[dict[str, object]],
    wanted: set[str],
    seen: list[adapters.Change[dict[str, object]]],
) -> None:
    """Read changes until every key of ``wanted`` was seen (bounded by the caller)."""
    missing = set(wanted)
    while missing:
        change = await anext(changes)
        seen.append(change)
        missing.discard(change.key)


async def test_a_watch_loses_nothing_across_a_restart(pg_schema_unlocked: str) -> None:
    version = _cluster_version()
    if version is None:
        pytest.skip("needs root and pg_ctlcluster to restart PostgreSQL")
    pg_schema = pg_schema_unlocked
    async with (
        _exclusive(),
        adapters.connect(PG_URL, schema=pg_schema, timeout=2.0) as store,
        adapters.connect(PG_URL, schema=pg_schema, timeout=2.0) as watching,
    ):
        coll = store.collection("feed")
        acked: list[str] = []
        seen: list[adapters.Change[dict[str, object]]] = []
        async with watching.collection("feed").watch() as changes:
            await _write_through_a_restart(coll, version, acked, [])
            async with asyncio.timeout(60):
                await _collect(changes, set(acked), seen)
        keys = [c.key for c in seen]
        assert len(keys) == len(set(keys)), "a change was delivered twice"
        for writer in {k.split("-")[0] for k in keys}:
            numbers = [int(k.split("-")[1]) for k in keys if k.startswith(f"{writer}-")]
            assert numbers == sorted(numbers), f"{writer}'s inserts out of order"
        assert [c.cursor for c in seen] == sorted(c.cursor for c in seen)
        # A consumer that stopped at the tenth change resumes with the rest, once.
        async with watching.collection("feed").watch(since=seen[9].cursor) as resumed:
            async with asyncio.timeout(60):
                rest = [await anext(resumed) for _ in range(len(seen) - 10)]
        assert [c.key for c in rest] == keys[10:]
