"""The documentation's code blocks: every page, every fenced block, and how each one runs.

A page is ``README.md`` or a Markdown file under ``docs/``. The HTML comment right
before a block says how the suite runs it (see docs/contributing.md):

* ``<!-- example: TARGET -->`` a client fragment (``tests/client/test_api_docs.py``);
  ``<!-- example: script -->`` a program run as a script (``tests/docs/test_blocks.py``);
* ``<!-- run: NAME -->`` a program run as a script in a fresh directory: by the generic
  runner, or by the test named in :data:`DEDICATED` when it needs a service or checks more;
* ``<!-- session -->`` a ``noex-store`` session (``tests/cli/test_docs.py``).

A block that cannot run starts with the visible line ``# not run: REASON``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DEDICATED",
    "ROOT",
    "RUNNABLE_LANGUAGES",
    "Block",
    "blocks",
    "named_script",
    "pages",
    "run_script",
]

ROOT = Path(__file__).resolve().parents[2]
RUNNABLE_LANGUAGES = frozenset({"python", "py", "console", "bash", "sh", "shell"})

#: ``run:`` names whose block is run by a test of its own, not by the generic runner.
DEDICATED = {
    "beaver-client": "tests/adapters/beaver/test_readme.py",  # a BeaverDB server
    "documents": "tests/adapters/test_documents.py",  # PostgreSQL
    "locks": "tests/adapters/locks/test_readme.py",
    "feeds": "tests/adapters/test_readme_feeds.py",
    "nats": "tests/docs/test_nats_example.py",  # NATS, on buckets of its own
}

_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
_MARKER = re.compile(r"<!-- ([^>]*?) -->\n$")
_PRINTS = re.compile(r"\n\nprints\n\n```\n(.*?)^```", re.S | re.M)


@dataclass(frozen=True)
class Block:
    """One fenced block of a page."""

    page: Path
    line: int  # the line of the block's first code line, 1-based
    language: str
    code: str
    marker: str | None  # the HTML comment right before the fence, if any
    prints: str | None  # the output shown after it ("prints" then a plain block)

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def run_name(self) -> str | None:
        """``NAME`` of a ``<!-- run: NAME -->`` block."""
        marker = self.marker or ""
        return marker.removeprefix("run: ") if marker.startswith("run: ") else None

    @property
    def not_run_reason(self) -> str | None:
        first = self.code.split("\n", 1)[0]
        return first.removeprefix("# not run:").strip() if first.startswith("# not run:") else None


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _page_blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    out = []
    for match in _FENCE.finditer(text):
        marker = _MARKER.search(text, 0, match.start())
        prints = _PRINTS.match(text, match.end())
        out.append(
            Block(
                page=page,
                line=text.count("\n", 0, match.start(2)) + 1,
                language=match.group(1),
                code=match.group(2),
                marker=marker.group(1).strip()
                if marker and marker.end() == match.start()
                else None,
                prints=prints.group(1) if prints else None,
            )
        )
    return out


def blocks() -> list[Block]:
    return [block for page in pages() for block in _page_blocks(page)]


def named_script(name: str) -> Block:
    """The one block marked ``<!-- run: NAME -->``."""
    found = [block for block in blocks() if block.marker == f"run: {name}"]
    assert len(found) == 1, f"{len(found)} blocks are marked 'run: {name}'"
    return found[0]


def run_script(
    block: Block, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a Python block as a script in ``cwd``; its output is captured."""
    script = cwd / "example.py"
    script.write_text(block.code, encoding="utf-8")
    try:
        return subprocess.run(
            [sys.executable, "-W", "default", str(script)],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        script.unlink()
