"""Backend-independent behaviour: the default store, env var, unreachable backends, secrets."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from .helpers import cli


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_default_store_is_the_sqlite_file_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NOEX_STORE_URL", raising=False)
    assert cli("put", "notes", "n1", '{"text": "hi"}').code == 0
    assert (tmp_path / "noex-store.db").exists()
    assert cli("get", "notes", "n1").lines()[0]["data"] == {"text": "hi"}


def test_env_var_selects_the_store(tmp_path: Path) -> None:
    env = {"NOEX_STORE_URL": f"sqlite:///{tmp_path}/env.db"}
    assert cli("put", "notes", "n1", "{}", env=env).code == 0
    assert (tmp_path / "env.db").exists()
    assert cli("count", "notes", env=env).out == "1\n"


def test_unreachable_backend_exits_3_without_credentials() -> None:
    url = f"ws://admin:hunter2@127.0.0.1:{_free_port()}/?token=s3cret"
    result = cli("count", "users", "--url", url)
    assert result.code == 3
    assert "127.0.0.1" in result.err
    assert "hunter2" not in result.err + result.out
    assert "s3cret" not in result.err + result.out
    assert "admin" not in result.err


def test_unknown_scheme_is_a_usage_error() -> None:
    result = cli("count", "users", "--url", "gopher://u:pw@host/x")
    assert result.code == 2
    assert "--url" in result.err
    assert "pw" not in result.err.replace("gopher", "")


def test_copy_onto_itself_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    result = cli("copy", "users", "--from", url, "--to", url)
    assert result.code == 2
    assert "--as" in result.err


def test_every_command_has_help_with_an_example() -> None:
    commands = ["collections", "get", "put", "update", "rm", "find", "count", "watch"]
    for command in [*commands, "export", "import", "copy"]:
        result = cli(command, "--help")
        assert result.code == 0, command
        assert "Example: noex-store " + command in " ".join(result.out.split()), command


def test_no_traceback_for_a_broken_document(tmp_path: Path) -> None:
    result = cli("put", "x", "k", "{", "--url", f"sqlite:///{tmp_path}/s.db")
    assert result.code == 2
    assert "Traceback" not in result.err
    assert os.path.exists(tmp_path / "s.db") is False
