"""Persistence: persistent buckets and identity data survive a server restart."""

from __future__ import annotations

import logging
import stat
from pathlib import Path
from typing import Any

import pytest

from noex_client import AuthOptions, ClientOptions, NoexClient, NoexClientError
from noex_client.testing import ConfigError, LocalServer

NOTES = {
    "name": "notes",
    "key": "n",
    "schema": {"n": {"type": "number", "generated": "autoincrement"}, "text": {"type": "string"}},
}
SCRATCH = {**NOTES, "name": "scratch", "persistent": False}
CONFIG: dict[str, Any] = {"buckets": [NOTES, SCRATCH]}


def server(path: Path, **config: Any) -> LocalServer:
    return LocalServer.from_config({**CONFIG, **config, "persistence": {"path": str(path)}})


async def test_persistent_buckets_keep_their_records_across_servers(tmp_path: Path) -> None:
    async with server(tmp_path) as first, NoexClient(first.url) as client:
        stats = await client.store.stats()
        assert stats["persistence"] == {"enabled": True}
        notes = client.store.bucket("notes")
        await notes.insert({"text": "one"})
        two = await notes.insert({"text": "two"})
        await notes.update(two["n"], {"text": "two!"})
        await notes.delete(1)
        await notes.insert({"text": "three"})
        await client.store.bucket("scratch").insert({"text": "gone"})
        kept = await notes.all()
    async with server(tmp_path) as second, NoexClient(second.url) as client:
        notes = client.store.bucket("notes")
        assert await notes.all() == kept  # records, metadata and order
        assert [r["_version"] for r in kept] == [2, 1]
        assert (await notes.insert({"text": "four"}))["n"] == 4  # the counter continues
        assert await client.store.bucket("scratch").all() == []  # persistent: false


async def test_clear_and_transactions_are_saved(tmp_path: Path) -> None:
    async with server(tmp_path) as first, NoexClient(first.url) as client:
        await client.store.bucket("notes").insert({"text": "old"})
        await client.store.bucket("notes").clear()
        await client.store.transaction(
            [{"op": "insert", "bucket": "notes", "data": {"text": "a"}},
             {"op": "insert", "bucket": "notes", "data": {"text": "b"}}]
        )  # fmt: skip
    async with server(tmp_path) as second, NoexClient(second.url) as client:
        assert [r["text"] for r in await client.store.bucket("notes").all()] == ["a", "b"]


async def test_defined_buckets_get_their_records_back_when_defined_again(tmp_path: Path) -> None:
    definition = {"key": "id", "schema": {"id": {"type": "string"}}}
    async with server(tmp_path) as first, NoexClient(first.url) as client:
        await client.store.define_bucket("late", definition)
        await client.store.bucket("late").insert({"id": "x"})
        await client.store.define_bucket("dropped", definition)
        await client.store.bucket("dropped").insert({"id": "y"})
        await client.store.drop_bucket("dropped")
    async with server(tmp_path) as second, NoexClient(second.url) as client:
        assert "late" not in (await client.store.buckets())["names"]  # as in noex-store
        await client.store.define_bucket("late", definition)
        assert [r["id"] for r in await client.store.bucket("late").all()] == ["x"]
        await client.store.define_bucket("dropped", definition)
        assert await client.store.bucket("dropped").all() == []  # dropping deleted the data


async def test_server_side_writes_and_restarts_of_one_server(tmp_path: Path) -> None:
    running = server(tmp_path)
    async with running:
        running.store.bucket("notes").insert({"text": "direct"})  # no request: saved at stop
        await running.restart()  # a restart without keep_data reads the directory again
        assert [r["text"] for r in running.store.bucket("notes").records()] == ["direct"]
    async with server(tmp_path) as again:
        assert len(again.store.bucket("notes")) == 1


async def test_identity_data_survives(tmp_path: Path) -> None:
    auth = {"builtIn": True, "adminSecret": "s3cret"}
    async with server(tmp_path, auth=auth) as first, NoexClient(first.url) as admin:
        await admin.identity.login_with_secret("s3cret")
        alice = await admin.identity.create_user({"username": "alice", "password": "Alice-pw1"})
        await admin.identity.assign_role(alice["id"], "writer")
        login = await admin.identity.login("alice", "Alice-pw1")
    async with server(tmp_path, auth=auth) as second:
        resumed = ClientOptions(auth=AuthOptions(token=login["token"]))
        async with NoexClient(second.url, resumed) as client:
            who = await client.auth.whoami()
            assert who is not None
            assert (who["userId"], who["roles"]) == (alice["id"], ["writer"])
            await client.store.bucket("notes").insert({"text": "by alice"})
        async with NoexClient(second.url) as client:
            again = await client.identity.login("alice", "Alice-pw1")
            assert again["user"]["roles"] == ["writer"]
            with pytest.raises(NoexClientError) as info:
                await client.identity.login("alice", "wrong-password")
            assert info.value.code == "UNAUTHORIZED"
    assert file_modes(tmp_path) == {0o600}
    assert b"Alice-pw1" not in (tmp_path / "identity.json").read_bytes()  # a hash only


def file_modes(path: Path) -> set[int]:
    """The permission bits of the files a server saved under ``path``."""
    files = [path / "identity.json", *(path / "buckets").iterdir()]
    return {stat.S_IMODE(f.stat().st_mode) for f in files}


async def test_without_persistence_nothing_is_kept() -> None:
    async with LocalServer.from_config(CONFIG) as first, NoexClient(first.url) as client:
        assert (await client.store.stats())["persistence"] == {"enabled": False}
        await client.store.bucket("notes").insert({"text": "x"})
        await first.restart()
        assert len(first.store.bucket("notes")) == 0


def test_unreadable_files_and_bad_config_are_config_errors(tmp_path: Path) -> None:
    (tmp_path / "buckets").mkdir()
    (tmp_path / "buckets" / "notes.json").write_text("{not json")
    with pytest.raises(ConfigError, match=r"notes\.json.* cannot be read"):
        server(tmp_path)
    (tmp_path / "buckets" / "notes.json").write_text('{"records": 3}')
    with pytest.raises(ConfigError, match=r"notes\.json.* is malformed"):
        server(tmp_path)
    with pytest.raises(ConfigError, match="'persistence' must be an object with a string 'path'"):
        LocalServer.from_config({"persistence": "/tmp/x"})
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match="persistence path"):
        server(tmp_path / "file" / "below")


async def test_a_failed_write_is_logged_and_retried_at_the_next_change(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with server(tmp_path) as running, NoexClient(running.url) as client:
        notes = client.store.bucket("notes")
        block_saving(tmp_path)
        with caplog.at_level(logging.ERROR, logger="noex_client"):
            await notes.insert({"text": "kept in memory"})  # the request still succeeds
        assert "saving to" in caplog.text
        allow_saving(tmp_path)
        await notes.insert({"text": "and then saved"})
    async with server(tmp_path) as again:
        texts = [r["text"] for r in again.store.bucket("notes").records()]
        assert texts == ["kept in memory", "and then saved"]


def block_saving(path: Path) -> None:
    """Put a file where the bucket directory was (writes fail even for root)."""
    (path / "buckets").rmdir()
    (path / "buckets").write_text("")


def allow_saving(path: Path) -> None:
    (path / "buckets").unlink()
    (path / "buckets").mkdir()
