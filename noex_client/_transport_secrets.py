"""URL credentials for the WebSocket libraries: sent once, as Basic auth, nowhere else.

websockets turns ``ws://user:password@host`` into an ``Authorization`` header
itself; picows does not, and would put the credentials into the ``Host``
header. :func:`split_credentials` gives picows the URL without them and the
header to send instead.
"""

from __future__ import annotations

import base64
from urllib.parse import unquote, urlsplit, urlunsplit

__all__ = ["split_credentials"]


def split_credentials(url: str) -> tuple[str, dict[str, str]]:
    """``url`` without ``user:password@``, and the ``Authorization`` header for them
    (no header when the URL has no credentials).

    Raises:
        ValueError: ``url`` cannot be parsed (an unbalanced IPv6 bracket).
    """
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, {}
    pair = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}".encode()
    host = parts.netloc.rpartition("@")[2]
    bare = urlunsplit(parts._replace(netloc=host))
    return bare, {"Authorization": "Basic " + base64.b64encode(pair).decode()}
