"""Keys and values are stored exactly as local BeaverDB stores them.

Each case runs twice: once through local ``beaver.BeaverDB`` 2.4.1 (in the server's
virtualenv) and once through our client against the real server; the stored keys,
stored values and refusals must agree. Where local BeaverDB keeps a value the REST
server can never send back (NaN, infinities), the client refuses it instead.
"""

from __future__ import annotations

import json
import math
from typing import Any

import httpx
import pytest

from adapters.beaver import (
    BeaverClient,
    InvalidName,
    InvalidValue,
    NotSupportedRemotely,
    UnsupportedValue,
)
from tests.adapters.beaver.server import run_local_beaver

pytestmark = pytest.mark.beaver

PRELUDE = """
import datetime, decimal, enum, json, os, tempfile, uuid
from pydantic import BaseModel

class Level(enum.IntEnum):
    HIGH = 3

class Tag(str, enum.Enum):
    A = "a"

class Person(BaseModel):
    name: str
    age: int
    seen: datetime.datetime | None = None
    score: float = 0.0
"""

KEYS = [
    "'plain'",
    "''",
    "42",
    "-7",
    "True",
    "False",
    "1.5",
    "1.0",
    "-0.0",
    "1e20",
    "1e15",
    "1e14",
    "1e-7",
    "1 / 3",
    "6795888217447865.0",
    "-1.226857469049525e+203",
    "float('inf')",
    "float('-inf')",
    "2**63 - 1",
    "-(2**63)",
    "Level.HIGH",
    "Tag.A",
]

VALUES = [
    "{'a': [1, 2.5, None, True, 'x']}",
    "(1, 2)",
    "{1: 'int key', 2.5: 'float key', True: 'bool key', None: 'null key'}",
    "10**30",
    "Person(name='Ann', age=3)",
    "Person(name='Bo', age=4, seen=datetime.datetime(2020, 1, 2, 3, 4, 5))",
    "Person(name='Cy', age=5, score=float('nan'))",
    "Level.HIGH",
    "Tag.A",
    "b'bytes'",
    "bytearray(b'x')",
    "datetime.datetime(2020, 1, 1)",
    "datetime.date(2020, 1, 1)",
    "{1, 2}",
    "frozenset([1])",
    "decimal.Decimal('1.5')",
    "uuid.UUID(int=1)",
    "{'nested': b'x'}",
    "[{1}]",
    "{'m': Person(name='Di', age=6)}",
    "{(1, 2): 'tuple key'}",
    "1j",
]

NOT_READABLE = ["float('nan')", "float('inf')", "float('-inf')", "{'x': [float('nan')]}"]

LOCAL_SCRIPT = (
    PRELUDE
    + """
import beaver
db = beaver.BeaverDB(os.path.join(tempfile.mkdtemp(), "local.db"))
keys, values = db.dict("keys"), db.dict("values")
for i, expr in enumerate(KEYS):
    keys[eval(expr)] = i
stored_keys = {keys[k]: k for k in keys.keys()}
outcomes = []
for i, expr in enumerate(VALUES):
    try:
        values[str(i)] = eval(expr)
        outcomes.append(["stored", json.dumps(values[str(i)])])
    except Exception as exc:
        outcomes.append(["refused", type(exc).__name__])
db.close()
print(json.dumps({"keys": [stored_keys[i] for i in range(len(KEYS))], "values": outcomes}))
"""
)


@pytest.fixture(scope="module")
def local() -> dict[str, Any]:
    """What local BeaverDB stores for ``KEYS`` and ``VALUES``."""
    script = f"KEYS = {KEYS!r}\nVALUES = {VALUES!r}\n" + LOCAL_SCRIPT
    result: dict[str, Any] = run_local_beaver(script)
    return result


def _evaluate(expr: str) -> Any:
    scope: dict[str, Any] = {}
    exec(PRELUDE, scope)
    return eval(expr, scope)


def _stored_items(url: str, name: str) -> dict[str, Any]:
    """The dict's rows as the server holds them (its ``dump``, read over REST)."""
    reply = httpx.post(f"{url}/dicts/{name}/clear", params={"_mn": "dump"})
    reply.raise_for_status()
    return {item["key"]: item["value"] for item in reply.json()["items"]}


def test_keys_are_stored_as_local_beaverdb_stores_them(
    db: BeaverClient, beaver_url: str, name: str, local: dict[str, Any]
) -> None:
    d = db.dict(name)
    for i, expr in enumerate(KEYS):
        key = _evaluate(expr)
        d[key] = i
        assert d[key] == i
        assert key in d
    stored = _stored_items(beaver_url, name)
    assert [k for k, _ in sorted(stored.items(), key=lambda kv: kv[1])] == local["keys"]


def test_equal_key_texts_are_one_key(db: BeaverClient, name: str) -> None:
    d = db.dict(name)
    d[42] = "int"
    assert d["42"] == "int"
    d["7"] = "str"
    assert d[7] == "str"
    d[True] = "bool"
    assert d[1] == "bool"
    assert d.pop(1.0, "absent") == "absent"  # 1.0 is stored as "1.0", not "1"
    assert d.fetch(42) == "int"
    del d[42]
    assert "42" not in d
    assert len(d) == 2


@pytest.mark.parametrize(
    ("key", "error"),
    [
        (b"k", NotSupportedRemotely),
        (bytearray(b"k"), NotSupportedRemotely),
        (None, UnsupportedValue),
        ((1, 2), UnsupportedValue),
        (float("nan"), InvalidName),
        (2**63, InvalidName),
        (-(2**63) - 1, InvalidName),
    ],
)
def test_keys_local_beaverdb_refuses_or_stores_as_blobs(
    db: BeaverClient, name: str, key: Any, error: type[Exception]
) -> None:
    d = db.dict(name)
    for attempt in (lambda: d.set(key, 1), lambda: d[key], lambda: key in d, lambda: d.pop(key)):
        with pytest.raises(error):
            attempt()
    assert len(d) == 0


def test_values_are_stored_or_refused_as_local_beaverdb_does(
    db: BeaverClient, beaver_url: str, name: str, local: dict[str, Any]
) -> None:
    d = db.dict(name)
    for i, (expr, (verdict, detail)) in enumerate(zip(VALUES, local["values"], strict=True)):
        value = _evaluate(expr)
        if verdict == "refused":
            assert detail == "TypeError", expr
            with pytest.raises(TypeError) as info:
                d[str(i)] = value
            assert isinstance(info.value, UnsupportedValue), expr
            assert str(i) not in d
        else:
            d[str(i)] = value
            assert d[str(i)] == json.loads(detail), expr
    stored = _stored_items(beaver_url, name)
    assert len(stored) == sum(verdict == "stored" for verdict, _ in local["values"])


@pytest.mark.parametrize("expr", NOT_READABLE)
def test_values_the_server_cannot_send_back_are_refused(
    db: BeaverClient, name: str, expr: str
) -> None:
    value = _evaluate(expr)
    d, lst, q, log = db.dict(name), db.list(name), db.queue(name), db.log(name)
    for write in (
        lambda: d.set("k", value),
        lambda: lst.push(value),
        lambda: lst.contains(value),
        lambda: q.put(value, 1),
        lambda: log.log(value),
    ):
        with pytest.raises(ValueError, match="not JSON compliant") as info:
            write()
        assert isinstance(info.value, InvalidValue)
    assert (len(d), len(lst), len(q), len(log)) == (0, 0, 0, 0)


def test_pydantic_models_without_model_are_stored_as_their_json(
    db: BeaverClient, name: str
) -> None:
    person = _evaluate("Person(name='Ann', age=3, score=float('inf'))")
    expected = {"name": "Ann", "age": 3, "seen": None, "score": None}  # as model_dump_json
    lst, q, log = db.list(name), db.queue(name), db.log(name)
    lst.push(person)
    assert lst[0] == expected
    assert person in lst
    q.put(person, 1)
    assert q.get().data == expected
    log.log(person, timestamp=5.0)
    assert log.range()[0].data == expected


def test_a_cyclic_value_is_a_value_error(db: BeaverClient, name: str) -> None:
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    with pytest.raises(InvalidValue, match="Circular"):
        db.dict(name)["k"] = cyclic


def test_floats_still_round_trip_exactly(db: BeaverClient, name: str) -> None:
    d = db.dict(name)
    for value in (0.1, 1 / 3, 1e308, 5e-324, -0.0, 2.0**53 + 1):
        d["f"] = value
        got = d["f"]
        assert got == value
        assert math.copysign(1, got) == math.copysign(1, value)
