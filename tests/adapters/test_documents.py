"""The seed-compatible DocumentStore facades (sync and async)."""

from __future__ import annotations

import asyncio
import fcntl
import gc
import os
import re
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import adapters
from adapters.documents import (
    AsyncDocumentStore,
    Document,
    DocumentStore,
    PostgresDocumentStore,
    get_document_store,
)
from tests.docs.blocks import named_script

from .backends import PG_LOCK_PATH, PG_SESSION, PG_URL, drop_pg_schema


def _seed_flow(store: DocumentStore) -> None:
    """The seed's Quick Start, unchanged."""
    user = store.create(
        "users", {"name": "Alice", "email": "alice@example.com", "status": "active"}
    )
    assert isinstance(user, Document)
    assert uuid.UUID(user.id).version == 4
    assert (user.collection, user.version) == ("users", 1)
    retrieved = store.read("users", user.id)
    assert retrieved is not None
    assert retrieved.data == {"name": "Alice", "email": "alice@example.com", "status": "active"}
    updated = store.update("users", user.id, {"status": "inactive"})
    assert updated is not None
    assert updated.version == 2
    assert updated.data["name"] == "Alice"
    assert store.query("users", {"status": "active"}) == []
    assert [d.id for d in store.query("users", {"status": "inactive"})] == [user.id]
    assert store.list_collections() == ["users"]
    assert store.delete("users", user.id) is True
    assert store.delete("users", user.id) is False
    assert store.read("users", user.id) is None
    assert store.update("users", user.id, {"x": 1}) is None


@pytest.fixture
def sqlite_docs(tmp_path: Path) -> Iterator[DocumentStore]:
    with DocumentStore(f"sqlite:///{tmp_path}/docs.db") as store:
        yield store


def test_seed_flow_on_sqlite(sqlite_docs: DocumentStore) -> None:
    _seed_flow(sqlite_docs)


def test_query_operators_limit_and_collections(sqlite_docs: DocumentStore) -> None:
    for i in range(150):
        sqlite_docs.create("items", {"i": i, "even": i % 2 == 0}, doc_id=f"k{i:03d}")
    assert len(sqlite_docs.query("items")) == 100
    found = sqlite_docs.query("items", {"i": {"$gte": 140}, "even": True}, order_by="-i")
    assert [d.data["i"] for d in found] == [148, 146, 144, 142, 140]
    with pytest.raises(adapters.FilterError):
        sqlite_docs.query("items", {"i": {"$regex": "1"}})
    with pytest.raises(adapters.Conflict):
        sqlite_docs.update("items", "k000", {"i": -1}, if_version=9)
    assert sqlite_docs.delete_collection("items") is True
    assert sqlite_docs.list_collections() == []


def test_transactions_need_backend_support() -> None:
    with DocumentStore("memory://") as store, pytest.raises(NotImplementedError):  # noqa: SIM117
        with store.transaction():
            pass  # pragma: no cover


def test_closed_store_and_repr() -> None:
    store = DocumentStore("memory://")
    assert repr(store) == "<DocumentStore memory://>"
    store.close()
    store.close()
    with pytest.raises(RuntimeError, match="closed"):
        store.read("c", "k")


async def test_sync_api_works_inside_a_running_event_loop() -> None:
    # Called from a coroutine: blocks this loop while it waits, but works.
    with DocumentStore("memory://") as store:
        doc = store.create("c", {"a": 1})
        assert store.read("c", doc.id) == doc


def test_usable_from_several_threads(sqlite_docs: DocumentStore) -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(10):
                sqlite_docs.create("t", {"n": n, "i": i})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(sqlite_docs.query("t", limit=None)) == 40


async def test_async_twin() -> None:
    async with await AsyncDocumentStore.open("memory://") as store:
        doc = await store.create("users", {"name": "Bob"}, doc_id="bob")
        assert doc.id == "bob"
        again = await store.update("users", "bob", {"age": 3})
        assert again is not None
        assert again.data == {"name": "Bob", "age": 3}
        assert [d.id for d in await store.query("users", {"age": {"$lt": 5}})] == ["bob"]
        assert await store.list_collections() == ["users"]
        assert await store.delete_collection("users")


@pytest.fixture
def pg_docs_url() -> Iterator[str]:
    schema = f"{PG_SESSION}_docs_{uuid.uuid4().hex[:8]}"
    fd = os.open(PG_LOCK_PATH, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)  # see backends.pg_shared
        yield f"{PG_URL}?schema={schema}"
        asyncio.run(drop_pg_schema(schema))
    finally:
        os.close(fd)


def _drain_and_fail(store: DocumentStore) -> None:
    with store.transaction():
        store.update("accounts", "a", {"balance": 0})
        raise RuntimeError("boom")


@pytest.mark.postgres
def test_postgres_document_store_and_transactions(pg_docs_url: str) -> None:
    with PostgresDocumentStore(pg_docs_url) as store:
        _seed_flow(store)
        a = store.create("accounts", {"balance": 10}, doc_id="a")
        store.create("accounts", {"balance": 0}, doc_id="b")
        with store.transaction():
            store.update("accounts", "a", {"balance": 4})
            store.update("accounts", "b", {"balance": 6})
        with pytest.raises(RuntimeError, match="boom"):
            _drain_and_fail(store)
        balances = {d.id: d.data["balance"] for d in store.query("accounts")}
        assert balances == {"a": 4, "b": 6}
        assert a.version == 1


@pytest.mark.postgres
def test_get_document_store_reads_the_environment(
    pg_docs_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POSTGRES_CONNECTION_STRING", pg_docs_url)
    store = get_document_store()
    try:
        assert get_document_store() is store
        assert isinstance(store, PostgresDocumentStore)
        doc = store.create("c", {"x": 1})
        assert store.read("c", doc.id) == doc
    finally:
        store.close()


def _create_then_fail(store: DocumentStore) -> None:
    with store.transaction():
        store.create("t", {"n": 2}, doc_id="two")
        raise RuntimeError("undo")


def test_sync_transactions_on_sqlite(sqlite_docs: DocumentStore) -> None:
    with sqlite_docs.transaction():
        sqlite_docs.create("t", {"n": 1}, doc_id="one")
        assert sqlite_docs.read("t", "one") is not None
    with pytest.raises(RuntimeError, match="undo"):
        _create_then_fail(sqlite_docs)
    assert [d.id for d in sqlite_docs.query("t")] == ["one"]


# The seed's Quick Start, verbatim (its import path is provided by a shim package
# re-exporting adapters.documents): no close(), the script just ends.
SEED_QUICK_START = """
from libs.python.persistence import get_document_store

# Get the default store
store = get_document_store()

# Create a document
user = store.create("users", {
    "name": "Alice",
    "email": "alice@example.com",
    "status": "active"
})
print(f"Created user: {user.id}")

# Read a document
retrieved = store.read("users", user.id)
print(f"User: {retrieved.data}")

# Update a document
updated = store.update("users", user.id, {
    "status": "inactive"
})
print(f"Updated user version: {updated.version}")

# Query documents
active_users = store.query("users", {"status": "active"})
print(f"Found {len(active_users)} active users")

# Delete a document
deleted = store.delete("users", user.id)
print(f"Deleted: {deleted}")

# List all collections
collections = store.list_collections()
print(f"Collections: {collections}")
"""


def _run_seed(tmp_path: Path, conn_string: str) -> subprocess.CompletedProcess[str]:
    package = tmp_path / "libs" / "python" / "persistence"
    package.mkdir(parents=True)
    for folder in (tmp_path / "libs", tmp_path / "libs" / "python"):
        (folder / "__init__.py").write_text("")
    (package / "__init__.py").write_text(
        "from adapters.documents import *  # noqa: F403\n"
        "from adapters.documents import __all__ as __all__\n"
    )
    (tmp_path / "quick_start.py").write_text(SEED_QUICK_START)
    env = {**os.environ, "POSTGRES_CONNECTION_STRING": conn_string, "PYTHONPATH": str(tmp_path)}
    return subprocess.run(
        # -W default also shows the warnings Python hides by default (ResourceWarning).
        [sys.executable, "-W", "default", "quick_start.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _check_seed_output(done: subprocess.CompletedProcess[str]) -> None:
    assert done.stderr == ""  # no "Task was destroyed but it is pending!" at exit
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert re.fullmatch(r"Created user: [0-9a-f-]{36}", lines[0])
    assert lines[1:] == [
        "User: {'name': 'Alice', 'email': 'alice@example.com', 'status': 'active'}",
        "Updated user version: 2",
        "Found 0 active users",
        "Deleted: True",
        "Collections: []",
    ]


@pytest.mark.postgres
def test_seed_quick_start_runs_and_exits_cleanly_on_postgres(
    tmp_path: Path, pg_docs_url: str
) -> None:
    _check_seed_output(_run_seed(tmp_path, pg_docs_url))


def test_seed_quick_start_runs_and_exits_cleanly_on_sqlite(tmp_path: Path) -> None:
    _check_seed_output(_run_seed(tmp_path, f"sqlite:///{tmp_path}/seed.db"))


def _loop_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "adapters-documents"}


def test_an_unclosed_store_is_closed_when_dropped(tmp_path: Path) -> None:
    before = _loop_threads()
    store = DocumentStore(f"sqlite:///{tmp_path}/dropped.db")
    store.create("c", {"a": 1}, doc_id="k")
    (thread,) = _loop_threads() - before
    del store
    gc.collect()
    thread.join(timeout=10)
    assert not thread.is_alive()
    with DocumentStore(f"sqlite:///{tmp_path}/dropped.db") as again:
        assert again.read("c", "k") is not None


@pytest.mark.postgres
def test_documented_example_runs(tmp_path: Path, pg_docs_url: str) -> None:
    example = named_script("documents").code
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", example],
        cwd=tmp_path,
        env={**os.environ, "POSTGRES_CONNECTION_STRING": pg_docs_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert (tmp_path / "docs.db").exists()
