"""Client-level behaviour: auth, lifecycle, typed models, features missing over REST."""

from __future__ import annotations

import dataclasses
import pickle
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest

import adapters
from adapters.beaver import (
    AsyncBeaverClient,
    AuthError,
    BeaverClient,
    ClientClosed,
    ConnectionFailed,
    DecodeError,
    InvalidName,
    NotSupportedRemotely,
    UnsupportedValue,
)
from tests.adapters.beaver.conftest import API_KEY
from tests.adapters.beaver.server import run_local_beaver

pytestmark = pytest.mark.beaver


def test_bearer_key_is_required_and_checked(keyed_beaver_url: str, name: str) -> None:
    with BeaverClient(keyed_beaver_url, api_key=API_KEY) as db:
        db.dict(name)["k"] = 1
        assert db.dict(name)["k"] == 1
    for key in (None, "wrong", API_KEY.upper()):
        with BeaverClient(keyed_beaver_url, api_key=key) as db, pytest.raises(AuthError) as info:
            db.dict(name)["k"]
        assert API_KEY not in str(info.value)


async def test_async_client_sends_the_key(keyed_beaver_url: str, name: str) -> None:
    async with AsyncBeaverClient(keyed_beaver_url, api_key=API_KEY) as db:
        await db.list(name).push(1)
        assert await db.list(name).count() == 1
    async with AsyncBeaverClient(keyed_beaver_url, api_key="nope") as db:
        with pytest.raises(AuthError):
            await db.list(name).count()


async def test_secrets_stay_out_of_reprs_and_messages() -> None:
    db = BeaverClient("http://user:pw@127.0.0.1:1", api_key="topsecret")
    try:
        for text in (repr(db), repr(db.settings), repr(db.as_async())):
            assert "topsecret" not in text
            assert "pw" not in text
        with pytest.raises(ConnectionFailed) as info:
            db.dict("d")["k"]
        assert "topsecret" not in str(info.value)
        assert ":pw@" not in str(info.value)
        assert "127.0.0.1:1" in str(info.value)
    finally:
        await db.aclose()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"base_url": "ftp://x"},
        {"base_url": "localhost:8000"},
        {"base_url": "http://h", "timeout": 0},
        {"base_url": "http://h", "queue_poll": 0},
        {"base_url": "http://h", "queue_poll": float("nan")},
        {"base_url": "http://h", "max_connections": 0},
    ],
)
def test_bad_settings(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 -- each case names a different argument
        BeaverClient(**kwargs)


def test_closed_client_refuses_calls(beaver_url: str, name: str) -> None:
    db = BeaverClient(beaver_url)
    db.close()
    with pytest.raises(ClientClosed):
        db.dict(name)["k"] = 1
    with pytest.raises(ClientClosed):
        db.as_async()


async def test_closed_async_client_refuses_calls(beaver_url: str, name: str) -> None:
    db = AsyncBeaverClient(beaver_url)
    await db.close()
    with pytest.raises(ClientClosed):
        await db.queue(name).count()


@pytest.mark.parametrize("bad", ["", ".", "..", "a/b"])
def test_unaddressable_names_are_rejected(db: BeaverClient, bad: str) -> None:
    for factory in (db.dict, db.list, db.queue, db.log):
        with pytest.raises(InvalidName, match="cannot be addressed"):
            factory(bad)


class User(msgspec.Struct):
    name: str
    age: int


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Celsius:
    """A class with the documented encode/decode hooks."""

    def __init__(self, degrees: float) -> None:
        self.degrees = degrees

    def __beaver_encode__(self) -> dict[str, float]:
        return {"c": self.degrees}

    @classmethod
    def __beaver_decode__(cls, value: dict[str, float]) -> Celsius:
        return cls(value["c"])


def test_struct_model_round_trips_and_validates(db: BeaverClient, name: str) -> None:
    users = db.dict(name, model=User)
    users["alice"] = User("alice", 30)
    got = users["alice"]
    assert got == User("alice", 30)
    db.dict(name)["broken"] = {"name": "bob", "age": "old"}
    with pytest.raises(DecodeError, match=r"User.*\$\.age"):
        users["broken"]
    q = db.queue(name, model=Point)
    q.put(Point(1, 2), 1)
    assert q.get().data == Point(1, 2)
    log = db.log(name, model=Celsius)
    log.log(Celsius(21.5), timestamp=10.0)
    assert [e.data.degrees for e in log.range()] == [21.5]
    lst = db.list(name, model=User)
    lst.push(User("c", 1))
    assert lst.pop() == User("c", 1)


async def test_models_work_on_the_async_side(db: BeaverClient, name: str) -> None:
    d = db.dict(name, model=User).as_async()
    await d.set("u", User("u", 1))
    assert await d.get("u") == User("u", 1)
    await db.aclose()


def test_unencodable_value_is_a_type_error(db: BeaverClient, name: str) -> None:
    with pytest.raises(TypeError) as info:
        db.dict(name)["k"] = object()
    assert isinstance(info.value, UnsupportedValue)
    with pytest.raises(UnsupportedValue):
        db.dict(name)[None] = 1  # type: ignore[arg-type]


def _missing_features(db: BeaverClient, name: str) -> list[Callable[[], object]]:
    d, lst, q, log = db.dict(name), db.list(name), db.queue(name), db.log(name)
    return [
        lambda: db.docs(name),
        lambda: db.collection(name),
        lambda: db.dict(name, secret="s3cret"),
        lambda: db.vectors(name),
        lambda: db.graph(name),
        lambda: db.channel(name),
        lambda: db.blob(name),
        lambda: db.lock(name),
        lambda: db.sketch(name),
        lambda: db.events(name),
        lambda: db.transaction(),
        lambda: d.keys(),
        lambda: d.items(),
        lambda: list(d),
        lambda: d.dump(),
        lambda: d.acquire(),
        lambda: d.locked,
        lambda: q.events,
        lambda: d.__enter__(),
        lambda: lst[0:2],  # type: ignore[arg-type]
        lambda: list(lst),
        lambda: lst.batched(),
        lambda: list(q),
        lambda: log.live(),
        lambda: log.range(where=[("level", "==", "warn")]),
    ]


def test_features_missing_over_rest_raise_not_supported(db: BeaverClient, name: str) -> None:
    for feature in _missing_features(db, name):
        with pytest.raises(NotSupportedRemotely, match="not available over BeaverDB's REST API"):
            feature()
    with pytest.raises(NotSupportedRemotely, match="per-structure lock"), db.list(name):
        pass


def test_client_errors_are_adapter_errors(db: BeaverClient, name: str) -> None:
    import adapters

    with pytest.raises(adapters.AdapterError):
        db.dict(name)["missing"]


async def test_missing_features_on_the_async_side(adb: AsyncBeaverClient, name: str) -> None:
    with pytest.raises(NotSupportedRemotely, match=r"dict\.keys\(\)"):
        adb.dict(name).keys()
    with pytest.raises(NotSupportedRemotely, match="list slicing"):
        await adb.list(name).get(slice(0, 2))  # type: ignore[arg-type]
    with pytest.raises(NotSupportedRemotely, match=r"where"):
        await adb.log(name).range(where=["x"])
    with pytest.raises(NotSupportedRemotely, match=r"db\.docs"):
        adb.docs(name)
    with pytest.raises(NotSupportedRemotely, match="per-structure lock"):
        async with adb.queue(name):
            pass
    assert await adb.connect() is adb
    assert adb.as_async() is adb


def test_not_supported_remotely_is_beavers_own_local_only_error() -> None:
    # Run with the real beaver-db 2.4.1 (it needs Python 3.12: the server's venv),
    # loading just the error modules of this package (the rest needs msgspec).
    root = Path(adapters.__file__).parent
    script = f"""
import json, pickle, sys, types
for name, path in (("adapters", {str(root)!r}), ("adapters.beaver", {str(root / "beaver")!r})):
    module = types.ModuleType(name)
    module.__path__ = [path]
    sys.modules[name] = module
from adapters.beaver._errors import BeaverError, NotSupportedRemotely
from beaver import LocalOnlyError
try:
    raise NotSupportedRemotely("db.docs()", "none")
except LocalOnlyError as exc:
    caught = exc
again = pickle.loads(pickle.dumps(caught))
print(json.dumps({{
    "ours": isinstance(caught, NotSupportedRemotely) and isinstance(caught, BeaverError),
    "message": str(caught),
    "feature": caught.feature,
    "pickled": isinstance(again, LocalOnlyError) and str(again) == str(caught),
    "same_class": type(caught) is type(NotSupportedRemotely("x")),
}}))
"""
    assert run_local_beaver(script) == {
        "ours": True,
        "message": "db.docs() is not available over BeaverDB's REST API; none",
        "feature": "db.docs()",
        "pickled": True,
        "same_class": True,
    }


def test_not_supported_remotely_without_beaver_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "beaver.errors", raising=False)
    error = NotSupportedRemotely("db.blob()")
    assert type(error) is NotSupportedRemotely
    assert pickle.loads(pickle.dumps(error)).feature == "db.blob()"
