"""JavaScript value semantics the store needs (sans-I/O helpers).

noex-store runs on Node, so equality, ``typeof`` names, number formatting and
"undefined" must follow JavaScript, not Python (``True == 1`` in Python).
"""

from __future__ import annotations

import json
import math
import time
from typing import Final

__all__ = [
    "UNDEFINED",
    "Undefined",
    "is_number",
    "js_eq",
    "js_num",
    "js_str",
    "js_type",
    "json_equal",
    "now_ms",
    "to_key",
    "to_text",
]


class Undefined:
    """The JavaScript ``undefined``: a value that is absent on the wire."""

    _instance: Undefined | None = None

    def __new__(cls) -> Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "undefined"

    def __bool__(self) -> bool:
        return False


UNDEFINED: Final = Undefined()


def now_ms() -> int:
    """Milliseconds since the epoch, like ``Date.now()``."""
    return int(time.time() * 1000)


def is_number(value: object) -> bool:
    """``typeof value === "number"`` (NaN included, booleans excluded)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def js_type(value: object) -> str:
    """The type name the store uses in validation messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def js_eq(a: object, b: object) -> bool:
    """Strict equality ``a === b`` for JSON values (objects never equal)."""
    if isinstance(a, dict | list) or isinstance(b, dict | list):
        return False
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, Undefined) or isinstance(b, Undefined):
        return a is b
    if a is None or b is None:
        return a is b
    if is_number(a) and is_number(b):
        return a == b
    return type(a) is type(b) and a == b


def js_num(value: float) -> str:
    """``String(n)`` for a number: integral values print without ``.0``."""
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
    return str(value)


def js_str(value: object) -> str:
    """``String(value)`` for the JSON values used in store messages."""
    if value is None:
        return "null"
    if isinstance(value, Undefined):
        return "undefined"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return js_num(value)
    if isinstance(value, list):
        return ",".join("" if v is None else js_str(v) for v in value)
    if isinstance(value, dict):
        return "[object Object]"
    return str(value)


def to_key(value: object) -> object:
    """Map a JSON value to a dict key that behaves like a JS ``Map`` key.

    Objects and arrays are compared by identity in a ``Map``, so a key sent
    over the wire never finds them: they map to a fresh object. Booleans are
    tagged so that ``true`` and ``1`` stay distinct.
    """
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict | list):
        return object()
    return value


def json_equal(a: object, b: object) -> bool:
    """Deep equality of JSON values (objects by keys, arrays by order).

    Unlike Python's ``==``, booleans never equal numbers.
    """
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict | list) or isinstance(b, dict | list):
        return False
    return a is b if a is None or b is None or isinstance(a, Undefined) else a == b


def to_text(value: object) -> str:
    """A value as template text: ``null``/undefined are ``""``, numbers as
    JavaScript prints them, objects and arrays as compact JSON."""
    if value is None or isinstance(value, Undefined):
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return js_str(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
