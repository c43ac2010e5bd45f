"""Start the real BeaverDB REST server (``beaver serve``) for the tests.

The server runs from its own Python 3.12 virtualenv, made by
``scripts/ensure-services``; tests that need it are skipped, with the reason, when
that virtualenv is missing.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

import adapters
from adapters import Store

__all__ = [
    "beaver_backend",
    "beaver_executable",
    "run_local_beaver",
    "running_server",
    "shared_server_url",
]

_STARTUP_DEADLINE = 60.0


def beaver_executable() -> Path | None:
    """The ``beaver`` command of the server virtualenv, or ``None`` when missing."""
    cache = os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache"))
    default = Path(cache) / "noex-client" / "beaver-venv-2.4.1"
    venv = Path(os.environ.get("NOEX_BEAVER_VENV", default))
    exe = venv / "bin" / "beaver"
    return exe if exe.is_file() else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running_server(
    workdir: Path, api_key: str | None = None, port: int | None = None
) -> Iterator[str]:
    """Run ``beaver serve`` on ``port`` (default: a free one); yield its base URL; stop it.

    The database file is ``workdir/beaver.db``, so a second server started on the
    same ``workdir`` serves the same data.

    Raises:
        RuntimeError: The server did not answer before the startup deadline.
    """
    exe = beaver_executable()
    assert exe is not None, "beaver virtualenv missing"
    port = _free_port() if port is None else port
    cmd = [str(exe), "serve", "--db", str(workdir / "beaver.db")]
    cmd += ["--host", "127.0.0.1", "--port", str(port)]
    if api_key is not None:
        cmd += ["--api-key", api_key]
    url = f"http://127.0.0.1:{port}"
    # The server logs a traceback for every error reply: keep that out of the test output.
    with (workdir / f"beaver-{port}.log").open("wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until_up(proc, url)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_until_up(proc: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + _STARTUP_DEADLINE
    with httpx.Client(timeout=1.0) as http:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"beaver serve exited with {proc.returncode}")
            try:
                http.get(f"{url}/dicts/__probe__/count")
                return
            except httpx.TransportError:
                time.sleep(0.05)  # polling interval of a deadline-bounded startup poll
    raise RuntimeError(f"beaver serve did not answer on {url} within {_STARTUP_DEADLINE} s")


_shared: dict[str, str] = {}
_shared_stack = contextlib.ExitStack()


def shared_server_url() -> str:
    """One ``beaver serve`` for the whole test process, started on first use.

    It is stopped when the process exits (the ``running_server`` context is closed
    by an ``atexit`` hook). Skips the calling test when the virtualenv is missing.
    """
    if beaver_executable() is None:
        pytest.skip("BeaverDB virtualenv missing: run scripts/ensure-services to create it")
    if "url" not in _shared:
        workdir = Path(tempfile.mkdtemp(prefix="beaver-contract-"))
        _shared["url"] = _shared_stack.enter_context(running_server(workdir))
        atexit.register(_shared_stack.close)
    return _shared["url"]


@contextlib.asynccontextmanager
async def beaver_backend() -> AsyncIterator[Callable[..., AbstractAsyncContextManager[Store]]]:
    """Contract-suite factory: a fresh namespace on the shared server."""
    base = shared_server_url().removeprefix("http://")
    url = f"beaver+http://{base}?namespace=contract-{uuid.uuid4().hex[:12]}&poll_interval=0.02"

    def opener(**options: Any) -> AbstractAsyncContextManager[Store]:
        return adapters.connect(url, **options)

    yield opener


def run_local_beaver(script: str, *, env: dict[str, str] | None = None) -> Any:
    """Run ``script`` with the BeaverDB virtualenv's Python; return its stdout as JSON.

    This is how the tests learn what local ``beaver.BeaverDB`` does, to compare.
    Skips the calling test when the virtualenv is missing.
    """
    exe = beaver_executable()
    if exe is None:
        pytest.skip("BeaverDB virtualenv missing: run scripts/ensure-services to create it")
    done = subprocess.run(
        [str(exe.parent / "python"), "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", done.stderr
    return json.loads(done.stdout)
