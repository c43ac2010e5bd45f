"""The ``beaver+http://`` Collection backend: what the contract suite does not cover."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import adapters
from adapters.beaver import AsyncBeaverClient
from tests.adapters.beaver.conftest import API_KEY
from tests.adapters.beaver.server import running_server

pytestmark = pytest.mark.beaver


def _url(http_url: str, namespace: str, **query: Any) -> str:
    params = "&".join(f"{k}={v}" for k, v in {"namespace": namespace, **query}.items())
    return f"beaver+{http_url}?{params}"


async def test_collections_drop_and_awkward_names(beaver_url: str, name: str) -> None:
    async with adapters.connect(_url(beaver_url, name)) as store:
        assert await store.collections() == []
        for coll in ("a/b", "count", ".", "users"):
            await store.collection(coll).insert({"v": 1}, key="k")
        await store.collection("empty").insert({}, key="k")
        await store.collection("empty").delete("k")
        assert await store.collections() == [".", "a/b", "count", "users"]
        assert await store.drop("a/b")
        assert not await store.drop("a/b")
        assert await store.collections() == [".", "count", "users"]
        assert await store.collection("a/b").count() == 0
        await store.collection("a/b").insert({"v": 2}, key="k")
        got = await store.collection("a/b").get("k")
    assert got is not None
    assert (got.data, got.version) == ({"v": 2}, 1)


async def test_namespaces_isolate(beaver_url: str, name: str) -> None:
    async with (
        adapters.connect(_url(beaver_url, name + "-1")) as one,
        adapters.connect(_url(beaver_url, name + "-2")) as two,
    ):
        await one.collection("c").insert({"v": 1}, key="k")
        assert await two.collection("c").get("k") is None
        assert await two.collections() == []


async def test_entries_that_are_not_operations_are_ignored(beaver_url: str, name: str) -> None:
    async with adapters.connect(_url(beaver_url, name)) as store:
        coll = store.collection("c")
        await coll.insert({"v": 1}, key="a")
        async with AsyncBeaverClient(beaver_url) as raw:
            await raw.log(f"{name}.c.c").log({"not": "ours"})
        await coll.insert({"v": 2}, key="b")
        assert [r.key for r in await coll.find()] == ["a", "b"]


async def test_api_key_in_url_or_option(keyed_beaver_url: str, name: str) -> None:
    host = keyed_beaver_url.removeprefix("http://")
    async with adapters.connect(f"beaver+http://{API_KEY}@{host}?namespace={name}") as store:
        await store.collection("c").insert({"v": 1}, key="k")
        assert API_KEY not in repr(store)
    async with adapters.connect(_url(keyed_beaver_url, name), api_key=API_KEY) as store:
        assert await store.collection("c").count() == 1
    with pytest.raises(adapters.BackendUnavailable, match="AuthError") as info:
        await adapters.connect(f"beaver+http://bad-k3y-zz@{host}")
    assert "bad-k3y-zz" not in str(info.value)


async def test_unreachable_server_is_backend_unavailable() -> None:
    with pytest.raises(adapters.BackendUnavailable, match=r"127\.0\.0\.1:1"):
        await adapters.connect("beaver+http://127.0.0.1:1", timeout=2)


@pytest.mark.parametrize(
    ("url", "options", "error"),
    [
        ("beaver+ftp://h", {}, ValueError),
        ("beaver+http://h?poll_interval=fast", {}, ValueError),
        ("beaver+http://h", {"poll_interval": -1}, ValueError),
        ("beaver+http://h", {"colour": "red"}, TypeError),
    ],
)
async def test_bad_urls_and_options(
    url: str, options: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        await adapters.connect(url, **options)


async def test_concurrent_writers_agree_on_one_order(beaver_url: str, name: str) -> None:
    url = _url(beaver_url, name)
    async with adapters.connect(url) as first, adapters.connect(url) as second:
        a, b = first.collection("c"), second.collection("c")
        await asyncio.gather(*(c.insert({"i": i}, key=f"k{i}") for i, c in enumerate([a, b] * 25)))
        assert await a.count() == 50
        assert await a.find() == await b.find()


async def test_watch_resumes_after_a_server_restart(tmp_path: Path, name: str) -> None:
    with running_server(tmp_path) as http_url:
        port = int(http_url.rsplit(":", 1)[1])
        url = _url(http_url, name, poll_interval=0.02)
        watcher = await adapters.connect(url, timeout=1)
        changes = watcher.collection("c").watch()
        await changes.start()
    try:
        # The server is down: the watcher's polls fail and it keeps retrying.
        with running_server(tmp_path, port=port):
            async with adapters.connect(url) as writer:
                await writer.collection("c").insert({"v": 1}, key="after-restart")
            change = await asyncio.wait_for(anext(changes), timeout=30)
            assert (change.kind, change.key) == ("inserted", "after-restart")
            await watcher.close()
    finally:
        await watcher.close()


async def test_malformed_operations_are_skipped_by_every_store(beaver_url: str, name: str) -> None:
    async with adapters.connect(_url(beaver_url, name)) as store:
        coll = store.collection("c")
        await coll.insert({"v": 1}, key="a")
        async with AsyncBeaverClient(beaver_url) as raw:
            # Our marker, but no "at" and no key: appended at the next chain slot.
            last = (await raw.log(f"{name}.c.c").range(order="DESC", limit=1))[0].timestamp
            await raw.log(f"{name}.c.c").log({"noex": 1, "op": "update"}, timestamp=last + 1e-6)
        await coll.insert({"v": 2}, key="b")
        assert [r.key for r in await coll.find()] == ["a", "b"]
    async with adapters.connect(_url(beaver_url, name)) as fresh:
        assert [r.key for r in await fresh.collection("c").find()] == ["a", "b"]
