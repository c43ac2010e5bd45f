"""SQLite specifics: the default URL, paths, persistence and WAL mode."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import adapters


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
