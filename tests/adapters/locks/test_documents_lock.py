"""``lock()`` on the document-store facades: awaited and synchronous."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import adapters
from adapters.documents import AsyncDocumentStore, DocumentStore

NAME = "import-job"


async def test_async_facade_locks_like_its_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/docs.db"
    async with await AsyncDocumentStore.open(url) as docs, adapters.connect(url) as store:
        async with docs.lock(NAME, ttl=5) as lock:
            assert lock.held
            with pytest.raises(adapters.LockTimeout):
                async with store.lock(NAME, timeout=0):
                    pass
        async with store.lock(NAME, timeout=0):
            pass


def test_sync_facade_excludes_other_threads_and_times_out(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/docs.db"
    with DocumentStore(url) as first, DocumentStore(url) as second:
        inside = threading.Event()
        release = threading.Event()
        done: list[str] = []

        def holder() -> None:
            with first.lock(NAME, ttl=5) as lock:
                assert lock.held
                inside.set()
                release.wait(30)
            done.append("holder")

        thread = threading.Thread(target=holder)
        thread.start()
        assert inside.wait(30)
        with pytest.raises(adapters.LockTimeout), second.lock(NAME, timeout=0.2):
            pytest.fail("two holders")
        release.set()
        thread.join(30)
        with second.lock(NAME, timeout=10) as lock:
            assert lock.name == NAME
            done.append("second")
        assert not lock.held
    assert done == ["holder", "second"]


def test_sync_facade_reports_a_lost_lock_on_exit(tmp_path: Path) -> None:
    url = f"memory://docs-{tmp_path.name}"
    with DocumentStore(url) as docs, DocumentStore(url) as other:
        with pytest.raises(adapters.LockLost) as info:
            _hold_through_a_stall(docs, other)
        assert "ttl" in info.value.reason


def _hold_through_a_stall(docs: DocumentStore, other: DocumentStore) -> None:
    with docs.lock(NAME, ttl=0.3) as lock:
        # Stall the store's event-loop thread: no renewal runs until another
        # store took the lock over.
        stalled = threading.Event()
        docs._runner.loop.call_soon_threadsafe(stalled.wait, 30)
        with other.lock(NAME, timeout=30):
            stalled.set()
            assert not lock.held


def test_sync_facade_lock_on_a_closed_store_raises(tmp_path: Path) -> None:
    docs = DocumentStore(f"sqlite:///{tmp_path}/docs.db")
    docs.close()
    with pytest.raises(RuntimeError, match="closed"):
        docs.lock(NAME)
