"""What a firing rule sees: its trigger, references, templates and conditions.

References are ``{"ref": "<root>.<path>"}`` values:

- ``event.<path>`` (also ``trigger.<path>``): the trigger's data, i.e. the
  event's ``data`` for an ``event`` trigger, the Fact ``{key, value,
  timestamp, source, version}`` for a ``fact`` trigger, and the data of the
  event the timer emitted for a ``timer`` trigger;
- ``fact.<key>``: the value of the fact ``<key>`` (the rest of the string is
  the key, ``:`` included);
- ``var.<name>.<path>``: a variable (the ``as`` of ``for_each`` and of
  ``try_catch``'s ``catch``).

The same paths work as ``${...}`` templates inside the string fields that
name things (fact keys, topics, timer names, fact patterns, service and
method names, log messages): ``"order:${event.orderId}:status"``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._store._values import UNDEFINED, is_number, js_eq, js_str
from .patterns import fact_matches

__all__ = ["Context", "condition_holds", "interpolate", "lookup", "resolve"]

_TEMPLATE = re.compile(r"\$\{\s*([^}]+?)\s*\}")
Facts = Mapping[str, Mapping[str, Any]]


@dataclass
class Context:
    """The trigger of one rule firing and its variables.

    Attributes:
        data: What ``event.*`` references read.
        correlation: ``correlationId``/``causationId`` of the triggering event,
            carried over to the events the actions emit.
        variables: ``var.*`` values.
        depth: How many rule firings led to this one (a guard against loops).
    """

    data: Any
    correlation: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    depth: int = 0

    def with_variable(self, name: str, value: Any) -> Context:
        """A copy with one more variable (the loop variable of ``for_each``)."""
        return Context(self.data, self.correlation, {**self.variables, name: value}, self.depth)


def _walk(value: Any, path: str) -> Any:
    for part in path.split(".") if path else []:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, list | str) and part == "length":
            value = len(value)
        else:
            return UNDEFINED
    return value


def lookup(path: str, ctx: Context, facts: Facts) -> Any:
    """The value a reference path names, ``UNDEFINED`` when there is none."""
    root, _, rest = path.partition(".")
    if root in ("event", "trigger"):
        return _walk(ctx.data, rest)
    if root == "fact":
        fact = facts.get(rest)
        return UNDEFINED if fact is None else fact["value"]
    if root == "var":
        name, _, inner = rest.partition(".")
        return _walk(ctx.variables[name], inner) if name in ctx.variables else UNDEFINED
    return UNDEFINED


def _is_ref(value: object) -> bool:
    return isinstance(value, dict) and set(value) == {"ref"} and isinstance(value["ref"], str)


def resolve(value: Any, ctx: Context, facts: Facts) -> Any:
    """``value`` with every ``{"ref": ...}`` replaced; missing values drop out of
    objects (as ``JSON.stringify`` drops ``undefined``) and are ``null`` elsewhere."""
    if _is_ref(value):
        found = lookup(value["ref"], ctx, facts)
        return None if found is UNDEFINED else found
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not _is_ref(item):
                out[key] = resolve(item, ctx, facts)
            elif (found := lookup(item["ref"], ctx, facts)) is not UNDEFINED:
                out[key] = found
        return out
    if isinstance(value, list):
        return [resolve(item, ctx, facts) for item in value]
    return value


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return js_str(value)


def interpolate(text: object, ctx: Context, facts: Facts) -> str:
    """A name field with its ``${path}`` templates filled in (``String(value)``)."""
    if not isinstance(text, str):
        return js_str(text)
    return _TEMPLATE.sub(lambda m: _text(lookup(m.group(1), ctx, facts)), text)


def _source_value(source: Mapping[str, Any], ctx: Context, facts: Facts) -> Any:
    kind = source.get("type")
    if kind == "event":
        return lookup(f"event.{js_str(source.get('field', ''))}", ctx, facts)
    if kind == "fact":
        pattern = interpolate(source.get("pattern", ""), ctx, facts)
        fact = facts.get(pattern)
        if fact is None and "*" in pattern:
            fact = next((f for k, f in facts.items() if fact_matches(pattern, k)), None)
        return UNDEFINED if fact is None else fact["value"]
    if kind == "context":
        return ctx.variables.get(js_str(source.get("key", "")), UNDEFINED)
    return UNDEFINED


def _ordered(a: Any, b: Any) -> bool:
    return (is_number(a) and is_number(b)) or (isinstance(a, str) and isinstance(b, str))


def _contains(actual: Any, expected: Any) -> bool | None:
    if isinstance(actual, str):
        return isinstance(expected, str) and expected in actual
    if isinstance(actual, list):
        return any(js_eq(item, expected) for item in actual)
    return None


def condition_holds(cond: Mapping[str, Any], ctx: Context, facts: Facts) -> bool:
    """Whether one rule condition ``{source, operator, value}`` holds."""
    source = cond.get("source")
    if not isinstance(source, dict):
        return False
    actual = _source_value(source, ctx, facts)
    expected = resolve(cond.get("value"), ctx, facts)
    op = cond.get("operator")
    present = actual is not UNDEFINED and actual is not None
    if op == "exists":
        return present
    if op == "not_exists":
        return not present
    if actual is UNDEFINED:
        actual = None
    if op == "eq":
        return js_eq(actual, expected)
    if op == "neq":
        return not js_eq(actual, expected)
    if op in ("gt", "gte", "lt", "lte"):
        if not _ordered(actual, expected):
            return False
        if op == "gt":
            return bool(actual > expected)
        if op == "gte":
            return bool(actual >= expected)
        return bool(actual < expected) if op == "lt" else bool(actual <= expected)
    if op in ("in", "not_in"):
        found = isinstance(expected, list) and any(js_eq(actual, e) for e in expected)
        return found if op == "in" else isinstance(expected, list) and not found
    if op in ("contains", "not_contains"):
        contained = _contains(actual, expected)
        if contained is None:
            return False
        return contained if op == "contains" else not contained
    if op == "matches":
        if not isinstance(actual, str) or not isinstance(expected, str):
            return False
        try:
            return re.search(expected, actual) is not None
        except re.error:
            return False
    return False
