"""Stored procedures of the test server (sans-I/O), as recorded in ``procedures.jsonl``.

- :mod:`.validation`: ProcedureConfig and call input checks, with the
  server's issue texts;
- :mod:`.templates`: ``{{ path }}`` references into input and results;
- :mod:`.runner`: running the steps against the store and the rule engine;
- :class:`ProcedureRegistry` (here): register, get, list, update,
  unregister and call.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from .._errors import RequestError
from .._rules import RuleEngine
from .._store import Store
from .runner import run_procedure
from .validation import check_config, check_input

__all__ = ["ProcedureRegistry"]


def _not_found(name: str) -> RequestError:
    return RequestError("NOT_FOUND", f'Procedure "{name}" not found')


def _validated(config: Mapping[str, Any]) -> dict[str, Any]:
    issues = check_config(config)
    if issues:
        raise RequestError(
            "VALIDATION_ERROR",
            "Procedure validation failed: " + "; ".join(issues),
            {"issues": issues},
        )
    return copy.deepcopy(dict(config))


class ProcedureRegistry:
    """The registered procedures of one server, in registration order."""

    def __init__(self) -> None:
        self.procedures: dict[str, dict[str, Any]] = {}

    def register(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """Register a procedure; returns ``{name, registered: true}``.

        Raises:
            RequestError: ``VALIDATION_ERROR`` (details ``{issues}``) or ``ALREADY_EXISTS``.
        """
        stored = _validated(config)
        name = stored["name"]
        if name in self.procedures:
            raise RequestError("ALREADY_EXISTS", f'Procedure "{name}" already exists')
        self.procedures[name] = stored
        return {"name": name, "registered": True}

    def get(self, name: str) -> dict[str, Any]:
        """The stored ProcedureConfig, as it was sent.

        Raises:
            RequestError: ``NOT_FOUND``.
        """
        found = self.procedures.get(name)
        if found is None:
            raise _not_found(name)
        return copy.deepcopy(found)

    def update(self, name: str, updates: Mapping[str, Any]) -> dict[str, Any]:
        """Shallow-merge ``updates`` (the name is kept) and validate again.

        Raises:
            RequestError: ``NOT_FOUND`` or ``VALIDATION_ERROR``.
        """
        existing = self.get(name)
        self.procedures[name] = _validated({**existing, **updates, "name": name})
        return {"name": name, "updated": True}

    def unregister(self, name: str) -> dict[str, Any]:
        """Remove a procedure; returns ``{name, unregistered: true}``.

        Raises:
            RequestError: ``NOT_FOUND``.
        """
        if self.procedures.pop(name, None) is None:
            raise _not_found(name)
        return {"name": name, "unregistered": True}

    def summaries(self) -> dict[str, Any]:
        """``{"procedures": [{name, description?, stepsCount}]}`` (top-level steps)."""
        out: list[dict[str, Any]] = []
        for config in self.procedures.values():
            entry: dict[str, Any] = {"name": config["name"]}
            if "description" in config:
                entry["description"] = config["description"]
            entry["stepsCount"] = len(config["steps"])
            out.append(entry)
        return {"procedures": out}

    def call(
        self, name: str, given: Mapping[str, Any], store: Store, rules: RuleEngine | None
    ) -> dict[str, Any]:
        """Validate the input and run the procedure.

        Raises:
            RequestError: ``NOT_FOUND``; ``VALIDATION_ERROR`` for bad input
                (details ``{issues}``) or a store validation failure;
                ``INTERNAL_ERROR`` for any other step failure.
        """
        config = self.procedures.get(name)
        if config is None:
            raise _not_found(name)
        values, issues = check_input(config.get("input"), given)
        if issues:
            raise RequestError(
                "VALIDATION_ERROR",
                "Invalid procedure input: " + "; ".join(issues),
                {"issues": issues},
            )
        return run_procedure(config, values, store, rules)
