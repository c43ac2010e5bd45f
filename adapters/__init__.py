"""One ``Collection`` interface over many storage backends."""

__all__: list[str] = []
