"""``adapters.connect``: pick a backend by URL scheme.

Scheme registry
---------------
:data:`BACKENDS` maps every URL scheme to the module path of its backend and the
extra that installs its driver. Modules are imported lazily, on first use, so
optional drivers are only needed for the backends actually used.

Each backend module exposes one coroutine::

    async def open_store(url: str, **options: Any) -> Store

which connects (raising :class:`~adapters.BackendUnavailable` when it cannot)
and returns an open :class:`~adapters.Store`. Adding a backend means writing
that module; the registry already names it. An ``ImportError`` raised while
importing the module (its driver is missing) becomes
:class:`~adapters.MissingExtra` naming the extra to install.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import Any, Final, cast

from ._errors import MissingExtra
from ._store import Store
from ._urls import redact_url, url_scheme

__all__ = ["BACKENDS", "DEFAULT_URL", "Backend", "connect", "open_store"]

DEFAULT_URL: Final = "sqlite:///noex-store.db"


@dataclass(frozen=True, slots=True)
class Backend:
    """Where a scheme's backend lives and which extra provides its driver."""

    module: str
    extra: str | None


BACKENDS: Final[dict[str, Backend]] = {
    "memory": Backend("adapters.backends.memory", None),
    "sqlite": Backend("adapters.backends.sqlite", None),
    "postgresql": Backend("adapters.backends.postgres", "postgres"),
    "postgres": Backend("adapters.backends.postgres", "postgres"),
    "nats": Backend("adapters.backends.nats", "nats"),
    "ws": Backend("adapters.backends.noex", None),
    "wss": Backend("adapters.backends.noex", None),
    "beaver+http": Backend("adapters.backends.beaver", "beaver"),
    "beaver+https": Backend("adapters.backends.beaver", "beaver"),
}


async def open_store(url: str | None = None, **options: Any) -> Store:
    """Open the store for ``url`` (see :func:`connect`)."""
    url = DEFAULT_URL if url is None else url
    if not isinstance(url, str):
        raise TypeError(f"url must be a string, got {type(url).__name__}")
    scheme = url_scheme(url)
    backend = BACKENDS.get(scheme)
    if backend is None:
        known = ", ".join(sorted(BACKENDS))
        raise ValueError(f"unknown backend scheme in {redact_url(url)!r}; known: {known}")
    try:
        module = importlib.import_module(backend.module)
    except ImportError as exc:
        # Our own backend module missing is a packaging bug, not a missing extra.
        if backend.extra is None or (exc.name or "").startswith("adapters"):
            raise
        raise MissingExtra(backend.extra, scheme) from exc
    opener = cast(Callable[..., Awaitable[Store]], module.open_store)
    return await opener(url, **options)


class _Connecting:
    """What :func:`connect` returns: await it, or use it as ``async with``."""

    def __init__(self, url: str | None, options: dict[str, Any]) -> None:
        self._url = url
        self._options = options
        self._store: Store | None = None

    def __await__(self) -> Generator[Any, None, Store]:
        return open_store(self._url, **self._options).__await__()

    async def __aenter__(self) -> Store:
        self._store = await open_store(self._url, **self._options)
        return self._store

    async def __aexit__(self, *exc_info: object) -> None:
        if self._store is not None:
            await self._store.close()


def connect(url: str | None = None, **options: Any) -> _Connecting:
    """Connect to the backend named by ``url``.

    Use ``async with adapters.connect(url) as store:`` (closes on exit) or
    ``store = await adapters.connect(url)``.

    Args:
        url: ``memory://``, ``sqlite:///path.db``, ``postgresql://...``, ``nats://...``,
            ``ws://...``, ``beaver+http://...``. ``None`` opens the embedded SQLite file
            ``noex-store.db`` in the working directory.
        **options: Backend-specific options (e.g. ``schema=`` for PostgreSQL).

    Raises:
        ValueError: unknown scheme.
        MissingExtra: the backend's driver is not installed.
        BackendUnavailable: the backend cannot be reached.
    """
    return _Connecting(url, options)
