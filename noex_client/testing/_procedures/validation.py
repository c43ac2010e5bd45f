"""Procedure config and call input validation, with noex-server's issue texts.

``procedures.register`` reports every issue found as
``"<path>: expected ..."`` (``steps[0].action: expected one of: ...``,
``steps[1].bucket: expected non-empty string``, ``steps[2].key: required``);
the handler joins them into ``Procedure validation failed: i1; i2`` with
``details: {"issues": [...]}``. A step whose ``action`` is unknown reports
only that. ``procedures.call`` checks its input the same way
(``Missing required input "k"``, ``Input "k": expected number, got string``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from .._store._values import is_number, js_type
from .._store.schema import type_ok

__all__ = [
    "ACTIONS",
    "MAX_CONDITION_DEPTH",
    "MAX_STEPS",
    "check_config",
    "check_input",
]

ACTIONS = (
    "store.get", "store.where", "store.findOne", "store.insert", "store.update", "store.delete",
    "store.count", "aggregate", "rules.emit", "rules.setFact", "rules.getFact", "if",
    "transform", "return",
)  # fmt: skip
MAX_STEPS = 100
MAX_CONDITION_DEPTH = 5
_INPUT_TYPES = ("string", "number", "boolean", "object", "array")
_AGGREGATE_OPS = ("sum", "avg", "min", "max", "count")
_OPERATORS = ("eq", "neq", "gt", "gte", "lt", "lte", "exists", "not_exists")
_TRANSFORMS = ("map", "filter", "pick", "pluck")

# Per action: (field, kind), kind "str" (non-empty string), "obj" (object),
# "any" (present); a trailing "?" makes the field optional.
_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "store.get": (("bucket", "str"), ("key", "key"), ("as", "str")),
    "store.where": (("bucket", "str"), ("filter", "obj"), ("as", "str")),
    "store.findOne": (("bucket", "str"), ("filter", "obj"), ("as", "str")),
    "store.insert": (("bucket", "str"), ("data", "obj"), ("as", "str?")),
    "store.update": (("bucket", "str"), ("key", "key"), ("data", "obj"), ("as", "str?")),
    "store.delete": (("bucket", "str"), ("key", "key")),
    "store.count": (("bucket", "str"), ("filter", "obj?"), ("as", "str")),
    "aggregate": (("source", "str"), ("op", "op"), ("field", "field"), ("as", "str")),
    "rules.emit": (("topic", "str"), ("data", "obj?")),
    "rules.setFact": (("key", "str"), ("value", "any")),
    "rules.getFact": (("key", "str"), ("as", "str")),
    "transform": (("source", "str"), ("operation", "operation"), ("args", "any"), ("as", "str")),
    "return": (("value", "any"),),
}


def _one_of(values: tuple[str, ...]) -> str:
    return "expected one of: " + ", ".join(values)


def _field_issue(step: Mapping[str, Any], name: str, kind: str) -> str | None:
    optional = kind.endswith("?")
    kind = kind.rstrip("?")
    if name not in step or (step[name] is None and kind != "any"):
        return None if optional else "required"
    value = step[name]
    if kind == "str" and (not isinstance(value, str) or not value):
        return "expected non-empty string"
    if kind == "obj" and not isinstance(value, dict):
        return "expected object"
    if kind == "op" and value not in _AGGREGATE_OPS:
        return _one_of(_AGGREGATE_OPS)
    if kind == "field" and (not isinstance(value, str) or not value):
        return "expected non-empty string"
    if kind == "operation" and value not in _TRANSFORMS:
        return _one_of(_TRANSFORMS)
    return None


def _check_if(step: Mapping[str, Any], where: str, depth: int, out: list[str]) -> int:
    condition = step.get("condition")
    if not isinstance(condition, dict):
        out.append(f"{where}.condition: expected object")
    else:
        ref = condition.get("ref")
        if not isinstance(ref, str) or not ref:
            out.append(f"{where}.condition.ref: expected non-empty string")
        if condition.get("operator") not in _OPERATORS:
            out.append(f"{where}.condition.operator: {_one_of(_OPERATORS)}")
    if depth + 1 >= MAX_CONDITION_DEPTH:
        out.append(f"{where}: exceeds the maximum condition depth of {MAX_CONDITION_DEPTH}")
        return 0
    count = 0
    then = step.get("then")
    if not isinstance(then, list) or not then:
        out.append(f"{where}.then: expected non-empty array")
    else:
        count += _check_steps(then, f"{where}.then", depth + 1, out)
    otherwise = step.get("else")
    if otherwise is not None:
        if not isinstance(otherwise, list):
            out.append(f"{where}.else: expected array")
        else:
            count += _check_steps(otherwise, f"{where}.else", depth + 1, out)
    return count


def _check_steps(steps: list[Any], where: str, depth: int, out: list[str]) -> int:
    """Check a step list; returns the number of steps in it, nested ones included."""
    count = 0
    for i, step in enumerate(steps):
        at = f"{where}[{i}]"
        count += 1
        if not isinstance(step, dict):
            out.append(f"{at}: expected object")
            continue
        action = step.get("action")
        if action not in ACTIONS:
            out.append(f"{at}.action: {_one_of(ACTIONS)}")
            continue
        if action == "if":
            count += _check_if(step, at, depth, out)
            continue
        for name, kind in _FIELDS[action]:
            if name == "field" and step.get("op") == "count":
                continue  # count needs no field
            issue = _field_issue(step, name, kind)
            if issue is not None:
                out.append(f"{at}.{name}: {issue}")
    return count


def check_config(config: Mapping[str, Any]) -> list[str]:
    """Every issue of a ProcedureConfig (empty when it is valid)."""
    out: list[str] = []
    name = config.get("name")
    if not isinstance(name, str) or not name:
        out.append("name: expected non-empty string")
    if "description" in config and not isinstance(config["description"], str):
        out.append("description: expected string")
    if "transaction" in config and not isinstance(config["transaction"], bool):
        out.append("transaction: expected boolean")
    timeout: Any = config.get("timeoutMs")
    if "timeoutMs" in config and not (is_number(timeout) and timeout > 0):
        out.append("timeoutMs: expected positive number")
    inputs = config.get("input")
    if "input" in config and not isinstance(inputs, dict):
        out.append("input: expected object")
    elif isinstance(inputs, dict):
        for key, spec in inputs.items():
            if not isinstance(spec, dict):
                out.append(f"input.{key}: expected object")
                continue
            if spec.get("type") not in _INPUT_TYPES:
                out.append(f"input.{key}.type: {_one_of(_INPUT_TYPES)}")
            if "required" in spec and not isinstance(spec["required"], bool):
                out.append(f"input.{key}.required: expected boolean")
    steps = config.get("steps")
    if not isinstance(steps, list) or not steps:
        out.append("steps: expected non-empty array")
        return out
    total = _check_steps(steps, "steps", 0, out)
    if total > MAX_STEPS:
        out.append(f"steps: {total} steps exceed the maximum of {MAX_STEPS}")
    return out


def check_input(
    spec: Mapping[str, Any] | None, given: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """The call input with defaults applied, and its issues (empty when valid)."""
    values = dict(given)
    issues: list[str] = []
    for key, field in (spec or {}).items():
        if key not in given:
            if "default" in field:
                values[key] = copy.deepcopy(field["default"])
            elif field.get("required", True):
                issues.append(f'Missing required input "{key}"')
            continue
        if not type_ok(field.get("type"), given[key]):
            issues.append(f'Input "{key}": expected {field.get("type")}, got {js_type(given[key])}')
    return values, issues
