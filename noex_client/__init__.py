"""Asyncio client SDK for noex-server (JSON over WebSocket, protocol 1.0.0)."""

from importlib.metadata import PackageNotFoundError, version

from ._api.bucket import BucketAPI
from ._api.rules import RulesAPI
from ._api.store import StoreAPI
from ._client import ConnectionState, NoexClient, WelcomeInfo
from ._errors import (
    AlreadyExistsError,
    BackpressureError,
    BucketNotDefinedError,
    ConflictError,
    ConnectError,
    ConnectTimeoutError,
    DisconnectedError,
    ForbiddenError,
    InternalServerError,
    InvalidRequestError,
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

try:
    __version__ = version("noex-client")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "AlreadyExistsError",
    "AuthOptions",
    "BackpressureError",
    "BucketAPI",
    "BucketNotDefinedError",
    "ClientOptions",
    "ConflictError",
    "ConnectError",
    "ConnectTimeoutError",
    "ConnectionState",
    "Connector",
    "CredentialOptions",
    "DisconnectedError",
    "ForbiddenError",
    "InternalServerError",
    "InvalidRequestError",
    "MemoryConnector",
    "MemoryTransport",
    "NoexClient",
    "NoexClientError",
    "NotFoundError",
    "ParseError",
    "ProtocolError",
    "QueryNotDefinedError",
    "RateLimitedError",
    "ReconnectOptions",
    "ReconnectPolicy",
    "RequestInfo",
    "RequestTimeoutError",
    "RulesAPI",
    "RulesNotAvailableError",
    "SessionRevokedError",
    "StoreAPI",
    "Transport",
    "TransportClosed",
    "UnauthorizedError",
    "UnknownOperationError",
    "Unsubscribe",
    "ValidationError",
    "WebSocketConnector",
    "WelcomeInfo",
    "__version__",
]
