"""The README's Reliability section only cites tests and files that exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("<!-- section: reliability -->")
    return text[start : text.index("<!-- section:", start + 1)]


def test_every_cited_test_exists() -> None:
    defined = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        defined |= set(re.findall(r"def (test_\w+)\(", path.read_text(encoding="utf-8")))
    cited = set(re.findall(r"`(test_\w+)`", section()))
    assert len(cited) > 30
    assert cited - defined == set()


def test_every_linked_file_exists() -> None:
    links = re.findall(r"\]\(([^)]+)\)", section())
    assert links
    for link in links:
        assert (ROOT / link).is_file(), link
