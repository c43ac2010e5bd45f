"""Helpers of the CLI tests: running ``noex-store`` and preparing backends."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

import adapters
from adapters.cli._app import app

__all__ = [
    "PG_URL",
    "Result",
    "Target",
    "cli",
    "nats_target",
    "noex_target",
    "postgres_target",
    "seed",
    "sqlite_target",
    "start_noex_server",
    "stop_process",
]

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
NATS_URL = "nats://127.0.0.1:4222"
SESSION = uuid.uuid4().hex[:8]


@dataclass(frozen=True)
class Target:
    """A store for the CLI: its URL and the ``-o KEY=VALUE`` options it needs."""

    kind: str
    url: str
    options: tuple[str, ...] = ()
    connect_options: dict[str, Any] = field(default_factory=dict)

    def args(self, prefix: str = "") -> list[str]:
        """``--url URL -o K=V ...`` (or ``--from``/``--to`` with ``prefix``)."""
        flag = f"--{prefix}" if prefix else "--url"
        opt = f"--{prefix}-option" if prefix else "--option"
        out = [flag, self.url]
        for option in self.options:
            out += [opt, option]
        return out

    async def open(self) -> adapters.Store:
        """Open the same store from the test."""
        return await adapters.connect(self.url, **self.connect_options)


@dataclass(frozen=True)
class Result:
    """The outcome of one CLI run."""

    code: int
    out: str
    err: str

    def lines(self) -> list[Any]:
        """stdout parsed as JSON Lines."""
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]


def cli(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    """Run ``noex-store ARGS`` in-process (stdout is not a terminal: JSON Lines)."""
    result = CliRunner().invoke(app, list(args), input=input, env=env, catch_exceptions=False)
    return Result(result.exit_code, result.stdout, result.stderr)


def sqlite_target(tmp: Path) -> Iterator[Target]:
    """A fresh SQLite file."""
    yield Target("sqlite", f"sqlite:///{tmp}/store.db")


def start_noex_server() -> tuple[subprocess.Popen[str], str]:
    """Start the in-process noex server as a child process; return it and its URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "noex_client.testing", "serve"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    assert url.startswith("ws://"), url
    return proc, url


def stop_process(proc: subprocess.Popen[str]) -> None:
    """Terminate a child started by the tests and close its pipes."""
    proc.terminate()
    proc.wait(timeout=10)
    for pipe in (proc.stdout, proc.stderr, proc.stdin):
        if pipe is not None:
            pipe.close()


def noex_target() -> Iterator[Target]:
    """A fresh noex server (a child process), stopped afterwards."""
    proc, url = start_noex_server()
    try:
        yield Target("noex", url)
    finally:
        stop_process(proc)


def postgres_target() -> Iterator[Target]:
    """A fresh PostgreSQL schema, dropped afterwards."""
    schema = f"noex_cli_{SESSION}_{uuid.uuid4().hex[:8]}"
    try:
        yield Target("postgres", PG_URL, (f"schema={schema}",), {"schema": schema})
    finally:
        import psycopg
        from psycopg import sql

        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def nats_target() -> Iterator[Target]:
    """A fresh NATS bucket prefix; its collections are dropped afterwards."""
    url = f"{NATS_URL}?namespace=cli&prefix=c{SESSION}{uuid.uuid4().hex[:6]}_"
    target = Target("nats", url)
    try:
        yield target
    finally:
        asyncio.run(_drop_all(target))


async def _drop_all(target: Target) -> None:
    async with await target.open() as store:
        for name in await store.collections():
            await store.drop(name)


def seed(target: Target, coll: str, docs: Sequence[tuple[str, dict[str, Any]]]) -> None:
    """Insert ``docs`` (key, document) into ``coll`` through the library."""

    async def main() -> None:
        async with await target.open() as store:
            await store.collection(coll).insert_many([{**d, "_key": k} for k, d in docs])

    asyncio.run(main())
