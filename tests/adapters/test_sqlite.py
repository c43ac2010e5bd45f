"""SQLite specifics: the default URL, paths, persistence and WAL mode."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

import adapters
from adapters.backends.sqlite import SqliteStore


async def test_default_url_is_a_sqlite_file_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    async with adapters.connect() as store:
        await store.collection("c").insert({"a": 1}, key="k")
    assert (tmp_path / "noex-store.db").is_file()
    async with adapters.connect("sqlite:///noex-store.db") as again:
        got = await again.collection("c").get("k")
    assert got is not None
    assert got.data == {"a": 1}


async def test_data_persists_and_file_is_in_wal_mode(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/data.db"
    async with adapters.connect(url) as store:
        rec = await store.collection("c").insert({"a": 1})
    async with adapters.connect(url) as store:
        got = await store.collection("c").get(rec.key)
    assert got == rec
    conn = sqlite3.connect(tmp_path / "data.db")
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite://host/x.db"])
async def test_bad_sqlite_urls(url: str) -> None:
    with pytest.raises(ValueError, match="sqlite"):
        await adapters.connect(url)


async def test_unopenable_file_is_backend_unavailable(tmp_path: Path) -> None:
    with pytest.raises(adapters.BackendUnavailable) as info:
        await adapters.connect(f"sqlite:///{tmp_path}/missing-dir/x.db")
    assert isinstance(info.value.__cause__, sqlite3.Error)


async def _failing_transfer(store: adapters.Store, coll: adapters.Collection[Any]) -> None:
    async with store.transaction():
        await coll.update("a", {"n": 0})
        await coll.update("missing", {"n": 1})


async def test_transactions_commit_roll_back_and_nest(tmp_path: Path) -> None:
    async with adapters.connect(f"sqlite:///{tmp_path}/tx.db") as store:
        coll = store.collection("c")
        await coll.insert({"n": 1}, key="a")
        async with coll.watch() as changes:
            with pytest.raises(adapters.NotFound):
                await _failing_transfer(store, coll)
            got = await coll.get("a")
            assert got is not None
            assert (got.data, got.version) == ({"n": 1}, 1)
            async with store.transaction():
                await coll.update("a", {"n": 2})
                with pytest.raises(adapters.NotFound):
                    await _failing_transfer(store, coll)  # nested: a savepoint
                await coll.insert({"n": 3}, key="b")
            change = await asyncio.wait_for(anext(changes), 10)
            assert change.record is not None
            assert (change.kind, change.key, change.record.data) == ("updated", "a", {"n": 2})
            change = await asyncio.wait_for(anext(changes), 10)
            assert (change.kind, change.key) == ("inserted", "b")
        final = await coll.get("a")
        assert final is not None
        assert (final.data, final.version) == ({"n": 2}, 2)


async def test_other_tasks_wait_for_an_open_transaction(tmp_path: Path) -> None:
    async with adapters.connect(f"sqlite:///{tmp_path}/tx.db") as store:
        coll = store.collection("c")
        await coll.insert({"n": 0}, key="a")
        inside = asyncio.Event()
        release = asyncio.Event()
        seen: list[int] = []

        async def in_transaction() -> None:
            async with store.transaction():
                await coll.update("a", {"n": 1})
                inside.set()
                await release.wait()
                await coll.update("a", {"n": 2})

        async def reader() -> None:
            await inside.wait()
            got = await coll.get("a")
            assert got is not None
            seen.append(got.data["n"])

        tx_task = asyncio.create_task(in_transaction())
        read_task = asyncio.create_task(reader())
        await inside.wait()
        release.set()
        await asyncio.gather(tx_task, read_task)
        # The reader never saw the uncommitted intermediate state.
        assert seen == [2]


async def test_a_writer_kept_out_by_another_writers_lock_gets_conflict(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/busy.db"
    async with adapters.connect(url, timeout=0.05) as store:
        items = store.collection("c")
        await items.insert({"n": 1}, key="k")
        other = sqlite3.connect(tmp_path / "busy.db", isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # holds the write lock
            with pytest.raises(adapters.Conflict) as info:
                await items.update("k", {"n": 2})
            assert info.value.expected is None
            assert isinstance(info.value.__cause__, sqlite3.OperationalError)
            other.execute("ROLLBACK")
        finally:
            other.close()
        got = await items.update("k", {"n": 2})
    assert (got.version, got.data) == (2, {"n": 2})


async def test_a_programming_error_is_not_reported_as_unavailable(tmp_path: Path) -> None:
    async with adapters.connect(f"sqlite:///{tmp_path}/x.db") as store:
        assert isinstance(store, SqliteStore)
        with pytest.raises(adapters.BackendError) as info:
            await store._read(lambda conn: conn.execute("SELEC nothing"))
    assert info.value.backend == "sqlite"
    assert not isinstance(info.value, adapters.BackendUnavailable)


@pytest.mark.parametrize(
    ("url", "options", "message"),
    [
        ("sqlite:///x.db?timeout=soon", {}, "sqlite option 'timeout' must be a number"),
        ("sqlite:///x.db?colour=red", {}, "unknown sqlite option 'colour'"),
        ("sqlite:///x.db", {"timeout": -1}, "'timeout' must not be negative"),
        ("sqlite:///x.db", {"retries": 3}, "unknown sqlite option 'retries'"),
    ],
)
async def test_bad_options_name_the_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, options: dict[str, Any], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=message):
        await adapters.connect(url, **options)
    assert not (tmp_path / "x.db").exists()


_WRITER = """
import asyncio, sys
import adapters

async def main() -> None:
    async with adapters.connect(sys.argv[1]) as store:
        coll = store.collection("c")
        for n in range(20):
            await coll.insert({"seq": n}, key=f"k{n}")
        await coll.update("k0", {"seq": 20})
        await coll.delete("k1")

asyncio.run(main())
"""


async def test_watch_sees_the_writes_of_another_process(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/shared.db"
    async with adapters.connect(url) as store, store.collection("c").watch() as changes:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _WRITER, url, stderr=asyncio.subprocess.PIPE
        )
        _, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
        seen = [await asyncio.wait_for(anext(changes), 10) for _ in range(22)]
    assert [c.record.data["seq"] for c in seen[:21] if c.record is not None] == list(range(21))
    assert (seen[20].kind, seen[20].old is not None) == ("updated", True)
    assert (seen[21].kind, seen[21].key) == ("deleted", "k1")
    assert [c.cursor for c in seen] == sorted(c.cursor for c in seen)


async def test_a_poll_interval_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="poll_interval"):
        await adapters.connect(f"sqlite:///{tmp_path}/x.db", poll_interval=0)
    with pytest.raises(ValueError, match="bounded"):
        await adapters.connect(f"sqlite:///{tmp_path}/x.db", feed_max_changes=0, feed_max_age=0)


async def test_the_first_poll_wakes_the_feeds(tmp_path: Path) -> None:
    # A commit of another process between a feed reading its start position and
    # the poller's first data_version reading is only seen if that first
    # reading wakes the feeds (it sets the baseline the later polls compare with).
    from adapters._feed import LogSubscription
    from adapters.backends._sqlite_feed import SqliteFeed

    class Store:
        url = "sqlite:///fake"

        async def _read(self, fn: Any) -> Any:
            return 7  # data_version never changes after the first reading

        async def _write(self, fn: Any) -> Any:
            raise AssertionError("no writes expected")

    class Options:
        poll_interval = 60.0
        feed_max_changes = 10
        feed_max_age = 0.0

    feed = SqliteFeed(Store(), str(tmp_path / "first-poll.db"), Options())
    subscription = await feed.subscribe("c", None)
    assert isinstance(subscription, LogSubscription)
    try:
        # Nothing else wakes it: no write of this process, and the next poll is a minute away.
        await asyncio.wait_for(subscription._waiter._event.wait(), 10)
    finally:
        await subscription.aclose()
        await feed.close()
