"""A tour of noex-client on the embedded default: no external server needed.

Starts the in-process noex server (``noex_client.testing.LocalServer``, with
its logic engine), connects a ``NoexClient``, defines a bucket and a live
query, inserts and queries records, shows the pushes a reactive subscription
delivers, then uses ``client.logic``: a computed order total, a constraint,
and a live derived view, with expressions built by ``noex_client.expr``.

Run it with ``./scripts/demo``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from noex_client import NoexClient, NoexClientError
from noex_client import expr as e
from noex_client.testing import LocalServer

USERS_SCHEMA: dict[str, Any] = {
    "key": "id",
    "schema": {
        "id": {"type": "string", "generated": "uuid"},
        "name": {"type": "string", "required": True, "minLength": 1},
        "role": {"type": "string", "enum": ["admin", "user"], "default": "user"},
        "age": {"type": "number", "min": 0},
    },
}


ORDERS_SCHEMA: dict[str, Any] = {
    "key": "id",
    "schema": {
        "id": {"type": "string", "generated": "uuid"},
        "customer": {"type": "string", "required": True},
        "qty": {"type": "number", "required": True},
        "price": {"type": "number", "required": True},
        "total": {"type": "number"},
    },
}
# total = round(qty * price, 2), kept by the server whenever qty or price changes.
ORDER_TOTAL = {
    "total": {
        "depends": ["qty", "price"],
        "expr": e.round(e.multiply(e.f("qty"), e.f("price")), 2),
    }
}
# Refuses (and writes nothing) when an order's quantity is not positive.
POSITIVE_QTY = {
    "name": "positive-qty",
    "on": "orders",
    "expr": e.gt(e.f("qty"), 0),
    "message": "An order needs a positive quantity",
}
# One row per customer: a join of orders and users, grouped by the user's name.
SPENDING_VIEW = {
    "name": "spending",
    "from": {"o": "orders", "u": "users"},
    "join": {"o.customer": "u.id"},
    "select": {"name": "u.name", "orders": e.count(), "spent": e.sum("o.total")},
}


def show(title: str, value: Any) -> None:
    """Print one step of the tour with its JSON result."""
    print(f"\n{title}")
    print("  " + json.dumps(value, indent=2, sort_keys=True).replace("\n", "\n  "))


def names(records: list[dict[str, Any]]) -> list[str]:
    return [str(record["name"]) for record in records]


async def main() -> None:
    async with LocalServer(logic=True) as server, NoexClient(server.url) as client:
        stats = await client.server.stats()
        print(f"Connected to {server.url} ({stats['name']}), state={client.state}")

        await client.store.define_bucket("users", USERS_SCHEMA)
        await client.store.define_query(
            "admins", {"bucket": "users", "filter": {"role": "admin"}, "sort": {"name": "asc"}}
        )
        users = client.store.bucket("users")

        updates: asyncio.Queue[list[dict[str, Any]]] = asyncio.Queue()
        unsubscribe = await client.store.subscribe("admins", updates.put_nowait)
        show("Live query 'admins', initial result:", names(await updates.get()))

        alice = await users.insert({"name": "Alice", "role": "admin", "age": 34})
        show("Inserted a record (metadata added by the server):", alice)
        show("Push after the insert, admins are now:", names(await updates.get()))

        await users.insert({"name": "Bob", "age": 27})
        carol = await users.insert({"name": "Carol", "role": "admin", "age": 41})
        show(
            "Push after inserting Carol (Bob is no admin, no push for him):",
            names(await updates.get()),
        )

        updated = await users.update(alice["id"], {"age": 35})
        show(
            "update() merges and bumps _version:",
            {"age": updated["age"], "_version": updated["_version"]},
        )
        await updates.get()  # Alice's record changed, so the admins result changed

        show("where({'age': {'$gte': 30}}):", names(await users.where({"age": {"$gte": 30}})))
        show(
            "count() / count(role=user):",
            [await users.count(), await users.count({"role": "user"})],
        )

        try:
            await users.insert({"name": "", "role": "guest"})
        except Exception as exc:  # the typed error a user would catch
            show(
                f"A bad insert raises {type(exc).__name__}:",
                {"code": getattr(exc, "code", None), "details": getattr(exc, "details", None)},
            )

        await users.delete(carol["id"])
        show("Push after deleting Carol:", names(await updates.get()))
        unsubscribe()

        await logic_tour(client, alice["id"])
    print("\nDisconnected; the in-process server is stopped.")


async def logic_tour(client: NoexClient, customer: str) -> None:
    """A computed field, a constraint and a live derived view, served by the logic engine."""
    await client.store.define_bucket("orders", ORDERS_SCHEMA)
    await client.logic.define_computed("orders", ORDER_TOTAL)
    await client.logic.define_constraint(POSITIVE_QTY)
    orders = client.store.bucket("orders")
    order = await orders.insert({"customer": customer, "qty": 3, "price": 19.99})
    show("Computed field: an order's total is set by the server:", order["total"])
    order = await orders.update(order["id"], {"qty": 4})
    show("...and recomputed when qty changes:", order["total"])
    try:
        await orders.insert({"customer": customer, "qty": 0, "price": 5})
    except NoexClientError as exc:
        show("The constraint refuses a zero quantity:", {"code": exc.code, "message": str(exc)})
    await orders.insert({"customer": customer, "qty": 1, "price": 5})

    await client.logic.define_view(SPENDING_VIEW)
    async with client.logic.watch_view("spending") as results:
        spending = await anext(results)
        show("Derived view 'spending' (orders joined to users):", spending)
        await orders.insert({"customer": customer, "qty": 2, "price": 10})
        show("The view pushed its new result after another order:", await anext(results))


if __name__ == "__main__":
    asyncio.run(main())
