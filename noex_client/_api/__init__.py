"""Thin API groups over ``NoexClient.request`` (one small module per group)."""

from __future__ import annotations

__all__: list[str] = []
