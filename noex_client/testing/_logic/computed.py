"""Computed fields: definitions and how a write applies them (pure).

``logic.defineComputed {bucket, fields: {name: {depends: [field...], expr}}}``.
When a record of ``bucket`` is inserted, every computed field is set to its
``expr`` evaluated on the record, in definition order (a later field can use
an earlier one). On an update a field is recomputed when one of its
``depends`` fields changed; otherwise it keeps its stored value. Computed
fields are owned by the server: a value the client sends for one is replaced.
The record is validated against the bucket schema after the fields are set,
so a schema may declare (and require) a computed field.

Choices where the spec is silent: ``depends`` may be left out, and then is
the list of fields the expression reads; defining the computed fields of a
bucket again replaces them; existing records are not backfilled (the fields
appear on their next write).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._errors import RequestError, validation
from .._store._values import json_equal
from .._store.errors import ValidationFailedError
from .._store.schema import META_FIELDS
from .expr import compile_expr
from .nodes import Expr, ExprError, Scope, resolve_path

__all__ = ["ComputedField", "ComputedFields", "apply_computed", "compile_computed"]


@dataclass(frozen=True)
class ComputedField:
    """One computed field: its name, compiled expression and dependencies."""

    name: str
    expr: Expr
    depends: tuple[str, ...]


@dataclass(frozen=True)
class ComputedFields:
    """The computed fields of one bucket, with the definition as it was given."""

    bucket: str
    fields: tuple[ComputedField, ...]
    definition: dict[str, Any]


def _invalid(message: str) -> RequestError:
    return validation(message)


def compile_computed(bucket: str, fields: Mapping[str, Any], key_field: str) -> ComputedFields:
    """Check and compile the ``fields`` of ``logic.defineComputed``.

    Raises:
        RequestError: ``VALIDATION_ERROR`` naming the first bad field.
    """
    if not fields:
        raise _invalid('"fields" must define at least one computed field')
    compiled: list[ComputedField] = []
    for name, spec in fields.items():
        where = f"fields.{name}"
        if name == key_field:
            raise _invalid(f'{where}: the key field "{name}" cannot be computed')
        if name in META_FIELDS or name == "_expiresAt":
            raise _invalid(f"{where}: metadata fields cannot be computed")
        if not isinstance(spec, dict):
            raise _invalid(f"{where}: expected an object {{depends, expr}}")
        if "expr" not in spec:
            raise _invalid(f'{where}: missing "expr"')
        try:
            expr = compile_expr(spec["expr"], f"{where}.expr")
        except ExprError as exc:
            raise _invalid(str(exc)) from None
        depends = spec.get("depends")
        if depends is None:
            depends = sorted(expr.refs)
        elif not isinstance(depends, list) or not all(isinstance(d, str) and d for d in depends):
            raise _invalid(f"{where}.depends: expected an array of field names")
        compiled.append(ComputedField(name, expr, tuple(depends)))
    definition = {"bucket": bucket, "fields": copy.deepcopy(dict(fields))}
    return ComputedFields(bucket, tuple(compiled), definition)


def _changed(existing: Mapping[str, Any], record: Mapping[str, Any], field: ComputedField) -> bool:
    return any(
        not json_equal(resolve_path(existing, d), resolve_path(record, d)) for d in field.depends
    )


def apply_computed(
    computed: ComputedFields, existing: Mapping[str, Any] | None, record: dict[str, Any]
) -> None:
    """Set the computed fields of a record about to be written (in place).

    Args:
        computed: The bucket's computed fields.
        existing: The stored record for an update, ``None`` for an insert.
        record: The prepared record.

    Raises:
        ValidationFailedError: An expression cannot be evaluated on the record.
    """
    scope = Scope(record)
    for field in computed.fields:
        if existing is None or _changed(existing, record, field):
            try:
                value = field.expr.run(scope)
            except ExprError as exc:
                raise ValidationFailedError(
                    f'Computed field "{field.name}" of bucket "{computed.bucket}": {exc}'
                ) from None
            record[field.name] = copy.deepcopy(value)
        elif field.name in existing:
            record[field.name] = existing[field.name]
        else:
            record.pop(field.name, None)
