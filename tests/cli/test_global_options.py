"""``--url``, ``--json`` and ``-o`` work before the command as well as after it."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import cli


@pytest.fixture
def url(tmp_path: Path) -> str:
    store = f"sqlite:///{tmp_path}/store.db"
    assert cli("put", "users", "alice", '{"name": "Alice"}', "--url", store).code == 0
    return store


@pytest.mark.parametrize(
    "args",
    [
        ["--url", "{url}", "count", "users"],
        ["count", "users", "--url", "{url}"],
        ["--json", "--url", "{url}", "count", "users"],
        ["-o", "timeout=5", "--url", "{url}", "count", "users"],
        ["--url", "{url}", "count", "users", "-o", "timeout=5"],
    ],
)
def test_global_options_before_or_after_the_command(url: str, args: list[str]) -> None:
    result = cli(*(arg.format(url=url) for arg in args))
    assert (result.code, result.out, result.err) == (0, "1\n", "")


def test_every_store_command_takes_them_first(url: str, tmp_path: Path) -> None:
    assert cli("--url", url, "get", "users", "alice").lines()[0]["data"] == {"name": "Alice"}
    assert cli("--url", url, "find", "users").lines()[0]["key"] == "alice"
    assert cli("--url", url, "collections").lines() == [{"collection": "users", "records": 1}]
    assert cli("--url", url, "update", "users", "alice", '{"age": 3}').code == 0
    assert cli("--url", url, "put", "users", "bob", "{}").code == 0
    assert cli("--url", url, "rm", "users", "bob").code == 0
    dump = tmp_path / "users.jsonl"
    assert cli("--url", url, "export", "users", str(dump)).code == 0
    assert cli("--url", url, "import", "staff", str(dump)).code == 0
    assert cli("--url", url, "count", "staff").out == "1\n"


def test_the_value_after_the_command_wins(url: str, tmp_path: Path) -> None:
    other = f"sqlite:///{tmp_path}/other.db"
    assert cli("--url", other, "count", "users", "--url", url).out == "1\n"
    assert cli("--url", url, "count", "users", "--url", other).out == "0\n"


def test_command_line_url_beats_the_environment(url: str, tmp_path: Path) -> None:
    env = {"NOEX_STORE_URL": f"sqlite:///{tmp_path}/env.db"}
    assert cli("--url", url, "count", "users", env=env).out == "1\n"
    assert cli("count", "users", env=env).out == "0\n"


@pytest.mark.parametrize("bogus_first", [True, False])
def test_options_from_both_places_reach_the_backend(url: str, bogus_first: bool) -> None:
    before, after = ("bogus=1", "timeout=5") if bogus_first else ("timeout=5", "bogus=1")
    result = cli("-o", before, "count", "users", "--url", url, "-o", after)
    assert result.code == 2
    assert "bogus" in result.err


def test_copy_refuses_a_global_store(url: str, tmp_path: Path) -> None:
    dest = f"sqlite:///{tmp_path}/dest.db"
    result = cli("--url", url, "copy", "users", "--from", url, "--to", dest)
    assert result.code == 2
    assert "--from/--to" in result.err
    env = {"NOEX_STORE_URL": url}  # the environment names no store for copy: fine
    assert cli("copy", "users", "--from", url, "--to", dest, env=env).code == 0
