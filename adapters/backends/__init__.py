"""Storage backends: how each one stores rows.

Each module (or package) exposes ``async def open_store(url, **options) -> Store``
and declares its store's ``collection_class`` and its frozen options type.
"""

__all__: list[str] = []
