"""Date operators: ``$now $year $month $day $daysBetween $dateAdd`` (pure).

A date is what a noex ``date`` field holds: a number of milliseconds since
the epoch, or an ISO 8601 string (``2024-03-15`` or ``2024-03-15T10:30:00Z``;
a time without an offset is read as UTC). Every calendar field is taken in
UTC. Choices where the spec is silent:

- ``$now`` is the current time in ms since the epoch (like ``_createdAt``),
  the same value throughout one evaluation.
- ``$month`` is 1-12 and ``$day`` the day of the month.
- ``{"$daysBetween": [a, b]}`` is the number of whole days from ``a`` to ``b``
  (negative when ``b`` is earlier), truncated toward zero.
- ``{"$dateAdd": [date, n, unit]}`` keeps the representation of ``date``: a
  number gives a number, ``YYYY-MM-DD`` gives ``YYYY-MM-DD`` while the result
  is a whole day, other strings give ``YYYY-MM-DDTHH:MM:SS.sssZ``. Units are
  ``ms``, ``second``, ``minute``, ``hour``, ``day``, ``week``, ``month`` and
  ``year`` (plural forms too); adding months or years keeps the day of the
  month, clamped to the month's last day (``2024-01-31`` plus one month is
  ``2024-02-29``).

A value that is not a date gives ``None``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from .._store._values import is_number
from .nodes import Builder, Compiler, Expr, ExprError, Scope, arg_list, merge

__all__ = ["DATE_OPERATORS", "UNITS"]

_DAY_MS = 86_400_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
_FIXED_MS = {"ms": 1, "second": 1000, "minute": 60_000, "hour": 3_600_000, "day": _DAY_MS,
             "week": 7 * _DAY_MS}  # fmt: skip
_CALENDAR = {"month": 1, "year": 12}
UNITS = frozenset(
    [*_FIXED_MS, *_CALENDAR, "millisecond", "milliseconds"]
    + [f"{u}s" for u in (*_FIXED_MS, *_CALENDAR) if u != "ms"]
)


@dataclass(frozen=True)
class _Date:
    when: dt.datetime  # aware, UTC
    kind: str  # "number", "date" or "datetime": how the input was written


def _parse(value: Any) -> _Date | None:
    try:
        if is_number(value):
            return _Date(dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC), "number")
        if isinstance(value, str) and _ISO.match(value):
            when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            if when.tzinfo is None:
                when = when.replace(tzinfo=dt.UTC)
            kind = "date" if _DATE_ONLY.match(value) else "datetime"
            return _Date(when.astimezone(dt.UTC), kind)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def _ms(when: dt.datetime) -> int | float:
    ms = (when - _EPOCH) / dt.timedelta(milliseconds=1)
    return int(ms) if ms.is_integer() else ms


def _format(when: dt.datetime, kind: str) -> Any:
    if kind == "number":
        return _ms(when)
    if kind == "date" and when.time() == dt.time(0, 0):
        return when.strftime("%Y-%m-%d")
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _unit(name: str) -> str:
    if name in ("ms", "millisecond", "milliseconds"):
        return "ms"
    return name[:-1] if name.endswith("s") else name


def _add_months(when: dt.datetime, months: int) -> dt.datetime:
    index = when.year * 12 + when.month - 1 + months
    year, month = divmod(index, 12)
    day = min(when.day, calendar.monthrange(year, month + 1)[1])
    return when.replace(year=year, month=month + 1, day=day)


def add_to_date(value: Any, amount: Any, unit: Any) -> Any:
    """``value`` moved by ``amount`` units, in the representation of ``value``."""
    date = _parse(value)
    if date is None or not is_number(amount) or not isinstance(unit, str) or unit not in UNITS:
        return None
    name = _unit(unit)
    try:
        if name in _CALENDAR:
            if amount != int(amount):
                return None
            when = _add_months(date.when, int(amount) * _CALENDAR[name])
        else:
            when = date.when + dt.timedelta(milliseconds=amount * _FIXED_MS[name])
    except (ValueError, OverflowError):
        return None
    return _format(when, date.kind)


def _unary(op: str, part: str) -> Builder:
    def build(arg: Any, path: str, compile_: Compiler) -> Expr:
        arg_list(op, arg, path, 1, 1)
        node = compile_(arg[0] if isinstance(arg, list) else arg, f"{path}.{op}")

        def run(scope: Scope) -> Any:
            date = _parse(node.run(scope))
            return None if date is None else getattr(date.when, part)

        return merge([node], run)

    return build


def _now(arg: Any, path: str, compile_: Compiler) -> Expr:
    return Expr(lambda scope: scope.now)


def _days_between(arg: Any, path: str, compile_: Compiler) -> Expr:
    items = arg_list("$daysBetween", arg, path, 2, 2)
    first, second = (compile_(v, f"{path}.$daysBetween[{i}]") for i, v in enumerate(items))

    def run(scope: Scope) -> Any:
        start, end = _parse(first.run(scope)), _parse(second.run(scope))
        if start is None or end is None:
            return None
        days = (end.when - start.when) / dt.timedelta(days=1)
        return int(days)  # truncates toward zero

    return merge([first, second], run)


def _date_add(arg: Any, path: str, compile_: Compiler) -> Expr:
    items = arg_list("$dateAdd", arg, path, 3, 3)
    unit = items[2]
    if isinstance(unit, str) and not unit.startswith("$") and unit not in UNITS:
        raise ExprError(
            f'$dateAdd: unknown unit "{unit}" (expected one of: {", ".join(sorted(UNITS))})',
            f"{path}.$dateAdd[2]",
        )
    nodes = [compile_(v, f"{path}.$dateAdd[{i}]") for i, v in enumerate(items)]
    return merge(nodes, lambda s: add_to_date(*(n.run(s) for n in nodes)))


DATE_OPERATORS: dict[str, Builder] = {
    "$now": _now,
    "$year": _unary("$year", "year"),
    "$month": _unary("$month", "month"),
    "$day": _unary("$day", "day"),
    "$daysBetween": _days_between,
    "$dateAdd": _date_add,
}
