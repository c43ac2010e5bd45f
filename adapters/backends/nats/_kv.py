"""The JetStream KV seam: bucket binding, entries, write acknowledgements and their errors.

Writes themselves go out through :class:`~._publisher.Publisher` (pipelined
compare-and-set puts); bucket feeds live in ``_feed``. :func:`translate` turns
every NATS failure into the adapters error tree (``adapters._translate``).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, Literal

import msgspec
import nats.errors
import nats.js.errors
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType

from ..._errors import AdapterError
from ..._translate import ErrorKind, error_for, nats_kind

__all__ = [
    "EXPECTED_LAST",
    "KV_OP",
    "MSG_ID",
    "NO_RESPONDERS",
    "Event",
    "KVUnavailable",
    "KVWriteError",
    "Marker",
    "PubAck",
    "WrongRevision",
    "ack_decoder",
    "api_transient",
    "ensure_bucket",
    "header_block",
    "outcome",
    "read_last",
    "translate",
]

logger = logging.getLogger("adapters")

_HISTORY = 64
_WRONG_LAST_SEQUENCE = 10071
_INSUFFICIENT_RESOURCES = 10023
_TEMPORARILY_UNAVAILABLE = 10008
MSG_ID = "Nats-Msg-Id"
EXPECTED_LAST = "Nats-Expected-Last-Subject-Sequence"
KV_OP = "KV-Operation"

Marker = Literal["DEL", "PURGE"] | None
"""The ``KV-Operation`` of a write: a delete or purge marker, ``None`` for a value."""


class KVUnavailable(Exception):
    """NATS did not acknowledge a write before the deadline."""


class WrongRevision(Exception):
    """A compare-and-set write found another revision of the key."""


class KVWriteError(Exception):
    """JetStream rejected a write for another reason.

    Attributes:
        code: the HTTP-like code of the API error.
        err_code: JetStream's own error code, when given.
    """

    def __init__(self, description: str, code: int | None, err_code: int | None) -> None:
        super().__init__(description)
        self.code = code
        self.err_code = err_code


class PubAck(msgspec.Struct, gc=False):
    """A JetStream publish acknowledgement (``seq``) or its error."""

    seq: int = 0
    error: dict[str, Any] | None = None


ack_decoder = msgspec.json.Decoder(PubAck)
NO_RESPONDERS = PubAck(error={"code": 503, "description": "no responders"})


async def ensure_bucket(
    js: JetStreamContext,
    name: str,
    *,
    history: int = _HISTORY,
    replicas: int = 1,
    raise_replicas: bool = False,
) -> None:
    """Bind ``name`` if it exists, else create it like brainlessdb (history 64, file).

    ``history`` overrides the revisions kept per key (the lock bucket keeps 1);
    ``replicas`` is the number of copies of a bucket created here. With
    ``raise_replicas``, an existing bucket with fewer replicas is raised to
    ``replicas`` (a stream update, logged at INFO); it is never lowered.

    Raises:
        KVWriteError: JetStream refused to create or update the bucket (e.g. more
            replicas than the cluster has servers); the message names both.
    """
    stream = f"KV_{name}"
    try:
        info = await js.stream_info(stream)
    except nats.js.errors.NotFoundError:
        try:
            await js.create_key_value(
                KeyValueConfig(
                    bucket=name, history=history, storage=StorageType.FILE, replicas=replicas
                )
            )
            return
        except nats.js.errors.APIError as exc:
            if api_transient(exc):
                raise  # an election: retried by the caller
            try:
                # Another process created it first (with its own config): bind it as-is.
                info = await js.stream_info(stream)
            except nats.js.errors.NotFoundError:
                raise _refused(
                    f"cannot create bucket {name} with {replicas} replicas", exc
                ) from exc
    have = info.config.num_replicas or 1
    if raise_replicas and have < replicas:
        try:
            await js.update_stream(dataclasses.replace(info.config, num_replicas=replicas))
        except nats.js.errors.APIError as exc:
            if api_transient(exc):
                raise
            raise _refused(f"cannot raise bucket {name} to {replicas} replicas", exc) from exc
        logger.info("nats: bucket %s raised from %d to %d replicas", name, have, replicas)


def api_transient(exc: nats.js.errors.APIError) -> bool:
    """Whether a JetStream API error is an election or a busy server (worth retrying).

    408/503 and "JetStream system temporarily unavailable" (10008) are; "insufficient
    resources" (10023, also a 503: not enough servers for the replicas) is not.
    """
    if exc.err_code == _INSUFFICIENT_RESOURCES:
        return False
    return exc.code in (408, 503) or exc.err_code == _TEMPORARILY_UNAVAILABLE


def _refused(what: str, exc: nats.js.errors.APIError) -> KVWriteError:
    return KVWriteError(f"{what}: {exc.description}", exc.code, exc.err_code)


async def read_last(js: JetStreamContext, bucket: str, key: str) -> Event | None:
    """The newest entry of ``key`` straight from the stream (``None`` if never written)."""
    try:
        msg = await js.get_last_msg(f"KV_{bucket}", f"$KV.{bucket}.{key}")
    except nats.js.errors.NotFoundError:
        return None
    headers = msg.headers or {}
    return Event(
        key=key,
        value=msg.data or b"",
        revision=msg.seq or 0,
        deleted=headers.get(KV_OP) in ("DEL", "PURGE"),
        msg_id=headers.get(MSG_ID, ""),
    )


class Event(msgspec.Struct, frozen=True, gc=False):
    """One KV entry seen by a feed (plain data: not tracked by the cyclic GC).

    ``expected`` is the key's previous revision when the write was a
    compare-and-set (its ``Nats-Expected-Last-Subject-Sequence``; 0: a
    creation), read only by feeds that ask for it.
    """

    key: str
    value: bytes
    revision: int
    deleted: bool
    msg_id: str
    expected: int | None = None


_HEADER_ID = b"NATS/1.0\r\n" + MSG_ID.encode() + b": %s\r\n"
_HEADER_EXPECTED = EXPECTED_LAST.encode() + b": %s\r\n"
_HEADER_OP = KV_OP.encode() + b": %s\r\n"


def header_block(msg_id: bytes, expected: int | str | None, op: str | None) -> bytes:
    """The NATS header block of a KV write (fixed, valid names; ids are tokens)."""
    block = _HEADER_ID % msg_id
    if expected is not None:
        block += _HEADER_EXPECTED % str(expected).encode()
    if op is not None:
        block += _HEADER_OP % op.encode()
    return block + b"\r\n"


def outcome(ack: PubAck) -> int | Exception | None:
    """The revision, the error to raise, or ``None`` to retry (JetStream unavailable)."""
    if ack.error is None:
        return ack.seq
    err_code = ack.error.get("err_code")
    if err_code == _WRONG_LAST_SEQUENCE:
        return WrongRevision(str(ack.error.get("description", "")))
    code = int(ack.error.get("code") or 0)
    if code != 503:
        description = str(ack.error.get("description", "rejected"))
        return KVWriteError(description, code, err_code if isinstance(err_code, int) else None)
    return None


def translate(url: str, exc: BaseException, collection: str, key: str | None) -> AdapterError:
    """The adapters error for a NATS failure (a KV write error, an API error, a lost connection)."""
    if isinstance(exc, KVWriteError):
        kind, code, reason = nats_kind(exc.err_code, exc.code), exc.err_code or exc.code, str(exc)
    elif isinstance(exc, WrongRevision):
        kind, code, reason = ErrorKind.CONTENTION, _WRONG_LAST_SEQUENCE, str(exc)
    elif isinstance(exc, nats.js.errors.APIError):
        code = exc.err_code or exc.code
        kind, reason = nats_kind(exc.err_code, exc.code), f"{type(exc).__name__}: {exc.description}"
    else:  # KVUnavailable, nats.errors.Error, OSError, TimeoutError: the connection
        kind, code = ErrorKind.UNAVAILABLE, None
        reason = str(exc) if isinstance(exc, KVUnavailable) else type(exc).__name__
    return error_for(
        kind, backend="nats", code=code, url=url, reason=reason, collection=collection, key=key
    )
