"""Asyncio client SDK for noex-server (JSON over WebSocket, protocol 1.0.0)."""

from importlib.metadata import PackageNotFoundError, version

from ._api.audit import AuditAPI
from ._api.auth import AuthAPI
from ._api.bucket import BucketAPI
from ._api.identity import IdentityAPI
from ._api.logic import LogicAPI
from ._api.procedures import ProceduresAPI
from ._api.rules import RulesAPI
from ._api.server import ServerAPI
from ._api.store import StoreAPI
from ._api.typed_bucket import TypedBucketAPI
from ._client import ConnectionState, NoexClient, WelcomeInfo
from ._errors import (
    AlreadyExistsError,
    BackpressureError,
    BucketNotDefinedError,
    ConflictError,
    ConnectError,
    ConnectRefusedError,
    ConnectTimeoutError,
    DisconnectedError,
    ForbiddenError,
    InternalServerError,
    InvalidRequestError,
    LogicNotAvailableError,
    NoexClientError,
    NotFoundError,
    ParseError,
    ProtocolError,
    QueryNotDefinedError,
    RateLimitedError,
    RequestTimeoutError,
    RulesNotAvailableError,
    SessionRevokedError,
    UnauthorizedError,
    UnknownOperationError,
    ValidationError,
)
from ._events import RequestInfo, Unsubscribe
from ._models import ModelDecodeError, Page, RecordMeta
from ._options import AuthOptions, ClientOptions, CredentialOptions, ReconnectOptions
from ._reconnect import ReconnectPolicy
from ._transport import (
    Connector,
    MemoryConnector,
    MemoryTransport,
    Transport,
    TransportClosed,
    WebSocketConnector,
)
from ._watch import OverflowPolicy, Watch, WatchOverflowError
from .logic import expr

try:
    __version__ = version("noex-client")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "AlreadyExistsError",
    "AuditAPI",
    "AuthAPI",
    "AuthOptions",
    "BackpressureError",
    "BucketAPI",
    "BucketNotDefinedError",
    "ClientOptions",
    "ConflictError",
    "ConnectError",
    "ConnectRefusedError",
    "ConnectTimeoutError",
    "ConnectionState",
    "Connector",
    "CredentialOptions",
    "DisconnectedError",
    "ForbiddenError",
    "IdentityAPI",
    "InternalServerError",
    "InvalidRequestError",
    "LogicAPI",
    "LogicNotAvailableError",
    "MemoryConnector",
    "MemoryTransport",
    "ModelDecodeError",
    "NoexClient",
    "NoexClientError",
    "NotFoundError",
    "OverflowPolicy",
    "Page",
    "ParseError",
    "ProceduresAPI",
    "ProtocolError",
    "QueryNotDefinedError",
    "RateLimitedError",
    "ReconnectOptions",
    "ReconnectPolicy",
    "RecordMeta",
    "RequestInfo",
    "RequestTimeoutError",
    "RulesAPI",
    "RulesNotAvailableError",
    "ServerAPI",
    "SessionRevokedError",
    "StoreAPI",
    "Transport",
    "TransportClosed",
    "TypedBucketAPI",
    "UnauthorizedError",
    "UnknownOperationError",
    "Unsubscribe",
    "ValidationError",
    "Watch",
    "WatchOverflowError",
    "WebSocketConnector",
    "WelcomeInfo",
    "__version__",
    "expr",
]
