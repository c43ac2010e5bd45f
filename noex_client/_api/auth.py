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

    async def whoami(self) -> dict[str, Any] | None:
        """The current session ``{"userId", "roles", "expiresAt"?}`` (``expiresAt``
        only when the session expires), or ``None`` when not authenticated.

        :meth:`whoami_raw` returns the server's answer as it is.
        """
        result = await self.whoami_raw()
        if not isinstance(result, dict) or not result.get("authenticated"):
            return None
        session = {"userId": result.get("userId"), "roles": result.get("roles", [])}
        if result.get("expiresAt") is not None:
            session["expiresAt"] = result["expiresAt"]
        return session

    async def whoami_raw(self) -> dict[str, Any]:
        """``{"authenticated": False}`` or ``{"authenticated": True, "userId", "roles",
        "expiresAt"}``, as the server sends it."""
        result: dict[str, Any] = await self._client.request("auth.whoami")
        return result

    async def logout(self) -> None:
        """Log out (always succeeds, also when not logged in)."""
        await self._client.request("auth.logout")
