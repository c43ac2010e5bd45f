"""Bucket schemas: record preparation and validation (noex-store rules).

A schema is the JSON field map of a bucket definition, kept exactly as given.
Validation walks it in schema order and reports issues
``{"field", "message", "code"}`` with the store's byte-exact messages.
"""

from __future__ import annotations

import copy
import datetime as _dt
import re
import secrets
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from ._values import UNDEFINED, is_number, js_num, js_type, now_ms
from .errors import ValidationFailedError

__all__ = [
    "META_FIELDS",
    "generate_value",
    "prepare_insert",
    "prepare_update",
    "type_ok",
    "validate_record",
]

META_FIELDS = ("_version", "_createdAt", "_updatedAt")

_EMAIL = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@]+$")
_ISO_DATE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?)?$"
)
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_SPECIAL_SCHEMES = {"http", "https", "ws", "wss", "ftp"}


def generate_value(kind: object, next_counter: Callable[[], int]) -> Any:
    """Generate a value for a ``generated`` field.

    Args:
        kind: ``"uuid"``, ``"cuid"``, ``"autoincrement"`` or ``"timestamp"``.
        next_counter: Advances and returns the bucket's autoincrement counter.

    Returns:
        The generated value, or ``UNDEFINED`` for an unknown kind.
    """
    if kind == "uuid":
        return str(uuid.uuid4())
    if kind == "cuid":
        return "c" + secrets.token_hex(16)
    if kind == "timestamp":
        return now_ms()
    if kind == "autoincrement":
        return next_counter()
    return UNDEFINED


def prepare_insert(
    bucket: str,
    schema: Mapping[str, Any],
    data: Mapping[str, Any],
    next_counter: Callable[[], int],
    ttl_ms: int | None = None,
    validate: bool = True,
) -> dict[str, Any]:
    """Build a new record from insert input (§5.2) and validate it.

    ``validate=False`` leaves validation to the caller.

    Raises:
        ValidationFailedError: The record fails the schema.
    """
    record: dict[str, Any] = dict(data)
    for name, field in schema.items():
        if isinstance(field, dict) and "generated" in field and name not in record:
            value = generate_value(field["generated"], next_counter)
            if value is not UNDEFINED:
                record[name] = value
    for name, field in schema.items():
        if isinstance(field, dict) and "default" in field and name not in record:
            record[name] = copy.deepcopy(field["default"])
    now = now_ms()
    record["_version"] = 1
    record["_createdAt"] = now
    record["_updatedAt"] = now
    if ttl_ms is not None and "_expiresAt" not in data:
        record["_expiresAt"] = now + ttl_ms
    if validate:
        validate_record(bucket, schema, record)
    return record


def prepare_update(
    bucket: str,
    schema: Mapping[str, Any],
    key_field: str,
    existing: Mapping[str, Any],
    changes: Mapping[str, Any],
    validate: bool = True,
) -> dict[str, Any]:
    """Merge ``changes`` over ``existing`` (§5.3) and validate the result.

    ``validate=False`` leaves validation to the caller.

    Raises:
        ValidationFailedError: The merged record fails the schema.
    """
    dropped = {*META_FIELDS, key_field}
    dropped.update(name for name, f in schema.items() if isinstance(f, dict) and "generated" in f)
    merged: dict[str, Any] = dict(existing)
    for name, value in changes.items():
        if name not in dropped:
            merged[name] = value
    merged["_version"] = int(existing.get("_version", 0)) + 1
    merged["_updatedAt"] = now_ms()
    if validate:
        validate_record(bucket, schema, merged)
    return merged


def validate_record(bucket: str, schema: Mapping[str, Any], record: Mapping[str, Any]) -> None:
    """Validate ``record`` against ``schema``.

    Raises:
        ValidationFailedError: With the message and issue list of noex-store.
    """
    issues: list[dict[str, str]] = []
    _check_fields(schema, record, "", issues)
    if issues:
        text = "; ".join(f"{i['field']}: {i['message']}" for i in issues)
        raise ValidationFailedError(f'Validation failed for bucket "{bucket}": {text}', issues)


def _check_fields(
    schema: Mapping[str, Any], record: Mapping[str, Any], prefix: str, out: list[dict[str, str]]
) -> None:
    for name, field in schema.items():
        if isinstance(field, dict):
            _check_value(field, record.get(name, UNDEFINED), prefix + name, out)


def _issue(out: list[dict[str, str]], path: str, message: str, code: str) -> None:
    out.append({"field": path, "message": message, "code": code})


def _check_value(field: dict[str, Any], value: Any, path: str, out: list[dict[str, str]]) -> None:
    if value is None or value is UNDEFINED:
        if field.get("required"):
            _issue(out, path, "Field is required", "required")
        return
    expected = field.get("type")
    if not type_ok(expected, value):
        _issue(out, path, f'Expected type "{expected}", got {js_type(value)}', "type")
        return
    enum = field.get("enum")
    if isinstance(enum, list) and not any(_same(value, e) for e in enum):
        options = ", ".join(str(e) if isinstance(e, str) else js_num(e) for e in enum)
        _issue(out, path, f"Value must be one of: {options}", "enum")
    if isinstance(value, str):
        _check_string(field, value, path, out)
    if is_number(value):
        if is_number(field.get("min")) and value < field["min"]:
            _issue(out, path, f"Minimum value is {js_num(field['min'])}", "min")
        if is_number(field.get("max")) and value > field["max"]:
            _issue(out, path, f"Maximum value is {js_num(field['max'])}", "max")
    if isinstance(value, dict) and isinstance(field.get("properties"), dict):
        _check_fields(field["properties"], value, path + ".", out)
    if isinstance(value, list) and isinstance(field.get("items"), dict):
        for index, item in enumerate(value):
            if item is not None:
                _check_value(field["items"], item, f"{path}[{index}]", out)


def _check_string(field: dict[str, Any], value: str, path: str, out: list[dict[str, str]]) -> None:
    length = len(value.encode("utf-16-le")) // 2  # JS length counts UTF-16 units
    if is_number(field.get("minLength")) and length < field["minLength"]:
        _issue(out, path, f"Minimum length is {js_num(field['minLength'])}", "minLength")
    if is_number(field.get("maxLength")) and length > field["maxLength"]:
        _issue(out, path, f"Maximum length is {js_num(field['maxLength'])}", "maxLength")
    pattern = field.get("pattern")
    if isinstance(pattern, str):
        try:
            matched = re.search(pattern, value) is not None
        except re.error:
            matched = True
        if not matched:
            _issue(out, path, f'Value must match pattern "{pattern}"', "pattern")
    fmt = field.get("format")
    if isinstance(fmt, str) and not _format_ok(fmt, value):
        _issue(out, path, f"Invalid {fmt} format", "format")


def _same(a: object, b: object) -> bool:
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b


def type_ok(expected: object, value: object) -> bool:
    """Whether ``value`` has the schema type ``expected`` (unknown types accept anything)."""
    if expected == "string":
        return isinstance(value, str)
    if expected == "number":
        return is_number(value) and value == value  # NaN is not a number here
    if expected == "boolean":
        return isinstance(value, bool)
    if expected == "object":
        return isinstance(value, dict)
    if expected == "array":
        return isinstance(value, list)
    if expected == "date":
        return isinstance(value, str) or is_number(value)
    return True


def _format_ok(fmt: str, value: str) -> bool:
    if fmt == "email":
        return _EMAIL.match(value) is not None
    if fmt == "url":
        return _url_ok(value)
    if fmt == "iso-date":
        return _iso_date_ok(value)
    return True


def _url_ok(value: str) -> bool:
    text = value.strip()
    if not _URL_SCHEME.match(text) or any(c.isspace() for c in text):
        return False
    scheme, _, rest = text.partition(":")
    if scheme.lower() in _SPECIAL_SCHEMES:
        host = rest.lstrip("/\\").split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
        host = host.rsplit("@", 1)[-1]
        return bool(host) and not host.startswith(":")
    return True


def _iso_date_ok(value: str) -> bool:
    match = _ISO_DATE.match(value)
    if match is None:
        return False
    year, month, day = (int(match.group(i)) for i in (1, 2, 3))
    try:
        _dt.date(year, month, day)
    except ValueError:
        return False
    if match.group(4) is not None:
        hour, minute, second = (int(match.group(i)) for i in (4, 5, 6))
        return hour < 24 and minute < 60 and second < 60
    return True
