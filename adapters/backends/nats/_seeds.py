"""The servers of a ``nats://`` URL: a seed list with credentials given once (pure).

``nats://user:pass@h1:4222,h2:4222,h3:4222`` names three servers of one cluster;
the credentials apply to all of them and to every server the cluster advertises
later, so they are passed to the client as options rather than inside each
server URL. A user name without a password is a token, as in nats-py.
:class:`Seeds` never shows the credentials in its ``repr``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

__all__ = ["Seeds", "parse_seeds"]

_HOST = re.compile(r"\A(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.\-]+)(:\d{1,5})?\Z")


@dataclass(frozen=True)
class Seeds:
    """Server URLs without credentials, and the credentials for every server.

    Attributes:
        servers: ``scheme://host:port`` of each listed server, in URL order.
        user, password: given as ``user:pass@`` (both set, or both ``None``).
        token: given as ``token@``.
    """

    servers: tuple[str, ...]
    user: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)


def parse_seeds(scheme: str, netloc: str) -> Seeds:
    """Split a URL's authority ``[user[:pass]@]host[:port][,host[:port]...]``.

    Raises:
        ValueError: an empty or malformed server in the list (named, without credentials).
    """
    userinfo, at, hosts = netloc.rpartition("@")
    user = password = token = None
    if at:
        name, colon, secret = userinfo.partition(":")
        if colon:
            user, password = unquote(name), unquote(secret)
        elif name:
            token = unquote(name)
    servers: list[str] = []
    for host in hosts.split(","):
        host = host.strip()
        match = _HOST.match(host)
        if match is None or (match.group(2) and int(match.group(2)[1:]) > 65535):
            raise ValueError(f"nats URL: bad server address {host!r} in the seed list")
        servers.append(f"{scheme}://{host}")
    return Seeds(tuple(servers), user, password, token)
