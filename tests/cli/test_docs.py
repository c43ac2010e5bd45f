"""The documented CLI session is real: every command in it is run and its output compared.

The session is the ```console block after ``<!-- session -->`` in the command-line
guide (docs/guide/cli.md). Lines starting with ``$ noex-store`` are run (in a
fresh directory, so the default store is a new ``noex-store.db`` there);
``$ echo $?`` shows the previous exit code; other lines are the expected
stdout followed by stderr. Timestamps and durations vary between runs and are
compared as placeholders.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.docs.blocks import blocks

from .helpers import cli

_VARYING = [
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"), "<time>"),
    (re.compile(r'"seconds":[0-9.]+'), '"seconds":<s>'),
]


def _session() -> list[tuple[str, list[str]]]:
    (block,) = [block for block in blocks() if block.marker == "session"]
    assert block.page.name == "cli.md"
    steps: list[tuple[str, list[str]]] = []
    for line in block.code.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            steps[-1][1].append(line)
    return steps


def _normal(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        for pattern, placeholder in _VARYING:
            line = pattern.sub(placeholder, line)
        out.append(line.rstrip())
    return out


def test_documented_session_is_what_the_cli_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NOEX_STORE_URL", raising=False)
    steps = _session()
    assert len(steps) >= 10
    last_code = 0
    for command, expected in steps:
        if command == "echo $?":
            assert expected == [str(last_code)], command
            continue
        program, *args = shlex.split(command)
        assert program == "noex-store"
        result = cli(*args, env={"COLUMNS": "80"})
        last_code = result.code
        shown = (result.out + result.err).splitlines()
        assert _normal(shown) == _normal(expected), command
