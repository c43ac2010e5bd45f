"""``copy`` between every pair of {sqlite, postgres, nats}: 10k documents, interrupted, resumed."""

from __future__ import annotations

import asyncio
import itertools
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import BACKEND_IDS, make_target
from .helpers import Target, cli

DOCS = 10_000
KINDS = [k for k in BACKEND_IDS if k in ("sqlite", "postgres", "nats")]
_MARKS = {"postgres": pytest.mark.postgres, "nats": pytest.mark.nats}


def _pair_params() -> list[Any]:
    params = []
    for src, dst in itertools.product(KINDS, KINDS):
        marks = [_MARKS[k] for k in {src, dst} if k in _MARKS]
        params.append(pytest.param((src, dst), id=f"{src}-to-{dst}", marks=marks))
    return params


def _doc(i: int) -> dict[str, Any]:
    return {
        "n": i,
        "name": f"user {i}",
        "tags": ["a", "b"][: i % 3],
        "nested": {"even": i % 2 == 0},
    }


async def _fill(target: Target, coll: str, count: int) -> None:
    async with await target.open() as store:
        items = store.collection(coll)
        for start in range(0, count, 1000):
            batch = range(start, min(start + 1000, count))
            await items.insert_many([{**_doc(i), "_key": f"key-{i:05d}"} for i in batch])


async def _snapshot(target: Target, coll: str) -> tuple[int, list[tuple[str, Any]]]:
    async with await target.open() as store:
        items = store.collection(coll)
        rows: list[tuple[str, Any]] = []
        after = None
        while True:
            page = await items.page(1000, after=after)
            rows.extend((r.key, r.data) for r in page.records)
            if not page.has_more:
                return await items.count(), rows
            after = page.next_cursor


class _Sources:
    """Each source kind filled once per module with the same DOCS documents."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._factory = tmp_path_factory
        self._open: dict[str, tuple[Iterator[Target], Target, Any]] = {}

    def get(self, kind: str) -> tuple[Target, Any]:
        """The filled source of ``kind`` and its snapshot."""
        if kind not in self._open:
            gen = make_target(kind, self._factory)
            target = next(gen)
            asyncio.run(_fill(target, "people", DOCS))
            self._open[kind] = (gen, target, asyncio.run(_snapshot(target, "people")))
        _, target, snapshot = self._open[kind]
        return target, snapshot

    def close(self) -> None:
        for gen, _, _ in self._open.values():
            next(gen, None)


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Sources]:
    cache = _Sources(tmp_path_factory)
    try:
        yield cache
    finally:
        cache.close()


@pytest.fixture
def pair(
    request: pytest.FixtureRequest,
    sources: _Sources,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Target, Any, Target]]:
    """(filled source, its snapshot, fresh empty destination)."""
    src_kind, dst_kind = request.param
    src, snapshot = sources.get(src_kind)
    dst_gen = make_target(dst_kind, tmp_path_factory)
    dst = next(dst_gen)
    try:
        yield src, snapshot, dst
    finally:
        next(dst_gen, None)


def _kill_halfway(src: Target, dst: Target) -> int:
    """Start a copy in a child process, SIGKILL it mid-way; return the progress seen."""
    args = [
        sys.executable, "-m", "adapters.cli", "copy", "people",
        *src.args("from"), *dst.args("to"),
        "--batch-size", "200", "--progress", "lines",
    ]  # fmt: skip
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    assert proc.stderr is not None
    seen = 0
    shown: list[str] = []
    try:
        for line in proc.stderr:
            shown.append(line)
            if line.startswith("progress "):
                seen = int(line.split()[1].split("/")[0])
                if seen >= DOCS // 2:
                    break
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stderr.close()
    assert seen >= DOCS // 2, "the copy ended early:\n" + "".join(shown)
    return seen


@pytest.mark.parametrize("pair", _pair_params(), indirect=True)
def test_interrupted_copy_resumes_to_an_equal_destination(
    pair: tuple[Target, Any, Target],
) -> None:
    src, source, dst = pair
    seen = _kill_halfway(src, dst)

    resumed = cli("copy", "people", *src.args("from"), *dst.args("to"), "--resume")
    assert resumed.code == 0, resumed.err
    (summary,) = resumed.lines()
    assert summary["source_records"] == DOCS
    assert summary["skipped"] >= seen
    assert summary["copied"] + summary["skipped"] + summary["updated"] == DOCS

    copied = asyncio.run(_snapshot(dst, "people"))
    assert copied[0] == DOCS
    assert copied == source


def test_copy_renames_replaces_changed_and_refuses_existing(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    src_gen = make_target("sqlite", tmp_path_factory)
    dst_gen = make_target("noex", tmp_path_factory)
    src, dst = next(src_gen), next(dst_gen)
    try:
        asyncio.run(_fill(src, "people", 300))
        first = cli("copy", "people", *src.args("from"), *dst.args("to"), "--as", "staff")
        assert first.code == 0, first.err
        assert first.lines()[0]["copied"] == 300
        assert "staff" in cli("collections", *dst.args()).out

        clash = cli("copy", "people", *src.args("from"), *dst.args("to"), "--as", "staff")
        assert clash.code == 4
        assert "already exists" in clash.err

        changed = cli("update", "people", "key-00007", '{"n": -7}', *src.args())
        assert changed.code == 0
        resumed = cli(
            "copy", "people", *src.args("from"), *dst.args("to"), "--as", "staff", "--resume"
        )
        assert resumed.lines()[0] | {"seconds": 0} == {
            "collection": "people",
            "to": "staff",
            "from_url": src.url,
            "to_url": dst.url,
            "source_records": 300,
            "copied": 0,
            "skipped": 299,
            "updated": 1,
            "seconds": 0,
        }
        assert asyncio.run(_snapshot(dst, "staff")) == asyncio.run(_snapshot(src, "people"))
    finally:
        for gen in (src_gen, dst_gen):
            next(gen, None)
