"""``AuthAPI``: token login for servers with external (token) auth."""

from __future__ import annotations

from typing import Any

from ._base import Requester

__all__ = ["AuthAPI"]


class AuthAPI:
    """Token authentication; access it as ``client.auth``.

    With ``ClientOptions(auth=AuthOptions(token=...))`` the client logs in by
    itself after every (re)connect; these methods are for manual control.
    Every method raises :class:`~noex_client.DisconnectedError` when not
    connected and :class:`~noex_client.UnknownOperationError` when the server
    has no auth configured.
    """

    __slots__ = ("_client",)

    def __init__(self, client: Requester) -> None:
        self._client = client

    def __repr__(self) -> str:
        return "AuthAPI()"

    async def login(self, token: str) -> dict[str, Any]:
        """Log in with ``token``; returns ``{"userId", "roles", "expiresAt"}``.

        In built-in identity mode ``token`` may be an identity session token.

        Raises:
            UnauthorizedError: Invalid or expired token.
            SessionRevokedError: The session was revoked.
        """
        result: dict[str, Any] = await self._client.request("auth.login", token=token)
        return result

    async def whoami(self) -> dict[str, Any]:
        """``{"authenticated": False}`` or ``{"authenticated": True, "userId", "roles",
        "expiresAt"}``."""
        result: dict[str, Any] = await self._client.request("auth.whoami")
        return result

    async def logout(self) -> dict[str, Any]:
        """Log out (always succeeds); returns ``{"loggedOut": True}``."""
        result: dict[str, Any] = await self._client.request("auth.logout")
        return result
