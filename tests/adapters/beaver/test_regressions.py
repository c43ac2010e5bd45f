"""Regression tests for the failures of a naive BeaverDB REST client, on the real server.

Each test fails with a client that builds URLs with ``str.format``, reuses a pooled
connection after an error reply, or sends a blocking ``queue.get`` without a
server-side timeout.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import quote

import httpx
import pytest

from adapters.beaver import AsyncBeaverClient, BeaverClient, KeyNotFound, RemoteTimeout

pytestmark = pytest.mark.beaver

TRICKY_KEYS = ["a?b", "h#x", "a%41", "café ?#", "sp ace", "plus+", "semi;colon", "amp&=", "clear"]


def _raw_fetch(url: str, name: str, key: str) -> object:
    """Read a key with a hand-built, correctly encoded request (fetch + key override)."""
    params = {"key": json.dumps(key), "default": json.dumps("<absent>")}
    response = httpx.get(f"{url}/dicts/{name}/_/fetch", params=params)
    response.raise_for_status()
    return response.json()


@pytest.mark.parametrize("key", TRICKY_KEYS)
def test_keys_are_percent_encoded(db: BeaverClient, beaver_url: str, name: str, key: str) -> None:
    d = db.dict(name)
    d[key] = {"key": key}
    assert d[key] == {"key": key}
    assert key in d
    assert _raw_fetch(beaver_url, name, key) == {"key": key}
    # What a str.format client would have written instead: "a", "h", "aA", ...
    assert len(d) == 1
    del d[key]
    assert len(d) == 0


def test_percent_encoded_path_matches_the_server_form(beaver_url: str, name: str) -> None:
    with BeaverClient(beaver_url) as db:
        db.dict(name)["café ?#"] = "ok"
    response = httpx.get(f"{beaver_url}/dicts/{name}/{quote('café ?#', safe='')}")
    assert response.json() == "ok"


@pytest.mark.parametrize("key", ["count", "a/b", "/", "", ".", "..", "x/../y"])
def test_keys_the_path_cannot_carry_still_work(
    db: BeaverClient, beaver_url: str, name: str, key: str
) -> None:
    d = db.dict(name)
    d["other"] = "untouched"
    d[key] = 7
    assert d[key] == 7  # for "count": the value, not the dict's size
    assert d.get(key) == 7
    assert d.fetch(key) == 7
    assert key in d
    assert len(d) == 2
    assert _raw_fetch(beaver_url, name, key) == 7
    assert d.pop(key) == 7
    assert key not in d
    with pytest.raises(KeyNotFound):
        d[key]
    d[key] = 8
    del d[key]
    with pytest.raises(KeyNotFound):
        del d[key]
    assert d["other"] == "untouched"
    assert len(d) == 1


def test_request_after_an_error_reply_succeeds_sync(db: BeaverClient, name: str) -> None:
    d, lst = db.dict(name), db.list(name)
    for i in range(25):
        with pytest.raises(KeyNotFound):
            d["missing"]
        # POST is not idempotent, so this must not depend on a resend.
        lst.push(i)
        with pytest.raises(IndexError):
            lst[1000]
        d[f"k{i}"] = i
    assert len(lst) == 25
    assert len(d) == 25


async def test_request_after_an_error_reply_succeeds_async(
    adb: AsyncBeaverClient, name: str
) -> None:
    d, lst = adb.dict(name), adb.list(name)
    for i in range(25):
        with pytest.raises(KeyNotFound):
            await d.get("missing")
        await lst.push(i)

    async def miss_then_push(i: int) -> None:
        with pytest.raises(KeyNotFound):
            await d.get(f"missing-{i}")
        await lst.push(i)

    await asyncio.gather(*(miss_then_push(i) for i in range(100)))
    assert await lst.count() == 125


def test_blocking_get_never_outlives_the_http_timeout(beaver_url: str, name: str) -> None:
    # HTTP timeout 0.6 s, but the caller waits 1 s: a client that sent timeout=1 to
    # the server would give up at 0.6 s and leave the server polling, and the item
    # put next would be swallowed by that abandoned poll.
    with BeaverClient(beaver_url, timeout=0.6, queue_poll=0.2) as db:
        q = db.queue(name)
        with pytest.raises(RemoteTimeout, match=r"within 1\.0 s"):
            q.get(timeout=1.0)
        q.put("precious", 1)
        assert len(q) == 1
        assert q.get(block=False).data == "precious"


async def test_async_blocking_get_polls_in_bounded_slices(beaver_url: str, name: str) -> None:
    async with AsyncBeaverClient(beaver_url, timeout=0.6, queue_poll=0.2) as db:
        q = db.queue(name)
        with pytest.raises(RemoteTimeout):
            await q.get(timeout=1.0)
        await q.put("precious", 1)
        assert await q.count() == 1
        # A waiter with no timeout keeps polling across slices until an item comes.
        waiter = asyncio.create_task(q.get())
        assert (await waiter).data == "precious"
