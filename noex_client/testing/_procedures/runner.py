"""Running a procedure: its steps against the store and the rule engine (sans-I/O).

Steps run in order; a step with ``as`` stores its result under that name in
``results`` (nested ``if`` branches too); ``return`` stops the run and gives
``result``. The outcome is ``{"success": true, "result"?: value, "results":
{...}}``.

Errors follow protocol §3.10: a store validation failure (schema or logic
constraint) is a ``VALIDATION_ERROR`` without details; anything else is an
``INTERNAL_ERROR`` carrying the original message (``Bucket "x" is not
defined``, ``aggregate: source "x" is not an array``, ``Procedure "n" timed
out after Nms``, ...).

``transaction: true`` runs every store step in one store transaction (reads
see the procedure's own writes) that is committed when the procedure ends,
so a failing step leaves nothing written. noex-server 0.1.4 documents this
but runs the steps outside the transaction (protocol §7); this server does
what the documentation promises. Rules steps (``rules.emit``,
``rules.setFact``) take effect at once either way.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from .._errors import RequestError
from .._rules import RuleEngine
from .._store import Store, StoreError, Transaction
from .._store._values import UNDEFINED, is_number, js_eq, js_num, js_str
from .._store.errors import ValidationFailedError
from .._store.filters import operator_matches
from .templates import lookup, render, strip_undefined

__all__ = ["clock", "run_procedure"]

_DEFAULT_TIMEOUT_MS = 30_000
clock = time.monotonic
"""The clock step deadlines are measured with (tests replace it)."""


class _StepError(Exception):
    """A step failed; becomes an ``INTERNAL_ERROR`` with this message."""


class _Returned(Exception):
    """A `return` step ran: stops the run (control flow, not an error)."""

    def __init__(self, value: Any) -> None:
        super().__init__("return")
        self.value = value


def _compare(operator: str, actual: Any, expected: Any) -> bool:
    """An ``if`` condition: the store filter operator of the same name."""
    if operator in ("exists", "not_exists"):
        return operator_matches("$exists", operator == "exists", actual)
    return operator_matches(f"${operator}", expected, actual)


def _aggregate(step: Mapping[str, Any], source: Any) -> Any:
    if not isinstance(source, list):
        raise _StepError(f'aggregate: source "{step["source"]}" is not an array')
    op = step["op"]
    if not source:
        return 0
    if op == "count":
        return len(source)
    field = step["field"]
    numbers: list[Any] = [
        v for v in (i.get(field) for i in source if isinstance(i, dict)) if is_number(v)
    ]
    if op == "sum":
        return sum(numbers)
    if not numbers:
        return 0
    if op == "avg":
        return sum(numbers) / len(numbers)
    return min(numbers) if op == "min" else max(numbers)


def _transform(step: Mapping[str, Any], source: Any, args: Any) -> Any:
    operation, name = step["operation"], step["source"]
    if operation == "pick":
        if not isinstance(source, dict):
            raise _StepError(f'transform.pick: source "{name}" is not an object')
        fields = args if isinstance(args, list) else [args]
        return {f: source[f] for f in fields if isinstance(f, str) and f in source}
    if not isinstance(source, list):
        raise _StepError(f'transform.{operation}: source "{name}" is not an array')
    if operation == "pluck":
        return [item.get(args) if isinstance(item, dict) else None for item in source]
    if not isinstance(args, dict):
        raise _StepError(f"transform.{operation}: args must be an object")
    if operation == "map":
        return [{**item, **args} if isinstance(item, dict) else item for item in source]
    return [
        item
        for item in source
        if isinstance(item, dict) and all(js_eq(item.get(k, UNDEFINED), v) for k, v in args.items())
    ]


def _direct(store: Store, op: Mapping[str, Any]) -> Any:
    bucket = store.bucket(op["bucket"])
    kind = op["op"]
    if kind == "get":
        return bucket.get(op["key"])
    if kind == "where":
        return bucket.where(op["filter"])
    if kind == "findOne":
        return bucket.find_one(op["filter"])
    if kind == "insert":
        return bucket.insert(op["data"])
    if kind == "update":
        return bucket.update(op["key"], op["data"])
    if kind == "delete":
        bucket.delete(op["key"])
        return {"deleted": True}
    return bucket.count(op.get("filter"))


class _Run:
    def __init__(
        self,
        config: Mapping[str, Any],
        values: dict[str, Any],
        store: Store,
        rules: RuleEngine | None,
    ) -> None:
        self.name = str(config["name"])
        self.results: dict[str, Any] = {}
        self.input = values
        self.store = store
        self.rules = rules
        self.transaction = Transaction(store) if config.get("transaction") is True else None
        self.timeout = config.get("timeoutMs", _DEFAULT_TIMEOUT_MS)
        self.deadline = clock() + self.timeout / 1000

    @property
    def context(self) -> dict[str, Any]:
        return {**self.results, "input": self.input}

    def steps(self, steps: list[Mapping[str, Any]]) -> None:
        for step in steps:
            if clock() > self.deadline:
                raise _StepError(
                    f'Procedure "{self.name}" timed out after {js_num(self.timeout)}ms'
                )
            result = self.step(step)
            target = step.get("as")
            if isinstance(target, str) and target and step["action"] not in ("if", "return"):
                self.results[target] = strip_undefined(result)

    def step(self, step: Mapping[str, Any]) -> Any:
        action: str = step["action"]
        context = self.context
        if action.startswith("store."):
            bucket = render(step["bucket"], context)  # a missing name reads "undefined", as in JS
            op = {"op": action.removeprefix("store."), "bucket": js_str(bucket)}
            for name in ("key", "filter"):
                if name in step:
                    op[name] = render(step[name], context)
            if "data" in step:
                op["data"] = strip_undefined(render(step["data"], context))
            if self.transaction is not None:
                return self.transaction.run(op)
            return _direct(self.store, op)
        if action == "aggregate":
            return _aggregate(step, lookup(context, step["source"]))
        if action == "transform":
            source = lookup(context, step["source"])
            return _transform(step, source, strip_undefined(render(step["args"], context)))
        if action == "if":
            condition = step["condition"]
            actual = lookup(context, condition["ref"])
            expected = render(condition.get("value"), context)
            branch = step["then"] if _compare(condition["operator"], actual, expected) else None
            self.steps(branch if branch is not None else step.get("else") or [])
            return None
        if action == "return":
            raise _Returned(render(step["value"], context))
        return self.rules_step(action, step, context)

    def rules_step(self, action: str, step: Mapping[str, Any], context: dict[str, Any]) -> Any:
        if self.rules is None:
            raise _StepError(f"{action}: rule engine is not configured")
        if action == "rules.emit":
            data = strip_undefined(render(step.get("data") or {}, context))
            return self.rules.emit(str(render(step["topic"], context)), data)
        key = str(render(step["key"], context))
        if action == "rules.setFact":
            return self.rules.set_fact(key, strip_undefined(render(step["value"], context)))
        fact = self.rules.facts.get(key)
        return None if fact is None else fact["value"]


def run_procedure(
    config: Mapping[str, Any],
    values: dict[str, Any],
    store: Store,
    rules: RuleEngine | None,
) -> dict[str, Any]:
    """Run a validated procedure with validated input.

    Returns:
        ``{"success": True, "result"?: ..., "results": {...}}``.

    Raises:
        RequestError: ``VALIDATION_ERROR`` (a store validation failure) or
            ``INTERNAL_ERROR`` (any other step failure, original message).
    """
    run = _Run(config, values, store, rules)
    returned: Any = UNDEFINED
    try:
        try:
            run.steps(config["steps"])
        except _Returned as done:
            returned = done.value
        if run.transaction is not None:
            run.transaction.commit()
    except ValidationFailedError as exc:
        raise RequestError("VALIDATION_ERROR", exc.message) from None
    except StoreError as exc:
        raise RequestError("INTERNAL_ERROR", exc.message) from None
    except _StepError as exc:
        raise RequestError("INTERNAL_ERROR", str(exc)) from None
    outcome: dict[str, Any] = {"success": True}
    if returned is not UNDEFINED:
        outcome["result"] = strip_undefined(returned)
    outcome["results"] = run.results
    return outcome
