"""The CLI on a real terminal (a pseudo-terminal): tables, and ``watch`` stopped by Ctrl-C."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .helpers import Target, noex_target, seed

# Makes the child a session leader whose controlling terminal is the pty on
# stdin, so Ctrl-C typed into the pty becomes SIGINT for it, as in a shell.
_TRAMPOLINE = (
    "import fcntl, os, sys, termios; os.setsid(); fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "os.execv(sys.executable, [sys.executable, '-m', 'adapters.cli', *sys.argv[1:]])"
)
_DEADLINE_S = 30.0
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class Terminal:
    """A child process running ``noex-store`` on a pseudo-terminal."""

    def __init__(self, *args: str) -> None:
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _TRAMPOLINE, *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**os.environ, "COLUMNS": "120", "TERM": "xterm"},
        )
        os.close(slave)
        self.output = ""

    def read_until(self, text: str) -> str:
        """Read the terminal until ``text`` appears (fails after a generous deadline)."""
        deadline = time.monotonic() + _DEADLINE_S
        while text not in self.output:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"{text!r} never appeared; terminal shows:\n{self.output}")
            ready, _, _ = select.select([self.master], [], [], remaining)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # the child closed the terminal
                    chunk = b""
                if not chunk:
                    pytest.fail(f"{text!r} never appeared; terminal shows:\n{self.output}")
                self.output += chunk.decode(errors="replace")
        return self.output

    def finish(self) -> int:
        """Wait for the child to exit, collecting the rest of its output."""
        code = self.proc.wait(timeout=_DEADLINE_S)
        while select.select([self.master], [], [], 0)[0]:
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                break
            if not chunk:
                break
            self.output += chunk.decode(errors="replace")
        return code

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


@pytest.fixture
def server() -> Iterator[Target]:
    yield from noex_target()


def test_find_prints_a_table_on_a_terminal(server: Target) -> None:
    seed(server, "people", [("alice", {"name": "Alice"}), ("bob", {"name": "Bob"})])
    term = Terminal("find", "people", "--url", server.url)
    try:
        assert term.finish() == 0
    finally:
        term.close()
    screen = _ANSI.sub("", term.output)
    assert "┃ key   ┃ version ┃" in screen
    assert "│ alice │ 1       │" in screen
    assert '{"name":"Bob"}' in screen


def test_watch_streams_json_lines_and_exits_cleanly_on_ctrl_c(server: Target) -> None:
    term = Terminal("watch", "orders", '{"status": "open"}', "--url", server.url)
    try:
        term.read_until("Ctrl-C to stop")
        seed(server, "orders", [("o1", {"status": "closed"}), ("o2", {"status": "open"})])
        screen = term.read_until('"key":"o2"')
        os.write(term.master, b"\x03")
        code = term.finish()
    finally:
        term.close()
    assert code == 0
    assert "Traceback" not in term.output
    lines = [json.loads(row) for row in screen.splitlines() if row.startswith("{")]
    assert [(c["kind"], c["key"]) for c in lines] == [("inserted", "o2")]
    assert lines[0]["record"]["data"] == {"status": "open"}


@pytest.mark.parametrize("before", [False, True], ids=["after-command", "before-command"])
def test_json_flag_forces_json_lines_on_a_terminal(server: Target, before: bool) -> None:
    seed(server, "people", [("alice", {"name": "Alice"})])
    flags = ["--json", "--url", server.url]
    args = [*flags, "find", "people"] if before else ["find", "people", *flags]
    term = Terminal(*args)
    try:
        assert term.finish() == 0
    finally:
        term.close()
    (line,) = [row for row in term.output.splitlines() if row.strip()]
    assert json.loads(line)["data"] == {"name": "Alice"}


def test_copy_shows_a_progress_bar_and_a_summary_on_a_terminal(
    server: Target, tmp_path: Path
) -> None:
    seed(server, "people", [(f"k{i}", {"i": i}) for i in range(50)])
    dest = f"sqlite:///{tmp_path}/copy.db"
    term = Terminal("copy", "people", "--from", server.url, "--to", dest, "--batch-size", "10")
    try:
        assert term.finish() == 0
    finally:
        term.close()
    screen = _ANSI.sub("", term.output)
    assert "50/50" in screen
    assert "rec/s" in screen
    assert "ETA" in screen
    assert "copied 50 of 50 records people -> people" in screen
