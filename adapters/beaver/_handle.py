"""The common shape of every remote structure handle (dict, list, queue, log).

A handle pairs a client (sync or async) with the structure's sans-I/O
operations object; the sync and async surfaces only differ in how they send.
"""

from __future__ import annotations

from typing import Generic, Protocol, TypeVar

__all__ = ["Handle"]


class _Named(Protocol):
    @property
    def name(self) -> str: ...


ClientT = TypeVar("ClientT")
OpsT = TypeVar("OpsT", bound=_Named)


class Handle(Generic[ClientT, OpsT]):
    """A named remote structure reached through ``client``; no I/O on creation."""

    __slots__ = ("_client", "_ops")

    def __init__(self, client: ClientT, ops: OpsT) -> None:
        self._client = client
        self._ops = ops

    @property
    def name(self) -> str:
        """The structure's name on the server."""
        return self._ops.name

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"
