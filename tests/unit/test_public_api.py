"""The package exports exactly its public surface, sorted."""

from __future__ import annotations

import noex_client

EXPECTED = {
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
}


def test_all_is_sorted_and_complete() -> None:
    assert noex_client.__all__ == sorted(noex_client.__all__)
    assert set(noex_client.__all__) >= EXPECTED
    for name in noex_client.__all__:
        assert hasattr(noex_client, name), name


def test_private_modules_declare_all() -> None:
    from noex_client import (
        _client,
        _connection,
        _errors,
        _events,
        _observe,
        _options,
        _protocol,
        _reconnect,
        _session,
        _subscriptions,
        _transport,
    )

    for module in (
        _client,
        _connection,
        _errors,
        _events,
        _observe,
        _options,
        _protocol,
        _reconnect,
        _session,
        _subscriptions,
        _transport,
    ):
        assert isinstance(module.__all__, list), module.__name__
