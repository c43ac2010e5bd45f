"""MkDocs hooks for the API reference: no private path in the rendered pages.

Cross-references to public names carry, as a tooltip, the path where the object is
defined, which is often a private module (``noex_client._errors.NotFoundError``).
The tooltip is dropped; the link and the public name stay.
"""

from __future__ import annotations

import re
from typing import Any

_PRIVATE_TITLE = re.compile(r'\s+title="[^"]*\b_[A-Za-z][^"]*"')


def on_post_page(output: str, **kwargs: Any) -> str:
    return _PRIVATE_TITLE.sub("", output)
