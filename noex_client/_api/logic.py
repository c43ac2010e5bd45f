"""``LogicAPI``: computed fields, derived views, constraints, expressions (``logic.*``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .._events import Unsubscribe
from .._subscriptions import SubscriptionManager
from .._watch import Watch
from ._base import Requester, initial_data, json_value, require_text, unwrap

__all__ = ["LogicAPI"]


class LogicAPI:
    """The server's logic engine; access it as ``client.logic``.

    Expressions are JSON trees (build them with :mod:`noex_client.logic.expr`).
    A server started without a logic engine answers every method with an error:
    :class:`~noex_client.LogicNotAvailableError` from ``LocalServer``,
    :class:`~noex_client.UnknownOperationError` from a noex-server without the
    logic module. Every method raises :class:`~noex_client.DisconnectedError`
    when not connected, :class:`~noex_client.RequestTimeoutError` on timeout,
    :class:`~noex_client.ForbiddenError` when the session's role does not
    reach the operation's tier (defining, dropping, listing and explaining
    are admin tier; querying, subscribing and evaluating read tier), and the
    server's error otherwise.
    """

    __slots__ = ("_client", "_subscriptions")

    def __init__(self, client: Requester, subscriptions: SubscriptionManager) -> None:
        self._client = client
        self._subscriptions = subscriptions

    def __repr__(self) -> str:
        return "LogicAPI()"

    async def _drop(self, op: str, **fields: Any) -> bool:
        return bool(unwrap(await self._client.request(op, **fields), "dropped", op))

    # -- computed fields -------------------------------------------------------------------

    async def define_computed(self, bucket: str, fields: Mapping[str, Any]) -> None:
        """Define computed fields of ``bucket``: ``{name: {"depends": [field, ...],
        "expr": expression}}``. After every insert or update each field is set to
        its expression evaluated on the record."""
        await self._client.request("logic.defineComputed", bucket=bucket, fields=dict(fields))

    async def drop_computed(self, bucket: str) -> bool:
        """Remove the computed fields of ``bucket``; ``True`` if there were any."""
        return await self._drop("logic.dropComputed", bucket=bucket)

    async def list_computed(self) -> list[dict[str, Any]]:
        """Every computed-field definition: ``[{"bucket", "fields", ...}]``."""
        result: list[dict[str, Any]] = await self._client.request("logic.listComputed")
        return result

    # -- derived views ---------------------------------------------------------------------

    async def define_view(self, definition: Mapping[str, Any]) -> None:
        """Define a view: ``{"name", "from": {alias: bucket}, "join"?: {"a.f": "b.f"},
        "select": {out_field: "alias.field" | expression}}``."""
        await self._client.request("logic.defineView", definition=dict(definition))

    async def drop_view(self, name: str) -> bool:
        """Remove view ``name``; ``True`` if it existed."""
        return await self._drop("logic.dropView", name=name)

    async def query_view(self, name: str) -> list[dict[str, Any]]:
        """The current rows of view ``name``."""
        result: list[dict[str, Any]] = await self._client.request("logic.queryView", name=name)
        return result

    async def explain_view(self, name: str) -> dict[str, Any]:
        """How view ``name`` is built: at least ``{"name", "sources": {alias: bucket}}``."""
        result: dict[str, Any] = await self._client.request("logic.explainView", name=name)
        return result

    async def list_views(self) -> list[dict[str, Any]]:
        """Every view: ``[{"name", ...}]``."""
        result: list[dict[str, Any]] = await self._client.request("logic.listViews")
        return result

    async def subscribe_view(
        self, name: str, callback: Callable[[list[dict[str, Any]]], Any]
    ) -> Unsubscribe:
        """Call ``callback(rows)`` with the view's rows now, then with the whole new
        result whenever it changes, and with fresh rows after every reconnect.

        If ``callback`` raises on the initial rows, the subscription is
        cancelled and the exception re-raised; later, a raising callback is
        isolated (``error`` event and log). It may be a coroutine function.
        Returns a **synchronous** unsubscribe callable.

        Raises:
            TypeError, ValueError: ``name`` is not a non-empty string.
            DisconnectedError: Not connected.
            RateLimitedError: Subscription limit reached.
            Exception: What ``callback`` raised on the initial rows.
        """
        sub = await self._subscriptions.open(
            "logic.subscribeView",
            {"name": require_text(name, "view name")},
            unsubscribe_op="logic.unsubscribeView",
            on_result=lambda result: callback(initial_data(result)),
            on_push=callback,
        )
        return sub.close

    def watch_view(self, name: str, *, buffer_size: int = 16) -> Watch[list[dict[str, Any]]]:
        """Iterate over the view's results: ``async with logic.watch_view(name) as rows``.

        Yields the current rows, then every new result (fresh after a
        reconnect). When the consumer falls ``buffer_size`` results behind, the
        oldest unread result is dropped (the latest is always kept), as for
        ``store.watch``.

        Raises:
            ValueError: ``buffer_size`` is not positive.
            DisconnectedError: On entry, when not connected.
            RateLimitedError: On entry, when the server rate-limits the client.
            NoexClientError: On entry, the server's error for the subscription.
        """
        view = require_text(name, "view name")
        return self._subscriptions.watch(
            "logic.subscribeView",
            {"name": view},
            unsubscribe_op="logic.unsubscribeView",
            initial=initial_data,
            buffer_size=buffer_size,
            overflow="keep_latest",
            what=f"view {view!r}",
        )

    async def unsubscribe_view(self, subscription_id: str) -> None:
        """Cancel a view subscription by its server-assigned id.

        Raises:
            NotFoundError: The server knows no such view subscription.
        """
        await self._subscriptions.unsubscribe_by_id(
            "logic.subscribeView", "logic.unsubscribeView", subscription_id
        )

    # -- constraints -----------------------------------------------------------------------

    async def define_constraint(self, constraint: Mapping[str, Any]) -> None:
        """Define ``{"name", "on": bucket, "expr", "message"}``: an insert or update
        whose record makes ``expr`` false is rejected with ``message``."""
        await self._client.request("logic.defineConstraint", constraint=dict(constraint))

    async def drop_constraint(self, name: str) -> bool:
        """Remove constraint ``name``; ``True`` if it existed."""
        return await self._drop("logic.dropConstraint", name=name)

    async def list_constraints(self) -> list[dict[str, Any]]:
        """Every constraint definition."""
        result: list[dict[str, Any]] = await self._client.request("logic.listConstraints")
        return result

    # -- expressions -----------------------------------------------------------------------

    async def evaluate_expr(self, expr: Any, record: Mapping[str, Any] | None = None) -> Any:
        """Evaluate ``expr`` on the server (``"$field"`` reads from ``record``)."""
        fields: dict[str, Any] = {"expr": json_value(expr)}
        if record is not None:
            fields["record"] = dict(record)
        return await self._client.request("logic.evaluateExpr", **fields)
