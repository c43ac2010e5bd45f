"""A tour of noex-client on the embedded default: no external server needed.

Starts the in-process noex server (``noex_client.testing.LocalServer``),
connects a ``NoexClient``, defines a bucket and a live query, inserts and
queries records, and shows the pushes a reactive subscription delivers.

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


def show(title: str, value: Any) -> None:
    """Print one step of the tour with its JSON result."""
    print(f"\n{title}")
    print("  " + json.dumps(value, indent=2, sort_keys=True).replace("\n", "\n  "))


def names(records: list[dict[str, Any]]) -> list[str]:
    return [str(record["name"]) for record in records]


async def main() -> None:
    async with LocalServer() as server, NoexClient(server.url) as client:
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
    print("\nDisconnected; the in-process server is stopped.")


if __name__ == "__main__":
    asyncio.run(main())
