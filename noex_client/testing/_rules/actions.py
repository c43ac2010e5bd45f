"""The rule actions: what a firing rule does.

Every action type of protocol §3.6 runs:

- ``set_fact {key, value}``, ``delete_fact {key}``;
- ``emit_event {topic, data?}`` (``source: "rule"``; the triggering event's
  ``correlationId`` is carried over, with its id as ``causationId``);
- ``set_timer {timer: {name, duration, onExpire: {topic, data?},
  repeat?: {interval, maxCount?}}}`` and ``cancel_timer {name}``; durations
  are ms numbers or ``"500ms"``/``"30s"``/``"15m"``/``"1h"``/``"7d"``/``"1w"``;
- ``call_service {service, method, args?}``: calls ``method(*args)`` of a
  service registered with the server (``LocalServer(services={...})``);
- ``log {level?, message}``: logs the message on the
  ``noex_client.testing.rules`` logger (``debug``/``info``/``warn``/``error``);
- ``conditional {conditions, then, else?}``: ``then`` when every condition
  holds, else ``else``;
- ``for_each {collection, as, actions, maxIterations?}``: runs ``actions``
  per item (at most ``maxIterations``, default 1000) with the item as
  ``var.<as>``;
- ``try_catch {try, catch?: {as?, actions}, finally?}``: a failure inside
  ``try`` stops it and runs ``catch`` with ``var.<as>`` (default ``error``)
  ``= {"message": ...}``; ``finally`` runs in any case.

A failing action outside ``try`` is logged (warning) and the rule goes on
with its next action, as noex-rules records a failed action and continues.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._store._values import is_number
from .context import Context, condition_holds, interpolate, resolve
from .patterns import parse_duration
from .timers import Timer

if TYPE_CHECKING:
    from .engine import RuleEngine

__all__ = ["ActionError", "ActionRunner"]

logger = logging.getLogger("noex_client.testing.rules")
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING,
           "error": logging.ERROR}  # fmt: skip
MAX_ITERATIONS = 1000


class ActionError(Exception):
    """A rule action could not run (the message says why)."""


class ActionRunner:
    """Runs the actions of firing rules against one engine."""

    def __init__(self, engine: RuleEngine) -> None:
        self.engine = engine

    def run_all(self, rule_id: str, actions: Sequence[Any], ctx: Context) -> None:
        """Run a rule's actions; a failure is logged and the next action runs."""
        self._block(actions, ctx, strict=False, rule_id=rule_id)

    def _block(self, actions: Sequence[Any], ctx: Context, *, strict: bool, rule_id: str) -> None:
        for action in actions:
            if not isinstance(action, dict):
                continue
            try:
                self._run(action, ctx, strict, rule_id)
            except Exception as exc:
                if strict:
                    raise
                logger.warning("rule %r: action %s failed: %s", rule_id, action.get("type"), exc)

    def _run(self, action: Mapping[str, Any], ctx: Context, strict: bool, rule_id: str) -> None:
        engine, facts = self.engine, self.engine.facts
        kind = action.get("type")
        if kind == "set_fact":
            key = interpolate(action.get("key"), ctx, facts)
            engine.set_fact(key, resolve(action.get("value"), ctx, facts), "rule", ctx.depth + 1)
        elif kind == "delete_fact":
            engine.delete_fact(interpolate(action.get("key"), ctx, facts))
        elif kind == "emit_event":
            data = resolve(action.get("data") or {}, ctx, facts)
            if not isinstance(data, dict):
                raise ActionError("emit_event data must be an object")
            topic = interpolate(action.get("topic"), ctx, facts)
            engine.emit(topic, data, "rule", ctx.depth + 1, **ctx.correlation)
        elif kind == "set_timer":
            engine.set_timer(self._timer(action.get("timer"), ctx))
        elif kind == "cancel_timer":
            engine.cancel_timer(interpolate(action.get("name"), ctx, facts))
        elif kind == "call_service":
            self._call_service(action, ctx)
        elif kind == "log":
            level = _LEVELS.get(str(action.get("level", "info")), logging.INFO)
            logger.log(level, "%s", interpolate(action.get("message", ""), ctx, facts))
        elif kind == "conditional":
            holds = all(condition_holds(c, ctx, facts) for c in action.get("conditions") or [])
            branch = action.get("then") if holds else action.get("else")
            self._block(branch or [], ctx, strict=strict, rule_id=rule_id)
        elif kind == "for_each":
            self._for_each(action, ctx, strict, rule_id)
        elif kind == "try_catch":
            self._try_catch(action, ctx, strict, rule_id)
        else:
            raise ActionError(f"Unknown action type: {kind}")

    def _timer(self, spec: object, ctx: Context) -> Timer:
        facts = self.engine.facts
        if not isinstance(spec, dict) or not isinstance(spec.get("onExpire"), dict):
            raise ActionError("set_timer needs timer: {name, duration, onExpire: {topic}}")
        try:
            duration = parse_duration(spec.get("duration"))
            repeat = spec.get("repeat")
            interval = None
            remaining = None
            if isinstance(repeat, dict):
                interval = parse_duration(repeat.get("interval"))
                count = repeat.get("maxCount")
                remaining = int(count) if isinstance(count, int | float) else None
        except ValueError as exc:
            raise ActionError(str(exc)) from None
        data = resolve(spec["onExpire"].get("data") or {}, ctx, facts)
        if not isinstance(data, dict):
            raise ActionError("set_timer onExpire.data must be an object")
        return Timer(
            name=interpolate(spec.get("name"), ctx, facts),
            due=self.engine.now() + duration,
            topic=interpolate(spec["onExpire"].get("topic"), ctx, facts),
            data=data,
            interval=interval,
            remaining=remaining,
            correlation=dict(ctx.correlation),
        )

    def _call_service(self, action: Mapping[str, Any], ctx: Context) -> None:
        facts = self.engine.facts
        name = interpolate(action.get("service"), ctx, facts)
        method_name = interpolate(action.get("method"), ctx, facts)
        args = resolve(action.get("args") or [], ctx, facts)
        if not isinstance(args, list):
            raise ActionError("call_service args must be an array")
        service = self.engine.services.get(name)
        if service is None:
            raise ActionError(f'Service "{name}" not found')
        if isinstance(service, Mapping):
            method = service.get(method_name)
        else:
            method = getattr(service, method_name, None)
        if method_name.startswith("_") or not callable(method):
            raise ActionError(f'Method "{method_name}" not found on service "{name}"')
        result = method(*args)
        if inspect.isawaitable(result):
            if inspect.iscoroutine(result):
                result.close()  # never awaited: say so instead of a RuntimeWarning
            raise ActionError(
                f'Service "{name}".{method_name} returned an awaitable; '
                "LocalServer calls services synchronously"
            )

    def _for_each(
        self, action: Mapping[str, Any], ctx: Context, strict: bool, rule_id: str
    ) -> None:
        items = resolve(action.get("collection"), ctx, self.engine.facts)
        if not isinstance(items, list):
            raise ActionError("for_each collection is not an array")
        limit = action.get("maxIterations", MAX_ITERATIONS)
        limit = int(limit) if is_number(limit) and limit > 0 else MAX_ITERATIONS
        name = str(action.get("as"))
        for item in items[:limit]:
            inner = ctx.with_variable(name, item)
            self._block(action.get("actions") or [], inner, strict=strict, rule_id=rule_id)

    def _try_catch(
        self, action: Mapping[str, Any], ctx: Context, strict: bool, rule_id: str
    ) -> None:
        catch = action.get("catch")
        try:
            self._block(action.get("try") or [], ctx, strict=True, rule_id=rule_id)
        except Exception as exc:
            if not isinstance(catch, dict):
                if strict:
                    raise
                logger.warning("rule %r: try_catch without catch failed: %s", rule_id, exc)
            else:
                name = str(catch.get("as") or "error")
                handler = ctx.with_variable(name, {"message": str(exc)})
                self._block(catch.get("actions") or [], handler, strict=strict, rule_id=rule_id)
        finally:
            self._block(action.get("finally") or [], ctx, strict=strict, rule_id=rule_id)
