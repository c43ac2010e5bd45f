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
        logic,
        procedures,
        rules,
        server,
        store,
        typed_bucket,
    )

    modules = (_models, _watch, _base, audit, auth, bucket, identity, logic, procedures, rules)
    for module in (*modules, server, store, typed_bucket):
        assert isinstance(module.__all__, list), module.__name__
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"


def test_logic_is_a_public_module_beside_the_client_attribute() -> None:
    import noex_client.logic
    from noex_client import expr
    from noex_client.logic import LogicAPI

    assert noex_client.logic.__all__ == ["LogicAPI", "expr"]
    assert noex_client.logic.expr is expr is noex_client.expr
    assert LogicAPI is noex_client.LogicAPI
    # The module and the client's attribute are different things with one name.
    client = noex_client.NoexClient("ws://127.0.0.1:1/")
    assert isinstance(client.logic, LogicAPI)
    assert expr.__all__ == sorted(expr.__all__)
