"""URL helpers: scheme extraction and credential redaction."""

from __future__ import annotations

import re
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["redact_url", "url_scheme"]

_HOST_LIST = re.compile(r"\A[A-Za-z0-9_.\-:\[\]]+(,[A-Za-z0-9_.\-:\[\]]+)+\Z")
_SECRET_PARAMS = frozenset({"password", "pass", "pwd", "token", "secret", "key", "auth"})


def url_scheme(url: str) -> str:
    """Return the lower-cased scheme of ``url`` (``""`` when there is none)."""
    head, sep, _ = url.partition("://")
    if not sep:
        head, sep, _ = url.partition(":")
        if not sep:
            return ""
    return head.lower()


def redact_url(url: str) -> str:
    """Return ``url`` with user name, password and secret query parameters removed.

    The result is safe for logs, reprs and exception messages. Unparseable input
    is reduced to its scheme so nothing secret can slip through.

    Args:
        url: Any backend URL.

    Returns:
        The URL without credentials, e.g. ``postgresql://***@db:5432/app``.
    """
    try:
        parts = urlsplit(url)
        _, at, hosts = parts.netloc.rpartition("@")
        if "," in hosts and _HOST_LIST.match(hosts):
            # A seed list (``nats://h1:4222,h2:4222``): hosts kept, credentials dropped.
            netloc = f"***@{hosts}" if at else hosts
        else:
            host = parts.hostname or ""
            port = parts.port
            netloc = host if ":" not in host else f"[{host}]"
            if port is not None:
                netloc = f"{netloc}:{port}"
            if parts.username is not None or parts.password is not None:
                netloc = f"***@{netloc}"
    except ValueError:
        scheme = url_scheme(url)
        return f"{scheme}://***" if scheme else "***"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [(k, "***" if k.lower() in _SECRET_PARAMS else v) for k, v in pairs], safe="*/"
        )
    if "://" in url:
        # urlunsplit drops an empty authority ("memory://" would become "memory:").
        return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")
    return urlunsplit(SplitResult(parts.scheme, netloc, parts.path, query, ""))
