"""Dict endpoints (D1-D8) through the sync and async clients, on the real server."""

from __future__ import annotations

import pytest

from adapters.beaver import AsyncBeaverClient, BadRequest, BeaverClient, KeyNotFound

pytestmark = pytest.mark.beaver


def test_mapping_protocol(db: BeaverClient, name: str) -> None:
    d = db.dict(name)
    assert len(d) == 0
    d["alice"] = {"age": 30, "tags": ["admin"]}
    assert d["alice"] == {"age": 30, "tags": ["admin"]}
    assert "alice" in d
    assert "bob" not in d
    assert len(d) == 1
    d["alice"] = None  # a stored null is a value, not a miss
    assert d["alice"] is None
    del d["alice"]
    assert "alice" not in d
    assert len(d) == 0


def test_get_and_delete_of_missing_key_raise_key_error(db: BeaverClient, name: str) -> None:
    d = db.dict(name)
    with pytest.raises(KeyError) as info:
        d["nope"]
    assert isinstance(info.value, KeyNotFound)
    assert info.value.key == "nope"
    assert str(info.value) == f"key 'nope' not found in dict '{name}'"
    with pytest.raises(KeyNotFound):
        d.get("nope")
    assert d.get("nope", None) is None  # like dict.get when a default is given
    assert d.get("nope", 5) == 5
    with pytest.raises(KeyNotFound):
        del d["nope"]
    with pytest.raises(KeyNotFound):
        d.delete("nope")


def test_fetch_pop_and_clear(db: BeaverClient, name: str) -> None:
    d = db.dict(name)
    assert d.fetch("k") is None
    assert d.fetch("k", {"age": 0}) == {"age": 0}
    d.set("k", [1, 2])
    d.set("n", None)
    assert d.fetch("k", "default") == [1, 2]
    assert d.fetch("n", "default") is None  # stored null is not "missing"
    assert d.pop("k") == [1, 2]
    assert d.pop("k") is None
    assert d.pop("k", "gone") == "gone"
    assert d.pop("n", "gone") is None
    d.set("a", 1)
    d.set("b", 2)
    assert d.count() == 2
    d.clear()
    assert d.count() == 0


def test_ttl_expiry_is_a_miss_for_get_and_fetch(db: BeaverClient, name: str) -> None:
    d = db.dict(name)
    # A tiny TTL is already over by the time the next request reaches the server.
    d.set("session", "tok", ttl_seconds=1e-6)
    with pytest.raises(KeyNotFound):
        d["session"]
    assert d.fetch("session", "expired") == "expired"
    d.set("long", "tok", ttl_seconds=3600)
    assert d["long"] == "tok"


@pytest.mark.parametrize("ttl", [0, -5, float("nan"), True, "10"])
def test_bad_ttl_is_refused_before_sending(db: BeaverClient, name: str, ttl: object) -> None:
    with pytest.raises(BadRequest, match="ttl_seconds"):
        db.dict(name).set("k", 1, ttl_seconds=ttl)  # type: ignore[arg-type]
    assert "k" not in db.dict(name)


async def test_async_dict_has_the_same_methods(adb: AsyncBeaverClient, name: str) -> None:
    d = adb.dict(name)
    assert d.as_async() is d
    await d.set("k", {"v": 1})
    assert await d.get("k") == {"v": 1}
    assert await d.contains("k")
    assert await d.fetch("x", 5) == 5
    assert await d.get("x", 6) == 6
    assert await d.get("k", 6) == {"v": 1}
    assert await d.count() == 1
    assert await d.pop("k") == {"v": 1}
    with pytest.raises(KeyNotFound):
        await d.get("k")
    with pytest.raises(KeyNotFound):
        await d.delete("k")
    await d.set("k", 2)
    await d.delete("k")
    await d.set("z", 3)
    await d.clear()
    assert await d.count() == 0


async def test_as_async_from_the_sync_client(beaver_url: str, name: str) -> None:
    async with BeaverClient(beaver_url) as db:
        db.dict(name)["k"] = "from sync"
        d = db.dict(name).as_async()
        assert await d.get("k") == "from sync"
        await d.set("k", "from async")
        assert db.dict(name)["k"] == "from async"
        assert db.as_async() is db.as_async()
