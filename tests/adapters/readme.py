"""The README's adapters examples, run as a user runs them: a script in a fresh directory.

An example is the ```python block right after a ``<!-- run: NAME -->`` marker.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

__all__ = ["README", "run_example"]

README = Path(__file__).resolve().parents[2] / "README.md"


def _example(name: str) -> str:
    text = README.read_text(encoding="utf-8")
    marker = f"<!-- run: {name} -->\n```python\n"
    assert marker in text, f"the {name!r} example is missing from README.md"
    return text.split(marker, 1)[1].split("\n```", 1)[0]


def run_example(name: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the README example ``name`` as a script in ``cwd``; its output is captured."""
    return subprocess.run(
        [sys.executable, "-c", _example(name)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
