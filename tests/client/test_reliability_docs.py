"""The Reliability page only cites tests and files that exist."""

from __future__ import annotations

import re

from tests.docs.blocks import ROOT

PAGE = ROOT / "docs" / "reliability.md"


def test_every_cited_test_exists() -> None:
    defined = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        defined |= set(re.findall(r"def (test_\w+)\(", path.read_text(encoding="utf-8")))
    cited = set(re.findall(r"`(test_\w+)`", PAGE.read_text(encoding="utf-8")))
    assert len(cited) > 40
    assert cited - defined == set()


def test_every_cited_file_exists_and_holds_the_tests_cited_with_it() -> None:
    text = PAGE.read_text(encoding="utf-8")
    paths = re.findall(r"`((?:tests|noex_client|adapters)/[\w/]+\.py)`", text)
    assert len(paths) > 20
    for path in paths:
        assert (ROOT / path).is_file(), path
    # In the storage table, each row's tests are defined in the files the row names.
    for row in re.findall(r"^\|.*\|$", text, re.M):
        files = re.findall(r"`(tests/[\w/]+\.py)`", row)
        if not files:
            continue
        sources = "".join((ROOT / f).read_text(encoding="utf-8") for f in files)
        for test in re.findall(r"`(test_\w+)`", row):
            assert f"def {test}(" in sources, (test, files)
