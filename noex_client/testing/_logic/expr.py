"""The expression language of ``logic.*``: compile once, evaluate often (pure).

An expression is a JSON tree:

- ``"$field"`` reads a field of the record (``"$a.b"`` a nested one);
- ``{"$op": args}`` applies an operator (see :data:`OPERATORS`);
- an object without ``$`` keys is an object whose values are expressions,
  a list is a list of expressions;
- anything else (numbers, other strings, booleans, ``null``) is a literal.

:func:`compile_expr` checks the whole tree and raises :class:`ExprError`
naming the first problem and where it is (``expr.$add[1]``), so definitions
are refused up front. :func:`evaluate` is the one-shot form.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._store._values import is_number
from .aggregates import AGGREGATE_OPERATORS
from .dates import DATE_OPERATORS
from .nodes import Builder, Expr, ExprError, Scope, const, merge, resolve_path
from .operators import BASIC_OPERATORS

__all__ = ["OPERATORS", "compile_expr", "evaluate"]

OPERATORS: dict[str, Builder] = {**BASIC_OPERATORS, **DATE_OPERATORS, **AGGREGATE_OPERATORS}
"""Every operator, by its wire name."""


def _field(path: str) -> Expr:
    def run(scope: Scope) -> Any:
        return None if scope.record is None else resolve_path(scope.record, path)

    return Expr(run, frozenset([path]))


def compile_expr(expr: Any, path: str = "expr") -> Expr:
    """Compile an expression.

    Args:
        expr: The JSON expression.
        path: Where it sits, used in error messages.

    Raises:
        ExprError: An unknown operator, a wrong argument shape, an empty field
            reference, or an object mixing an operator with other keys.
    """
    if isinstance(expr, str):
        if not expr.startswith("$"):
            return const(expr)
        if len(expr) == 1:
            raise ExprError('empty field reference "$"', path)
        return _field(expr[1:])
    if isinstance(expr, list):
        items = [compile_expr(item, f"{path}[{i}]") for i, item in enumerate(expr)]
        return merge(items, lambda scope: [n.run(scope) for n in items])
    if isinstance(expr, dict):
        operators = [k for k in expr if isinstance(k, str) and k.startswith("$")]
        if operators:
            if len(expr) != 1:
                keys = ", ".join(f'"{k}"' for k in expr)
                raise ExprError(f"an operator object has exactly one key, got {keys}", path)
            op = operators[0]
            builder = OPERATORS.get(op)
            if builder is None:
                raise ExprError(f'unknown operator "{op}"', path)
            return builder(expr[op], path, compile_expr)
        fields = {k: compile_expr(v, f"{path}.{k}") for k, v in expr.items()}
        return merge(
            list(fields.values()), lambda scope: {k: n.run(scope) for k, n in fields.items()}
        )
    if expr is None or isinstance(expr, bool) or is_number(expr):
        return const(expr)
    raise ExprError(f"unsupported value {expr!r}", path)


def evaluate(expr: Any, record: Mapping[str, Any] | None = None, path: str = "expr") -> Any:
    """Compile and evaluate ``expr`` once, reading fields from ``record``.

    Raises:
        ExprError: The expression is malformed or cannot be evaluated here
            (``{"$count": "*"}`` outside a view).
    """
    return compile_expr(expr, path).run(Scope(record))
