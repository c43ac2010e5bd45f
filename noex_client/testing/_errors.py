"""Errors of the test server: request errors (wire codes) and config errors."""

from __future__ import annotations

from typing import Any

__all__ = ["ABSENT", "ConfigError", "RequestError", "validation"]

ABSENT: Any = object()
"""Marks an absent ``details`` value (``null`` is a real value)."""


class ConfigError(ValueError):
    """The server configuration is invalid; the message names the bad key."""


class RequestError(Exception):
    """A request failed; becomes an ``error`` frame.

    Args:
        code: The noex error code, e.g. ``"VALIDATION_ERROR"``.
        message: The exact message sent on the wire.
        details: Optional details; absent unless given.
    """

    def __init__(self, code: str, message: str, details: Any = ABSENT) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    @property
    def has_details(self) -> bool:
        """Whether the error carries ``details``."""
        return self.details is not ABSENT


def validation(message: str) -> RequestError:
    """A ``VALIDATION_ERROR`` without details."""
    return RequestError("VALIDATION_ERROR", message)
