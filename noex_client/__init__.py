"""Asyncio client SDK for noex-server (JSON over WebSocket, protocol 1.0.0)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("noex-client")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = ["__version__"]
