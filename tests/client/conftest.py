"""Fixtures for client tests: both transports, a scripted in-memory peer, fast-timing clients."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable

import pytest

from noex_client import ClientOptions, NoexClient, ReconnectOptions, ReconnectPolicy, _transport
from tests.client.scripted import ScriptedPeer

FAST_RECONNECT = ReconnectOptions(initial_delay_ms=1, max_delay_ms=5, jitter_ms=1)

MakeClient = Callable[..., NoexClient]


TRANSPORTS = ("websockets", "picows")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Every client test runs once per transport, except those comparing them directly.
    if metafunc.definition.get_closest_marker("compares_transports") is None:
        metafunc.parametrize("transport", TRANSPORTS, indirect=True)


@pytest.fixture(autouse=True)
def transport(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The WebSocket library under test: ``transport="auto"`` (the default of
    every client the tests make) picks it."""
    name: str = getattr(request, "param", "auto")
    if name == "picows":
        pytest.importorskip("picows", reason="the fast extra is not installed")
    if name != "auto":
        monkeypatch.setattr(_transport, "AUTO_ORDER", (name,))
    return name


def fast_options(**overrides: object) -> ClientOptions:
    values: dict[str, object] = {
        "request_timeout_ms": 2_000,
        "connect_timeout_ms": 2_000,
        "reconnect": FAST_RECONNECT,
    }
    values.update(overrides)
    return ClientOptions(**values)  # type: ignore[arg-type]


@pytest.fixture
async def peer() -> AsyncIterator[ScriptedPeer]:
    server = ScriptedPeer()
    server.buckets["users"] = {}
    server.queries["all-users"] = "users"
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def make_client(peer: ScriptedPeer) -> AsyncIterator[MakeClient]:
    clients: list[NoexClient] = []

    def make(**overrides: object) -> NoexClient:
        options = fast_options(**overrides)
        backoff = options.reconnect_options
        policy = None if backoff is None else ReconnectPolicy(backoff, random.Random(7))
        client = NoexClient(
            "ws://peer.invalid/", options, connector=peer.connector, reconnect_policy=policy
        )
        clients.append(client)
        return client

    try:
        yield make
    finally:
        for client in clients:
            await client.disconnect()
