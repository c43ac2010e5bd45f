"""Fixtures: one real BeaverDB server per test session (and one with an API key)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from adapters.beaver import AsyncBeaverClient, BeaverClient
from tests.adapters.beaver.server import beaver_executable, running_server, shared_server_url

API_KEY = "s3cret-" + uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def beaver_url() -> str:
    """Base URL of a ``beaver serve`` without an API key (shared with the contract suite)."""
    return shared_server_url()


@pytest.fixture(scope="session")
def keyed_beaver_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a ``beaver serve --api-key API_KEY``."""
    if beaver_executable() is None:
        pytest.skip("BeaverDB virtualenv missing: run scripts/ensure-services to create it")
    with running_server(Path(tmp_path_factory.mktemp("beaver-key")), API_KEY) as url:
        yield url


@pytest.fixture
def name() -> str:
    """A structure name no other test uses."""
    return "t-" + uuid.uuid4().hex[:12]


@pytest.fixture
def db(beaver_url: str) -> Iterator[BeaverClient]:
    """A sync client; blocking queue polls are kept short."""
    with BeaverClient(beaver_url, timeout=5.0, queue_poll=0.2) as client:
        yield client


@pytest.fixture
async def adb(beaver_url: str) -> AsyncIterator[AsyncBeaverClient]:
    """An async client; blocking queue polls are kept short."""
    async with AsyncBeaverClient(beaver_url, timeout=5.0, queue_poll=0.2) as client:
        yield client
