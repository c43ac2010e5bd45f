"""Fixtures of the lock tests: ``place`` (every backend with locks) and ``process_place``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from .targets import PROCESS_TARGETS, TARGETS, LockTarget, Place


@pytest.fixture(params=[pytest.param(t, id=t.id, marks=t.marks) for t in TARGETS])
async def place(request: pytest.FixtureRequest) -> AsyncIterator[Place]:
    """A fresh location of each backend with locks."""
    target: LockTarget = request.param
    async with target.factory() as fresh:
        yield fresh


@pytest.fixture(params=[pytest.param(t, id=t.id, marks=t.marks) for t in PROCESS_TARGETS])
async def process_place(request: pytest.FixtureRequest) -> AsyncIterator[Place]:
    """A fresh location of each backend whose locks span processes."""
    target: LockTarget = request.param
    async with target.factory() as fresh:
        yield fresh
