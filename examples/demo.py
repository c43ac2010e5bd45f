"""A tour of noex-client on the embedded default: no external server needed.

Starts the in-process noex server (``noex_client.testing.LocalServer``, with
its logic engine), connects a ``NoexClient``, defines a bucket and a live
query, inserts and queries records, shows the pushes a reactive subscription
delivers, then lets the server compute an order total and a derived view.

Run it with ``./scripts/demo``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from noex_client import NoexClient
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
        "expr": {"$round": [{"$multiply": ["$qty", "$price"]}, 2]},
    }
}
# One row per customer: a join of orders and users, grouped by the user's name.
SPENDING_VIEW = {
    "name": "spending",
    "from": {"o": "orders", "u": "users"},
    "join": {"o.customer": "u.id"},
    "select": {"name": "u.name", "orders": {"$count": "*"}, "spent": {"$sum": "o.total"}},
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
    """Computed fields and a derived view, served by the server's logic engine."""
    await client.store.define_bucket("orders", ORDERS_SCHEMA)
    await client.request("logic.defineComputed", bucket="orders", fields=ORDER_TOTAL)
    orders = client.store.bucket("orders")
    order = await orders.insert({"customer": customer, "qty": 3, "price": 19.99})
    show("Computed field: an order's total is set by the server:", order["total"])
    order = await orders.update(order["id"], {"qty": 4})
    show("...and recomputed when qty changes:", order["total"])
    await orders.insert({"customer": customer, "qty": 1, "price": 5})

    await client.request("logic.defineView", definition=SPENDING_VIEW)
    spending = await client.request("logic.queryView", name="spending")
    show("Derived view 'spending' (orders joined to users):", spending)


if __name__ == "__main__":
    asyncio.run(main())
