"""The typed surface is what users see in their type checker (checked by mypy).

The published signatures themselves are checked by ``tests/compat/test_surface.py``.
"""

from __future__ import annotations

import inspect
from typing import Any, assert_type

import msgspec

from noex_client import (
    AuditAPI,
    AuthAPI,
    BucketAPI,
    IdentityAPI,
    LogicAPI,
    NoexClient,
    Page,
    ProceduresAPI,
    RulesAPI,
    ServerAPI,
    StoreAPI,
    TypedBucketAPI,
    Unsubscribe,
    Watch,
)


def test_client_exposes_every_group() -> None:
    client = NoexClient("ws://127.0.0.1:1/")
    groups = {
        "store": StoreAPI,
        "rules": RulesAPI,
        "auth": AuthAPI,
        "identity": IdentityAPI,
        "logic": LogicAPI,
        "audit": AuditAPI,
        "procedures": ProceduresAPI,
        "server": ServerAPI,
    }
    for name, cls in groups.items():
        assert isinstance(getattr(client, name), cls)


class User(msgspec.Struct):
    name: str


async def _typed_surface(client: NoexClient) -> None:  # checked by mypy, never awaited
    assert_type(client.store.bucket("users"), BucketAPI)
    users = client.store.bucket("users", model=User)
    assert_type(users, TypedBucketAPI[User])
    assert_type(await users.insert(User("a")), User)
    assert_type(await users.get("k"), User | None)
    assert_type(await users.all(), list[User])
    assert_type(await users.paginate(10), Page[User])
    assert_type(await client.store.bucket("users").count(), int)
    assert_type(await client.store.bucket("users").min("age"), float | None)
    assert_type(await client.store.subscribe("q", print), Unsubscribe)
    assert_type(client.store.watch("q"), Watch[Any])
    assert_type(client.rules.watch("*"), Watch[tuple[str, Any]])
    assert_type(await client.rules.delete_fact("k"), bool)
    assert_type(await client.audit.query(), list[dict[str, Any]])
    assert_type(await client.auth.whoami(), dict[str, Any] | None)
    assert_type(await client.identity.get_owner("bucket", "b"), dict[str, Any] | None)
    assert_type(await client.logic.drop_view("v"), bool)
    assert_type(client.logic.watch_view("v"), Watch[list[dict[str, Any]]])
    assert_type(await client.request("store.buckets", {}), Any)


def test_typed_surface_is_checked_by_mypy() -> None:
    assert inspect.iscoroutinefunction(_typed_surface)
