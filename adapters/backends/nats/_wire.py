"""brainlessdb's value formats: config wrapper, state/local values, DLQ entries.

All values are compact UTF-8 JSON. Config rows are ``{"d": ..., "l": ..., "m":
{"created_at", "updated_at", "created_by"}}`` with float Unix-second timestamps.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import msgspec

__all__ = [
    "ConfigValue",
    "Meta",
    "decode_config",
    "decode_object",
    "dlq_entry",
    "encode",
]

_encoder = msgspec.json.Encoder()


class Meta(msgspec.Struct, omit_defaults=True, gc=False):
    """The ``m`` object of a config row.

    ``v`` is our record version (a write counter). brainlessdb ignores it and does
    not carry it over; a row without it gets its KV revision as version, which is
    still larger than any earlier version of the record (each write of a key
    takes a new stream sequence).
    """

    created_at: float = 0.0
    updated_at: float = 0.0
    created_by: str = ""
    v: int | None = None


class ConfigValue(msgspec.Struct, gc=False):
    """A config row: ``d`` is the record data, ``l`` the last writer's namespace.

    Not tracked by the cyclic GC: decoded JSON cannot form cycles.
    """

    d: dict[str, Any]
    l: str = ""  # noqa: E741 - the wire name is fixed by brainlessdb
    m: Meta = msgspec.field(default_factory=Meta)


_config_decoder = msgspec.json.Decoder(ConfigValue)
_object_decoder = msgspec.json.Decoder(dict[str, Any])


def encode(value: Any) -> bytes:
    """Compact JSON, non-ASCII kept raw (msgspec's default, as brainlessdb writes)."""
    return _encoder.encode(value)


def decode_config(raw: bytes) -> ConfigValue:
    """Decode a config row; raises ``msgspec.DecodeError``/``ValidationError``."""
    return _config_decoder.decode(raw)


def decode_object(raw: bytes) -> dict[str, Any]:
    """Decode a state value (a JSON object); raises ``msgspec.DecodeError``."""
    return _object_decoder.decode(raw)


def dlq_entry(
    source_bucket: str,
    namespace: str,
    key: str,
    error: str,
    raw: bytes,
    now: datetime | None = None,
) -> tuple[str, bytes]:
    """The ``brainless_dlq`` key and value for an undecodable entry.

    Key ``<bucket>__<key>__<ISO UTC timestamp with ':' and '+' replaced by '-'>``;
    value written with stdlib ``json`` like brainlessdb does, ``value`` holding the
    parsed original JSON or the raw text when it was not JSON.
    """
    stamp = (now or datetime.now(UTC)).isoformat()
    dlq_key = f"{source_bucket}__{key}__{stamp.replace(':', '-').replace('+', '-')}"
    text = raw.decode("utf-8", errors="replace")
    original: Any
    try:
        original = json.loads(text)
    except ValueError:
        original = text
    body = {
        "source_bucket": source_bucket,
        "namespace": namespace,
        "key": key,
        "error": error,
        "timestamp": stamp,
        "value": original,
    }
    return dlq_key, json.dumps(body).encode()
