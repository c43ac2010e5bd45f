"""Step templates: ``{{ path }}`` references into a call's input and results (pure).

A string that is exactly ``"{{ path }}"`` becomes the raw value at ``path``;
in longer text every ``{{ path }}`` is replaced by the value as text (objects
as JSON, ``null`` and missing values as ``""``). Paths are ``input.x.y``,
``<as>`` or ``<as>.field``; ``.length`` gives the length of a list or string
and a number indexes a list. A missing value is JavaScript's ``undefined``:
it stays so in filters (where it matches only missing fields) and is
dropped from objects that are stored or returned.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .._store._values import UNDEFINED, to_text

__all__ = ["lookup", "render", "strip_undefined"]

_WHOLE = re.compile(r"^\{\{\s*([^{}]+?)\s*\}\}$")
_PART = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")


def lookup(context: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` of ``context`` (``UNDEFINED`` when missing)."""
    match = _WHOLE.match(path)
    if match:  # a condition's ``ref`` may be written as a template too
        path = match.group(1)
    value: Any = context
    for part in path.strip().split("."):
        if isinstance(value, Mapping):
            value = value.get(part, UNDEFINED)
        elif isinstance(value, list | str) and part == "length":
            value = len(value)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return UNDEFINED
    return value


def render(value: Any, context: Mapping[str, Any]) -> Any:
    """``value`` with every template resolved against ``context``."""
    if isinstance(value, str):
        whole = _WHOLE.match(value)
        if whole:
            return lookup(context, whole.group(1))
        if "{{" not in value:
            return value
        return _PART.sub(lambda m: to_text(lookup(context, m.group(1))), value)
    if isinstance(value, dict):
        return {k: render(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, context) for v in value]
    return value


def strip_undefined(value: Any) -> Any:
    """``value`` as ``JSON.stringify`` keeps it: undefined keys dropped, ``null`` in lists."""
    if value is UNDEFINED:
        return None
    if isinstance(value, dict):
        return {k: strip_undefined(v) for k, v in value.items() if v is not UNDEFINED}
    if isinstance(value, list):
        return [strip_undefined(v) for v in value]
    return value
