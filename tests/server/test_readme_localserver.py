"""The README's LocalServer section: its script runs as a user runs it and prints what it says."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_SCRIPT = re.compile(
    r"<!-- example: script -->\n```python\n(.*?)```\n\nprints\n\n```\n(.*?)```", re.S
)


def section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("<!-- section: localserver -->")
    return text[start : text.index("<!-- section:", start + 1)]


def scripts() -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in _SCRIPT.finditer(section())]


def test_every_python_block_is_a_checked_script() -> None:
    assert section().count("```python") == len(scripts()) >= 1


@pytest.mark.parametrize(("code", "expected"), scripts())
async def test_script_prints_what_the_readme_says(code: str, expected: str, tmp_path: Path) -> None:
    script = tmp_path / "example.py"
    script.write_text(code, encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        out, err = await process.communicate()
    assert err == b""
    assert process.returncode == 0
    assert out.decode() == expected
