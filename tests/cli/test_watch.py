"""``watch`` as a child process against the backends that see other processes' writes."""

from __future__ import annotations

import json
import select
import signal
import subprocess
import sys
from typing import IO

import pytest

from .helpers import Target, cli, seed

_DEADLINE_S = 30.0


def _read_line(stream: IO[str], what: str) -> str:
    """The next line of ``stream`` (fails after a generous deadline)."""
    ready, _, _ = select.select([stream], [], [], _DEADLINE_S)
    if not ready:
        pytest.fail(f"no {what} within {_DEADLINE_S} s")
    return stream.readline()


def test_watch_prints_one_json_line_per_change_and_stops_on_sigint(target: Target) -> None:
    if target.kind == "sqlite":
        pytest.skip("SQLite changes are only seen inside the writing process")
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
    assert inserted["record"]["data"] == {"status": "new"}
    assert (updated["kind"], updated["key"], updated["record"]["version"]) == ("updated", "o1", 2)
    assert (deleted["kind"], deleted["key"], deleted["record"]) == ("deleted", "o2", None)
    assert code == 0
    assert "Traceback" not in rest
