"""Keys and values as local BeaverDB stores them, so the remote client stores the same.

Local BeaverDB binds dict keys to a SQLite ``TEXT`` column and writes values with
``json.dumps``. The REST server only sees the text that travels in the request, so
the client performs those two conversions itself, with the same rules:

* keys: ``str`` as is; ``int`` and ``bool`` as SQLite writes them (``42`` ->
  ``"42"``, ``True`` -> ``"1"``); ``float`` through SQLite's own REAL-to-TEXT
  conversion (``1.0`` -> ``"1.0"``, ``1e20`` -> ``"1.0e+20"``, ``inf`` -> ``"Inf"``),
  computed by the stdlib ``sqlite3`` module so it matches a local BeaverDB on the
  same machine digit for digit;
* values: stdlib ``json.dumps`` (the same ``TypeError`` for ``bytes``,
  ``datetime``, ``set``, ...), a top-level pydantic model through its
  ``model_dump_json()``; but NaN and infinities are refused, because the server
  stores them and can then never send them back.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import threading
from typing import Any

import msgspec

from adapters.beaver._errors import (
    InvalidName,
    InvalidValue,
    NotSupportedRemotely,
    UnsupportedValue,
)

__all__ = ["Key", "json_value", "key_text"]

Key = str | int | float
"""The dict key types local BeaverDB accepts and the REST server can address."""

_sqlite: sqlite3.Connection | None = None
_sqlite_lock = threading.Lock()


def _sqlite_text(number: int | float) -> str | None:
    """``CAST(number AS TEXT)`` in SQLite: the text a TEXT column stores for it."""
    global _sqlite
    with _sqlite_lock:
        if _sqlite is None:
            _sqlite = sqlite3.connect(":memory:", check_same_thread=False)
        row = _sqlite.execute("SELECT CAST(? AS TEXT)", (number,)).fetchone()
    text: str | None = row[0]
    return text


def key_text(key: object) -> str:
    """The text local BeaverDB stores for dict key ``key``.

    Raises:
        NotSupportedRemotely: ``key`` is ``bytes`` (stored as a SQLite blob locally;
            the REST server only addresses text keys).
        InvalidName: ``key`` is NaN, or an int outside SQLite's 64-bit range.
        UnsupportedValue: any other type (``None``, tuples, ...).
    """
    if isinstance(key, str):
        return str.__str__(key)
    if isinstance(key, int | float):
        number = float(key) if isinstance(key, float) else int(key)
        try:
            text = _sqlite_text(number)
        except OverflowError:
            raise InvalidName(f"dict key {key!r} does not fit SQLite's 64-bit integers") from None
        if text is None:
            raise InvalidName("a NaN dict key cannot be stored (SQLite reads it as NULL)")
        return text
    if isinstance(key, bytes | bytearray | memoryview):
        raise NotSupportedRemotely(
            "bytes dict keys", "local BeaverDB stores them as blobs; the server addresses text keys"
        )
    raise UnsupportedValue(f"dict keys must be str, int, float or bool, not {type(key).__name__}")


def _pydantic_json(value: Any) -> bytes | None:
    pydantic = sys.modules.get("pydantic")
    if pydantic is not None and isinstance(value, pydantic.BaseModel):
        dumped: str = value.model_dump_json()
        return dumped.encode()
    return None


def json_value(value: Any) -> msgspec.Raw:
    """Encode a stored value as local BeaverDB does, ready to embed in a request.

    Raises:
        UnsupportedValue: ``json.dumps`` refuses the value (``bytes``, ``datetime``,
            ``set``, a nested model, ...); a ``TypeError`` as in the local API.
        InvalidValue: the value holds NaN or an infinity, or refers to itself.
    """
    if isinstance(value, msgspec.Raw):
        return value
    model = _pydantic_json(value)
    if model is not None:
        return msgspec.Raw(model)
    try:
        text = json.dumps(value, allow_nan=False, separators=(",", ":"))
    except TypeError as exc:
        raise UnsupportedValue(str(exc)) from exc
    except ValueError as exc:  # NaN/infinity (allow_nan=False) or a circular reference
        raise InvalidValue(f"value cannot be stored remotely: {exc}") from exc
    return msgspec.Raw(text.encode())
