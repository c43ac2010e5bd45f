"""The public surface of ``adapters``, URL redaction and the scheme registry."""

from __future__ import annotations

import sys

import pytest

import adapters
from adapters._connect import BACKENDS, open_store


def test_exported_names() -> None:
    assert adapters.__all__ == sorted(adapters.__all__)
    assert set(adapters.__all__) == {
        "AdapterError",
        "AlreadyExists",
        "BackendError",
        "BackendUnavailable",
        "Change",
        "ChangeKind",
        "ChangeStream",
        "Collection",
        "Conflict",
        "CursorExpired",
        "FilterError",
        "InvalidValue",
        "Lock",
        "LockLost",
        "LockTimeout",
        "MissingExtra",
        "NotFound",
        "Page",
        "Record",
        "Store",
        "ValidationError",
        "connect",
        "redact_url",
    }
    for name in adapters.__all__:
        assert getattr(adapters, name) is not None


def test_error_tree() -> None:
    for cls in (
        adapters.NotFound,
        adapters.AlreadyExists,
        adapters.Conflict,
        adapters.FilterError,
        adapters.BackendUnavailable,
        adapters.MissingExtra,
        adapters.ValidationError,
        adapters.InvalidValue,
        adapters.CursorExpired,
        adapters.LockTimeout,
        adapters.LockLost,
    ):
        assert issubclass(cls, adapters.AdapterError)
    assert issubclass(adapters.InvalidValue, ValueError)
    assert issubclass(adapters.LockTimeout, TimeoutError)
    assert issubclass(adapters.BackendUnavailable, ConnectionError)
    assert issubclass(adapters.MissingExtra, ImportError)
    assert str(adapters.NotFound("c", "k")) == "no record 'k' in collection 'c'"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://user:s3cret@db:5432/app", "postgresql://***@db:5432/app"),
        ("postgresql://user@db/app", "postgresql://***@db/app"),
        (
            "postgresql://db/app?password=s3cret&schema=x",
            "postgresql://db/app?password=***&schema=x",
        ),
        ("nats://tok3n@127.0.0.1:4222?namespace=app", "nats://***@127.0.0.1:4222?namespace=app"),
        ("memory://", "memory://"),
        ("sqlite:///tmp/x.db", "sqlite:///tmp/x.db"),
        ("ws://[::1]:8080", "ws://[::1]:8080"),
        ("beaver+http://u:p@h:1/?token=abc", "beaver+http://***@h:1/?token=***"),
        ("postgresql://u:p@host:notaport/db", "postgresql://***"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    redacted = adapters.redact_url(url)
    assert redacted == expected
    for secret in ("s3cret", "tok3n", ":p@", "abc"):
        assert secret not in redacted


def test_registry_lists_every_backend() -> None:
    assert {scheme: (b.module, b.extra) for scheme, b in BACKENDS.items()} == {
        "memory": ("adapters.backends.memory", None),
        "sqlite": ("adapters.backends.sqlite", None),
        "postgresql": ("adapters.backends.postgres", "postgres"),
        "postgres": ("adapters.backends.postgres", "postgres"),
        "nats": ("adapters.backends.nats", "nats"),
        "ws": ("adapters.backends.noex", None),
        "wss": ("adapters.backends.noex", None),
        "beaver+http": ("adapters.backends.beaver", "beaver"),
        "beaver+https": ("adapters.backends.beaver", "beaver"),
    }


async def test_unknown_scheme() -> None:
    with pytest.raises(ValueError, match="unknown backend scheme") as info:
        await open_store("redis://user:hunter2@h/0")
    assert "hunter2" not in str(info.value)


async def test_missing_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    # A missing third-party driver (simulated by blocking its import) becomes
    # MissingExtra naming the extra; no backend code runs.
    monkeypatch.setitem(
        BACKENDS,
        "fake",
        BACKENDS["postgresql"].__class__("fake_postgres_driver_not_installed", "postgres"),
    )
    monkeypatch.delitem(sys.modules, "fake_postgres_driver_not_installed", raising=False)
    with pytest.raises(adapters.MissingExtra) as info:
        await open_store("fake://x")
    assert info.value.extra == "postgres"
    assert "noex-client[postgres]" in str(info.value)
    assert isinstance(info.value.__cause__, ImportError)


async def test_connect_is_awaitable_and_a_context_manager() -> None:
    store = await adapters.connect("memory://")
    assert repr(store) == "<MemoryStore memory:// open>"
    await store.close()
    assert store.closed
    async with adapters.connect("memory://") as other:
        await other.collection("x").insert({})
    assert other.closed


async def test_missing_psycopg_names_the_postgres_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes "import psycopg" raise ImportError, as when the
    # extra is not installed; the backend modules are re-imported from scratch.
    for name in list(sys.modules):
        if name.startswith("adapters.backends.postgres"):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(adapters.MissingExtra) as info:
        await adapters.connect("postgresql://user:pw@127.0.0.1/x")
    assert info.value.extra == "postgres"
    assert "pw" not in str(info.value)
