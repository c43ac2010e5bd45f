"""The README's CLI session is real: every command in it is run and its output compared.

The session lives in the ``cli`` section of README.md, in the ```console block
after ``<!-- session -->``. Lines starting with ``$ noex-store`` are run (in a
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

from .helpers import cli

README = Path(__file__).resolve().parents[2] / "README.md"
_VARYING = [
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"), "<time>"),
    (re.compile(r'"seconds":[0-9.]+'), '"seconds":<s>'),
]


def _session() -> list[tuple[str, list[str]]]:
    text = README.read_text(encoding="utf-8")
    section = text.split("<!-- section: cli -->", 1)[1].split("<!-- section:", 1)[0]
    block = section.split("<!-- session -->", 1)[1].split("```console\n", 1)[1]
    block = block.split("\n```", 1)[0]
    steps: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
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


def test_readme_session_is_what_the_cli_prints(
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
