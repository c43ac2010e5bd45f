"""Typed backend options: one frozen dataclass per backend, filled from the URL and keywords.

Each backend declares its options as a frozen dataclass (defaults included) and
builds it with :func:`options_from` from the URL's query string and the keyword
arguments given to :func:`adapters.connect` (keywords win). Values are converted
by the field's annotation:

============================ ====================================================
``float`` / ``int``          a number, finite and not negative (URL: its text)
``bool``                     ``true``/``false`` (also ``1``/``0``, ``yes``/``no``)
``str``                      text (a number from the command line is taken as text)
``Literal["a", "b"]``        one of the names
``X | None``                 as ``X``, or ``None`` as a keyword
``Literal["a"] | int``       the first alternative that fits (e.g. ``auto`` or ``3``)
any other class              an instance, as a keyword only
============================ ====================================================

Anything else raises ``ValueError`` naming the option; the options class's
``__post_init__`` adds the checks a type cannot express. An unknown option
raises :class:`UnknownOption`, a ``ValueError`` that is also the ``TypeError``
an unexpected keyword argument used to be.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any, Literal, TypeVar, Union
from urllib.parse import parse_qsl

__all__ = ["UnknownOption", "options_from", "split_options"]

Opts = TypeVar("Opts")

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


class UnknownOption(ValueError, TypeError):
    """An option the backend does not know (named in the message)."""


_FIELDS: dict[type[Any], dict[str, Any]] = {}


def _fields(cls: type[Any]) -> dict[str, Any]:
    """The options of ``cls`` with their resolved annotations (cached)."""
    found = _FIELDS.get(cls)
    if found is None:
        hints = typing.get_type_hints(cls)
        found = _FIELDS[cls] = {f.name: hints[f.name] for f in dataclasses.fields(cls)}
    return found


def _pairs(query: str | Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return parse_qsl(query, keep_blank_values=True) if isinstance(query, str) else list(query)


def split_options(
    cls: type[Opts],
    backend: str,
    query: str | Iterable[tuple[str, str]],
    overrides: Mapping[str, Any],
) -> tuple[Opts, list[tuple[str, str]]]:
    """Like :func:`options_from`, but URL parameters that are not options are returned.

    For backends whose URL also carries the server's own parameters (libpq's,
    a WebSocket URL's); unknown keyword arguments still raise.

    Raises:
        ValueError: a malformed value (:class:`UnknownOption` for an unknown keyword).
    """
    known = _fields(cls)
    values: dict[str, Any] = {}
    rest: list[tuple[str, str]] = []
    for name, text in _pairs(query):
        if name in known:
            values[name] = _convert(backend, name, known[name], text, from_url=True)
        else:
            rest.append((name, text))
    for name, value in overrides.items():
        if name not in known:
            raise UnknownOption(f"unknown {backend} option {name!r}")
        values[name] = _convert(backend, name, known[name], value, from_url=False)
    return cls(**values), rest


def options_from(
    cls: type[Opts],
    backend: str,
    query: str | Iterable[tuple[str, str]],
    overrides: Mapping[str, Any],
) -> Opts:
    """Build ``cls`` from the URL query and keyword ``overrides`` (which win).

    Raises:
        UnknownOption: an option ``cls`` does not have (also a ``TypeError``).
        ValueError: a value of the wrong type or out of range; the message names it.
    """
    options, rest = split_options(cls, backend, query, overrides)
    if rest:
        raise UnknownOption(f"unknown {backend} option {rest[0][0]!r}")
    return options


def _convert(backend: str, name: str, kind: Any, value: Any, *, from_url: bool) -> Any:
    what = f"{backend} option {name!r}"
    args = typing.get_args(kind)
    if typing.get_origin(kind) in (Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if value is None and not from_url:
            return None
        if len(inner) == 1:
            return _convert(backend, name, inner[0], value, from_url=from_url)
        for arm in inner:
            try:
                return _convert(backend, name, arm, value, from_url=from_url)
            except ValueError:
                continue
        choices = " or ".join(_describe(arm) for arm in inner)
        raise ValueError(f"{what} must be {choices}, got {value!r}")
    if typing.get_origin(kind) is Literal:
        if value not in args:
            choices = " or ".join(repr(a) for a in args)
            raise ValueError(f"{what} must be {choices}, got {value!r}")
        return value
    if kind is bool:
        return _boolean(what, value)
    if kind in (int, float):
        return _number(what, kind, value)
    if kind is str:
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)  # e.g. ``-o prefix=7`` on the command line
        raise ValueError(f"{what} must be text, got {type(value).__name__}")
    if from_url:
        raise ValueError(f"{what} cannot be set in the URL; pass it as a keyword argument")
    if not isinstance(value, kind):
        raise ValueError(f"{what} must be a {kind.__name__}, got {type(value).__name__}")
    return value


def _describe(kind: Any) -> str:
    """How an error message names what ``kind`` accepts."""
    if typing.get_origin(kind) is Literal:
        return " or ".join(repr(a) for a in typing.get_args(kind))
    names = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}
    return names.get(kind, f"a {getattr(kind, '__name__', kind)}")


def _boolean(what: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
        return value.lower() in _TRUE
    raise ValueError(f"{what} must be true or false, got {value!r}")


def _number(what: str, kind: type[int] | type[float], value: Any) -> int | float:
    noun = "a whole number" if kind is int else "a number"
    try:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise TypeError
        number = kind(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be {noun}, got {value!r}") from None
    if kind is int and isinstance(value, float) and value != number:
        raise ValueError(f"{what} must be {noun}, got {value!r}")
    if math.isnan(number) or math.isinf(number):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    if number < 0:
        raise ValueError(f"{what} must not be negative, got {value!r}")
    return number
