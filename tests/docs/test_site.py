"""The documentation site builds strictly, and its API reference is exactly the public API.

``mkdocs build --strict`` fails on a broken link or anchor, a missing page or
reference, and a docstring the handler cannot parse. The API reference renders
every name of each public module's ``__all__``, nothing else at module level, and no
private name (no ``_``-prefixed object, and no path into a private module).
"""

from __future__ import annotations

import html
import importlib
import os
import pkgutil
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

from .blocks import ROOT

API = ROOT / "docs" / "api"
_DIRECTIVE = re.compile(r"^::: ([\w.]+)$", re.M)
_ID = re.compile(r'\bid="((?:noex_client|adapters)\b[\w.]*)"')
_PRIVATE_PATH = re.compile(r"\b(?:noex_client|adapters)(?:\.\w+)*\._(?!_)\w")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", "mkdocs.yml", "-d", str(out)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-5000:]
    assert "WARNING" not in done.stderr, done.stderr[-5000:]
    return out


def documented_modules() -> list[str]:
    """The modules the API reference renders, in page order."""
    return [m for page in sorted(API.glob("*.md")) for m in _DIRECTIVE.findall(page.read_text())]


def public_modules() -> set[str]:
    """Every importable module of the two packages with no ``_``-prefixed part."""
    found = set()
    for package in ("noex_client", "adapters"):
        module = importlib.import_module(package)
        found.add(package)
        for info in pkgutil.walk_packages(module.__path__, f"{package}."):
            if not any(part.startswith("_") for part in info.name.split(".")):
                found.add(info.name)
    return found


def api_pages(site: Path) -> dict[str, str]:
    pages = (site / "api").glob("*/index.html")
    return {path.parent.name: path.read_text("utf-8") for path in pages}


def test_every_public_module_is_in_the_reference() -> None:
    rendered = set(documented_modules())
    assert len(rendered) == len(documented_modules())
    # adapters.backends only groups the backends; its page renders each of them.
    assert public_modules() - {"adapters.backends"} == rendered


def test_every_public_name_is_documented_and_nothing_else(site: Path) -> None:
    ids = {i for page in api_pages(site).values() for i in _ID.findall(page)}
    missing, extra = {}, {}
    for name in documented_modules():
        module = importlib.import_module(name)
        exported = set(module.__all__)
        assert exported, name
        for export in list(exported):
            value = getattr(module, export)
            # A re-exported module has its own section; dunders are named in the page's prose.
            reexported = (
                isinstance(value, types.ModuleType) and value.__name__ in documented_modules()
            )
            if reexported or export.startswith("__"):
                exported.discard(export)
        documented = {
            i.removeprefix(f"{name}.").split(".")[0] for i in ids if i.startswith(f"{name}.")
        }
        submodules = {
            m.removeprefix(f"{name}.").split(".")[0]
            for m in documented_modules()
            if m.startswith(f"{name}.")
        }
        missing[name] = exported - documented
        extra[name] = documented - exported - submodules
    assert {name: names for name, names in missing.items() if names} == {}
    assert {name: names for name, names in extra.items() if names} == {}


def test_no_private_name_is_rendered(site: Path) -> None:
    for page, text in api_pages(site).items():
        ids = _ID.findall(text)
        assert [i for i in ids if any(p.startswith("_") for p in i.split("."))] == [], page
        assert _PRIVATE_PATH.findall(text) == [], page
        article = text[text.index("<article") : text.index("</article>")]
        visible = html.unescape(re.sub(r"<[^>]+>", "", article))
        assert "self._" not in visible, page
        assert re.findall(r":(?:class|func|meth|mod|attr|exc|data):`", visible) == [], page


def test_the_changelog_page_is_the_changelog(site: Path) -> None:
    page = (site / "changelog" / "index.html").read_text("utf-8")
    first = (ROOT / "CHANGELOG.md").read_text("utf-8").splitlines()[2]
    assert html.escape(first, quote=False) in page
    assert (ROOT / "docs" / "changelog.md").read_text("utf-8").strip() == '--8<-- "CHANGELOG.md"'
