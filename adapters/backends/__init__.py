"""Storage backends; each module exposes ``async def open_store(url, **options) -> Store``."""

__all__: list[str] = []
