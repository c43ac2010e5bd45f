"""The LocalServer as a separate process, for the client benchmarks.

The server runs in its own interpreter so the client's process CPU time counts
the client alone.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["BENCH_CONFIG", "local_server_process"]

#: Buckets with generated ids (``bench`` for inserts, cleared between runs so
#: that every run meets the same store; ``keys`` for gets; ``feed`` for pushes),
#: a count query to subscribe to, and pings far apart so that they never land in
#: a timed run (clients turn their liveness check off).
BENCH_CONFIG: dict[str, Any] = {
    "buckets": [
        {
            "name": name,
            "key": "id",
            "schema": {"id": {"type": "string", "generated": "uuid"}, "n": {"type": "number"}},
        }
        for name in ("bench", "keys", "feed")
    ],
    "queries": [{"name": "feed-count", "type": "count", "bucket": "feed"}],
    "heartbeat": {"intervalMs": 600_000},
}


@contextmanager
def local_server_process(config: dict[str, Any] | None = None) -> Iterator[str]:
    """Start ``python -m noex_client.testing serve``; yield its ``ws://`` URL.

    Raises:
        SystemExit: The server did not print its URL.
    """
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "noex_client.testing",
            "serve",
            "--config",
            json.dumps(BENCH_CONFIG if config is None else config),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        if not url.startswith("ws://"):
            sys.exit(f"server did not start (first line: {url!r})")
        yield url
    finally:
        server.terminate()  # graceful: closes what is still connected
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
