"""``watch`` as a child process: live changes, and resuming a killed watcher by cursor."""

from __future__ import annotations

import asyncio
import json
import queue
import select
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

import pytest

import adapters
from adapters.backends.sqlite import SqliteStore

from .helpers import Target, cli, seed

_SINCE_REFUSED = {"noex"}  # no change history on the server

_DEADLINE_S = 30.0


def _read_line(stream: IO[str], what: str) -> str:
    """The next line of ``stream`` (fails after a generous deadline)."""
    ready, _, _ = select.select([stream], [], [], _DEADLINE_S)
    if not ready:
        pytest.fail(f"no {what} within {_DEADLINE_S} s")
    return stream.readline()


class _Lines:
    """The stdout lines of a child, read by a thread (several may arrive in one chunk)."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        self._queue: queue.Queue[str] = queue.Queue()
        self._thread = threading.Thread(target=self._pump, args=(proc.stdout,), daemon=True)
        self._thread.start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line)

    def join(self) -> None:
        """Wait for the end of the stream (call once the child is gone)."""
        self._thread.join(_DEADLINE_S)

    def take(self, count: int) -> list[dict[str, Any]]:
        out = []
        for _ in range(count):
            try:
                out.append(json.loads(self._queue.get(timeout=_DEADLINE_S)))
            except queue.Empty:
                pytest.fail(f"no change within {_DEADLINE_S} s")
        return out


def _start(target: Target, *extra: str) -> tuple[subprocess.Popen[str], _Lines]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "adapters.cli", "watch", "feed", *extra, *target.args()],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    assert proc.stderr is not None
    assert "watching feed" in _read_line(proc.stderr, "ready message")
    return proc, _Lines(proc)


def _finish(proc: subprocess.Popen[str], lines: _Lines) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    lines.join()
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()


def _write(target: Target, seqs: range) -> None:
    seed(target, "feed", [(f"k{n}", {"seq": n}) for n in seqs])


def test_a_killed_watcher_resumes_from_its_last_cursor_exactly_once(target: Target) -> None:
    if target.kind in _SINCE_REFUSED:
        refused = cli("watch", "feed", "--since", "x", *target.args())
        assert refused.code == 2
        assert target.kind in refused.err
        return
    first, lines = _start(target)
    try:
        _write(target, range(1, 11))
        _write(target, range(11, 21))
        before = lines.take(13)
        first.send_signal(signal.SIGKILL)  # a crash: no clean-up at all
    finally:
        _finish(first, lines)
    _write(target, range(21, 31))  # while no watcher runs
    second, lines = _start(target, "--since", before[-1]["cursor"])
    try:
        after = lines.take(17)
        _write(target, range(31, 36))
        after += lines.take(5)
    finally:
        _finish(second, lines)
    seqs = [line["record"]["data"]["seq"] for line in before + after]
    assert seqs == list(range(1, 36))  # each change once, in order
    cursors = [line["cursor"] for line in before + after]
    assert cursors == sorted(set(cursors))


def test_watch_refuses_a_malformed_cursor(target: Target) -> None:
    result = cli("watch", "feed", "--since", "not-a-cursor", *target.args())
    assert result.code == 2
    assert "--since" in result.err


def test_watch_prints_one_json_line_per_change_and_stops_on_sigint(target: Target) -> None:
    assert cli("put", "orders", "o1", '{"status": "open"}', *target.args()).code == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "adapters.cli", "watch", "orders", *target.args()],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    try:
        assert "watching orders" in _read_line(proc.stderr, "ready message")
        seed(target, "orders", [("o2", {"status": "new"})])
        inserted = json.loads(_read_line(proc.stdout, "insert"))
        assert cli("update", "orders", "o1", '{"status": "done"}', *target.args()).code == 0
        updated = json.loads(_read_line(proc.stdout, "update"))
        assert cli("rm", "orders", "o2", *target.args()).code == 0
        deleted = json.loads(_read_line(proc.stdout, "delete"))
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=_DEADLINE_S)
        rest = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert (inserted["kind"], inserted["key"]) == ("inserted", "o2")
    assert inserted["cursor"] < updated["cursor"] < deleted["cursor"]
    assert inserted["record"]["data"] == {"status": "new"}
    assert (updated["kind"], updated["key"], updated["record"]["version"]) == ("updated", "o1", 2)
    assert (deleted["kind"], deleted["key"], deleted["record"]) == ("deleted", "o2", None)
    assert code == 0
    assert "Traceback" not in rest


def test_watch_since_a_pruned_cursor_exits_1(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/pruned.db"

    async def prepare() -> str:
        async with adapters.connect(url, feed_max_changes=10) as store:
            assert isinstance(store, SqliteStore)
            coll = store.collection("feed")
            async with coll.watch() as live:
                await coll.insert({}, key="k")
                first = await anext(live)
            for n in range(12):
                await coll.update("k", {"n": n})
            await coll.insert_many([{} for _ in range(1200)])  # enough to prune now
            pruner = store._feed.pruner.task
            assert pruner is not None
            await pruner
            return first.cursor

    cursor = asyncio.run(prepare())
    result = cli("watch", "feed", "--since", cursor, "--url", url)
    assert result.code == 1
    assert "older than the changes" in result.err
