"""``python -m noex_client.testing serve --config JSON``: the server as a process."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys

from ._app import LocalServer
from ._config import ServerConfig
from ._errors import ConfigError

__all__ = ["main"]


async def _serve(config: ServerConfig) -> None:
    server = LocalServer(config=config)
    await server.start()
    sys.stdout.write(server.url + "\n")
    sys.stdout.flush()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGUSR1, server.revoke_sessions)
    await stop.wait()
    await server.shutdown()


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m noex_client.testing")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run a noex test server until SIGTERM/SIGINT")
    serve.add_argument("--config", default="{}", help="server config as JSON (transcript shape)")
    serve.add_argument("--port", type=int, default=None, help="TCP port (default: config or 0)")
    serve.add_argument("--host", default=None, help="bind address (default 127.0.0.1)")
    args = parser.parse_args(argv)
    try:
        config = ServerConfig.from_config(json.loads(args.config))
    except (json.JSONDecodeError, ConfigError) as exc:
        parser.error(f"--config: {exc}")
    if args.port is not None:
        config.port = args.port
    if args.host is not None:
        config.host = args.host
    asyncio.run(_serve(config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
