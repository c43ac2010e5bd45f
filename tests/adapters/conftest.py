"""Fixtures of the adapters tests: ``backend``, ``open_store`` and ``store``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import adapters

from .backends import BACKENDS, BackendEntry, StoreOpener


@pytest.fixture(params=[pytest.param(b, id=b.id, marks=b.marks) for b in BACKENDS])
def backend(request: pytest.FixtureRequest) -> BackendEntry:
    """The backend entry under test."""
    entry: BackendEntry = request.param
    return entry


@pytest.fixture
async def open_store(backend: BackendEntry) -> AsyncIterator[StoreOpener]:
    """Opens stores on one fresh, isolated data location of the backend under test."""
    async with backend.factory() as opener:
        yield opener


@pytest.fixture
async def store(open_store: StoreOpener) -> AsyncIterator[adapters.Store]:
    """An open store on fresh, isolated data."""
    async with open_store() as opened:
        yield opened
