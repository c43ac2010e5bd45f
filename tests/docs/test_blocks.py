"""Every ``python`` and ``console`` block of README.md and docs/ runs in the suite, or says why not.

See :mod:`tests.docs.blocks` for how a block is marked. Here: the markers are complete
and consistent, and the programs (``example: script`` and ``run: NAME`` blocks without a
dedicated test) run as a user runs them and print what the page says.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import textwrap
from pathlib import Path

import pytest
from mypy import api as mypy_api

from .blocks import DEDICATED, ROOT, RUNNABLE_LANGUAGES, Block, blocks, named_script, run_script

_RUNNERS = ("example: ", "run: ", "session")


def runnable() -> list[Block]:
    return [block for block in blocks() if block.language in RUNNABLE_LANGUAGES]


def scripts() -> list[Block]:
    """Whole programs run here: ``example: script`` and generic ``run:`` Python blocks."""
    return [
        block
        for block in runnable()
        if block.language == "python"
        and (
            block.marker == "example: script"
            or (block.run_name is not None and block.run_name not in DEDICATED)
        )
    ]


def commands() -> list[Block]:
    return [b for b in runnable() if b.language != "python" and b.run_name is not None]


def test_every_block_is_run_or_says_why_not() -> None:
    unmarked = [
        block.where
        for block in runnable()
        if not (block.marker or "").startswith(_RUNNERS) and block.not_run_reason is None
    ]
    assert unmarked == []
    assert len(runnable()) >= 39


def test_every_block_that_is_not_run_gives_its_reason() -> None:
    skipped = [block for block in runnable() if block.not_run_reason is not None]
    assert skipped
    for block in skipped:
        assert len(block.not_run_reason or "") >= 10, block.where
        assert block.marker is None or not block.marker.startswith(_RUNNERS), block.where


def test_python_blocks_that_are_not_run_still_compile() -> None:
    flags = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    for block in runnable():
        if block.language == "python" and block.not_run_reason is not None:
            compile(block.code, block.where, "exec", flags=flags)


def test_each_run_name_marks_one_block_and_dedicated_tests_run_theirs() -> None:
    names = [block.run_name for block in runnable() if block.run_name is not None]
    assert len(names) == len(set(names))
    for name, test in DEDICATED.items():
        assert named_script(name).language == "python"
        assert f'named_script("{name}")' in (ROOT / test).read_text(encoding="utf-8"), test


def test_scripts_show_their_output() -> None:
    """A documented program says what it prints (``example: script`` ones must)."""
    for block in scripts():
        if block.marker == "example: script":
            assert block.prints is not None, block.where
    assert sum(block.prints is not None for block in scripts()) >= 6


@pytest.mark.parametrize("block", scripts(), ids=lambda block: block.where)
def test_documented_program_runs(block: Block, tmp_path: Path) -> None:
    done = run_script(block, tmp_path)
    assert (done.returncode, done.stderr) == (0, ""), block.where
    if block.prints is not None:
        assert done.stdout == block.prints, block.where


@pytest.mark.parametrize("block", commands(), ids=lambda block: block.where)
def test_documented_commands_run(block: Block) -> None:
    lines = [line for line in block.code.splitlines() if line.strip()]
    assert lines, block.where
    assert all(line.startswith("$ ") for line in lines), block.where
    for line in lines:
        done = subprocess.run(
            ["bash", "-c", line[2:]],
            cwd=ROOT,
            env={**os.environ, "NO_COLOR": "1"},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, (line, done.stderr[-2000:])


def fragments() -> list[Block]:
    """Client fragments (``example: local`` and the like), run by ``test_api_docs.py``."""
    return [
        block
        for block in runnable()
        if (block.marker or "").startswith("example: ") and block.marker != "example: script"
    ]


_FRAGMENT = "from noex_client import NoexClient\n\n\nasync def example(client: NoexClient, url: str) -> None:\n"


def test_documented_code_type_checks(tmp_path: Path) -> None:
    """The documented programs, and the client fragments as the body of the function
    they run in, pass ``mypy --strict`` as the project's own code does."""
    sources = [block.code for block in scripts() + [named_script(name) for name in DEDICATED]]
    sources += [_FRAGMENT + textwrap.indent(block.code, "    ") for block in fragments()]
    files = []
    for index, source in enumerate(sources):
        path = tmp_path / f"example_{index}.py"
        path.write_text(source, encoding="utf-8")
        files.append(str(path))
    assert len(files) >= 25
    out, err, status = mypy_api.run(
        [
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(ROOT / ".mypy_cache"),
            "--no-warn-unused-configs",
            *files,
        ]
    )
    assert status == 0, out + err


def test_readme_links_point_at_files_that_exist() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    links = [link for link in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text) if "://" not in link]
    assert len(links) >= 10
    for link in links:
        assert (ROOT / link).is_file(), link
