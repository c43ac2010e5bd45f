"""Fixtures of the CLI tests: the in-process runner and one store URL per backend.

``target`` is parametrised over the backends the CLI is tested against: the
embedded SQLite file, a noex-server (the in-process server, run as a child
process), and PostgreSQL and NATS when their backends are installed. Each test
gets fresh, isolated data: a new file, a new server, a new schema or a new
bucket prefix, removed afterwards.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator

import pytest

from .helpers import Target, nats_target, noex_target, postgres_target, sqlite_target

BACKEND_IDS = ["sqlite", "noex"]
if importlib.util.find_spec("adapters.backends.postgres") is not None:
    BACKEND_IDS.append("postgres")
if importlib.util.find_spec("adapters.backends.nats") is not None:
    BACKEND_IDS.append("nats")

_MARKS = {"postgres": (pytest.mark.postgres,), "nats": (pytest.mark.nats,)}


def make_target(kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """Open a fresh, isolated target of ``kind``; clean it up afterwards."""
    if kind == "sqlite":
        yield from sqlite_target(tmp_path_factory.mktemp("cli"))
    elif kind == "noex":
        yield from noex_target()
    elif kind == "postgres":
        yield from postgres_target()
    else:
        yield from nats_target()


@pytest.fixture(params=[pytest.param(k, id=k, marks=_MARKS.get(k, ())) for k in BACKEND_IDS])
def target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Target]:
    """A store the CLI talks to, on fresh data."""
    yield from make_target(request.param, tmp_path_factory)
