"""Constraints: definitions and the check every write goes through (pure).

``logic.defineConstraint {constraint: {name, on, expr, message}}``. Before a
record of bucket ``on`` is inserted or updated (directly, in a transaction or
by a procedure step), ``expr`` is evaluated on the record as it would be
stored, computed fields included. If the result is falsy (JavaScript
truthiness) the write is refused and nothing is written.

The refusal is a ``VALIDATION_ERROR``, the code noex-server gives every
record that fails its bucket's rules (protocol §4.2: a store
``ValidationError``). Its message is the constraint's ``message`` as given,
and its details are ``{"constraint": name, "bucket": on}``. Constraints are
checked in the order they were defined; the first one that fails is reported.
Defining a constraint with a name in use replaces it; without a ``message``
the text is ``Constraint "<name>" violated``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._errors import validation
from .._store.errors import ValidationFailedError
from .expr import compile_expr
from .nodes import Expr, ExprError, Scope, truthy

__all__ = ["Constraint", "check_constraints", "compile_constraint"]


@dataclass(frozen=True)
class Constraint:
    """A compiled constraint and its definition as it was given."""

    name: str
    bucket: str
    expr: Expr
    message: str
    definition: dict[str, Any]


def compile_constraint(spec: Mapping[str, Any]) -> Constraint:
    """Check and compile a constraint definition.

    Raises:
        RequestError: ``VALIDATION_ERROR`` naming the bad field.
    """
    name, bucket = spec.get("name"), spec.get("on")
    if not isinstance(name, str) or not name:
        raise validation("constraint.name: expected non-empty string")
    if not isinstance(bucket, str) or not bucket:
        raise validation("constraint.on: expected non-empty string (a bucket name)")
    if "expr" not in spec:
        raise validation('constraint.expr: missing "expr"')
    message = spec.get("message", f'Constraint "{name}" violated')
    if not isinstance(message, str) or not message:
        raise validation("constraint.message: expected non-empty string")
    try:
        expr = compile_expr(spec["expr"], "constraint.expr")
    except ExprError as exc:
        raise validation(str(exc)) from None
    return Constraint(name, bucket, expr, message, copy.deepcopy(dict(spec)))


def check_constraints(constraints: list[Constraint], record: Mapping[str, Any]) -> None:
    """Refuse ``record`` if one of ``constraints`` does not hold.

    Raises:
        ValidationFailedError: With the constraint's message.
    """
    scope = Scope(record)
    for constraint in constraints:
        try:
            ok = truthy(constraint.expr.run(scope))
        except ExprError as exc:
            raise ValidationFailedError(
                f'Constraint "{constraint.name}" cannot be evaluated: {exc}',
                {"constraint": constraint.name, "bucket": constraint.bucket},
            ) from None
        if not ok:
            raise ValidationFailedError(
                constraint.message, {"constraint": constraint.name, "bucket": constraint.bucket}
            )
