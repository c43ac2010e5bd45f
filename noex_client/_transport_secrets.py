"""Secrets and the WebSocket libraries: URL credentials sent once, as Basic auth,
and never shown in the libraries' logs.

websockets turns ``ws://user:password@host`` into an ``Authorization`` header
itself; picows does not, and would put the credentials into the ``Host``
header. :func:`split_credentials` gives picows the URL without them and the
header to send instead.

At DEBUG (websockets) or below (picows), the libraries log the handshake
request, whose ``Authorization`` header carries the credentials in base64
(no mask at all), and websockets logs every frame, among them the token of an
``auth.login`` and the password of an ``identity.login``. Both libraries log
through a :class:`RedactingLogger`, which masks those.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import unquote, urlsplit, urlunsplit

from websockets.frames import Frame, Opcode

from ._observe import SECRET_FIELDS, mask_secrets

__all__ = ["RedactingLogger", "redact", "split_credentials"]

#: An Authorization header's value ends at a line break, or at the backslash or
#: quote of a line break in the repr of the request's bytes (picows logs those).
_AUTHORIZATION: Final = re.compile(r"(authorization:[ \t]*)[^\r\n\\']+", re.IGNORECASE)
_SECRET_NAME: Final = re.compile(b"|".join(re.escape(name.encode()) for name in SECRET_FIELDS))
_DATA: Final = (Opcode.TEXT, Opcode.BINARY, Opcode.CONT)
_SHOWN: Final = 75  # characters of a masked frame's JSON (websockets shows as many)


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


class RedactingLogger(logging.LoggerAdapter[logging.Logger]):
    """A logger for a WebSocket library: each message is formatted, then masked
    with :func:`redact` (only when its level is enabled)."""

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        if self.isEnabledFor(level):
            msg, options = self.process(msg, kwargs)
            self.logger.log(level, redact(msg, args), **options)


def redact(msg: object, args: tuple[object, ...]) -> str:
    """``msg % args`` as logging formats it, with Authorization header values
    and the secret fields of websockets' frames replaced by ``***``."""
    shown: object = tuple(_frame(arg) if isinstance(arg, Frame) else arg for arg in args)
    if len(args) == 1 and isinstance(args[0], Mapping) and args[0]:
        shown = args[0]  # "%(name)s" formatting, as in logging.LogRecord
    try:
        text = str(msg) % shown if args else str(msg)
    except (TypeError, ValueError, KeyError):
        text = f"{msg} (arguments not shown: they do not fit the message)"
    return _AUTHORIZATION.sub(r"\1***", text)


def _frame(frame: Frame) -> object:
    """A frame as websockets shows it, or masked when it may carry a secret."""
    if frame.opcode not in _DATA:
        return frame
    whole = frame.fin and frame.opcode is not Opcode.CONT
    # A fragment is never shown: a secret's name and value may lie in different ones.
    if whole and not _SECRET_NAME.search(frame.data):
        return frame
    hidden = f"{frame.opcode.name} [{len(frame.data)} bytes, not shown: it may carry a secret]"
    if not whole:
        return hidden
    try:
        document = json.loads(bytes(frame.data))
    except ValueError:
        return hidden
    masked = json.dumps(mask_secrets(document), ensure_ascii=False, separators=(",", ":"))
    if len(masked) > _SHOWN:
        masked = masked[: _SHOWN - 3] + "..."
    return f"{frame.opcode.name} {masked} [{len(frame.data)} bytes, secrets masked]"
