"""The package exports exactly its public surface, sorted."""

from __future__ import annotations

import noex_client

EXPECTED = {
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
    "ConnectTimeoutError",
    "ConnectionState",
    "Connector",
    "CredentialOptions",
    "DisconnectedError",
    "ForbiddenError",
    "IdentityAPI",
    "InternalServerError",
    "InvalidRequestError",
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
        _lifecycle,
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
        _lifecycle,
        _observe,
        _options,
        _protocol,
        _reconnect,
        _session,
        _subscriptions,
        _transport,
    ):
        assert isinstance(module.__all__, list), module.__name__


def test_api_modules_declare_all() -> None:
    from noex_client import _models, _watch
    from noex_client._api import (
        _base,
        audit,
        auth,
        bucket,
        identity,
        procedures,
        rules,
        server,
        store,
        typed_bucket,
    )

    modules = (_models, _watch, _base, audit, auth, bucket, identity, procedures, rules, server)
    for module in (*modules, store, typed_bucket):
        assert isinstance(module.__all__, list), module.__name__
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"
