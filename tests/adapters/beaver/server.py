"""Start the real BeaverDB REST server (``beaver serve``) for the tests.

The server runs from its own Python 3.12 virtualenv, made by
``scripts/ensure-services``; tests that need it are skipped, with the reason, when
that virtualenv is missing.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

__all__ = ["beaver_executable", "running_server"]

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
def running_server(workdir: Path, api_key: str | None = None) -> Iterator[str]:
    """Run ``beaver serve`` on a free port; yield its base URL; stop it afterwards.

    Raises:
        RuntimeError: The server did not answer before the startup deadline.
    """
    exe = beaver_executable()
    assert exe is not None, "beaver virtualenv missing"
    port = _free_port()
    cmd = [str(exe), "serve", "--db", str(workdir / f"beaver-{port}.db")]
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
