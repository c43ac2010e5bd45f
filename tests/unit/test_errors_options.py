"""Error tree, option defaults (as published) and secret-free reprs."""

from __future__ import annotations

import pickle
import ssl

import pytest

import noex_client
from noex_client import (
    AuthOptions,
    ClientOptions,
    ConnectError,
    ConnectTimeoutError,
    CredentialOptions,
    DisconnectedError,
    NoexClient,
    NoexClientError,
    RateLimitedError,
    ReconnectOptions,
    RequestTimeoutError,
)
from noex_client._errors import error_from_server

SERVER_CODES = {
    "PARSE_ERROR": "ParseError",
    "INVALID_REQUEST": "InvalidRequestError",
    "UNKNOWN_OPERATION": "UnknownOperationError",
    "VALIDATION_ERROR": "ValidationError",
    "NOT_FOUND": "NotFoundError",
    "ALREADY_EXISTS": "AlreadyExistsError",
    "CONFLICT": "ConflictError",
    "UNAUTHORIZED": "UnauthorizedError",
    "FORBIDDEN": "ForbiddenError",
    "RATE_LIMITED": "RateLimitedError",
    "BACKPRESSURE": "BackpressureError",
    "INTERNAL_ERROR": "InternalServerError",
    "BUCKET_NOT_DEFINED": "BucketNotDefinedError",
    "QUERY_NOT_DEFINED": "QueryNotDefinedError",
    "RULES_NOT_AVAILABLE": "RulesNotAvailableError",
    "LOGIC_NOT_AVAILABLE": "LogicNotAvailableError",
    "SESSION_REVOKED": "SessionRevokedError",
}


@pytest.mark.parametrize(("code", "name"), sorted(SERVER_CODES.items()))
def test_every_server_code_has_its_class(code: str, name: str) -> None:
    error = error_from_server(code, "msg", {"x": 1})
    assert type(error) is getattr(noex_client, name)
    assert isinstance(error, NoexClientError)
    assert (error.code, error.message, error.details) == (code, "msg", {"x": 1})


def test_unknown_code_falls_back_to_the_base_class() -> None:
    error = error_from_server("TEAPOT", "short and stout")
    assert type(error) is NoexClientError
    assert error.code == "TEAPOT"
    assert str(error) == "short and stout"


def test_constructors_and_str_match_the_published_client() -> None:
    error = NoexClientError("X_CODE", "some message", {"a": 1})
    assert (error.code, str(error), error.details) == ("X_CODE", "some message", {"a": 1})
    assert error.args == ("some message",)
    assert NoexClientError("X_CODE", "m").details is None
    late = RequestTimeoutError("timed out")
    assert (late.code, str(late), late.details) == ("TIMEOUT", "timed out", None)
    gone = DisconnectedError()
    assert (gone.code, str(gone), gone.message) == (
        "DISCONNECTED",
        "Not connected",
        "Not connected",
    )
    assert DisconnectedError("other").code == "DISCONNECTED"
    assert str(DisconnectedError(message="x")) == "x"


def test_timeout_is_also_a_builtin_timeout_error() -> None:
    error = RequestTimeoutError(message="late")
    assert isinstance(error, TimeoutError)
    assert error.code == "TIMEOUT"
    assert DisconnectedError().code == "DISCONNECTED"


def test_connect_failures_are_also_builtin_connection_errors() -> None:
    refused = ConnectError("refused", {"closeCode": 1006, "reason": ""})
    assert isinstance(refused, ConnectionError)
    assert isinstance(refused, DisconnectedError)
    assert (refused.code, refused.details) == ("CONNECT_FAILED", {"closeCode": 1006, "reason": ""})
    slow = ConnectTimeoutError("no welcome")
    assert isinstance(slow, ConnectionError)
    assert isinstance(slow, TimeoutError)
    assert slow.code == "CONNECT_TIMEOUT"


def test_rate_limited_exposes_retry_after() -> None:
    error = error_from_server("RATE_LIMITED", "slow down", {"retryAfterMs": 250})
    assert isinstance(error, RateLimitedError)
    assert error.retry_after_ms == 250
    assert RateLimitedError(message="no details").retry_after_ms is None


@pytest.mark.parametrize(
    "error",
    [
        error_from_server("NOT_FOUND", "gone", {"k": 1}),
        NoexClientError("X", "m", [1]),
        RequestTimeoutError("late"),
        DisconnectedError(),
        ConnectError("refused", {"closeCode": 4003}),
        error_from_server("TIMEOUT", "as sent by a server"),
    ],
)
def test_errors_pickle_round_trip(error: NoexClientError) -> None:
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error)
    assert (again.code, str(again), again.details) == (error.code, str(error), error.details)


def test_client_options_defaults_match_the_published_client() -> None:
    opts = ClientOptions()
    assert opts.auth is None
    assert opts.reconnect is True
    assert opts.request_timeout_ms == 10_000
    assert opts.connect_timeout_ms == 5_000
    assert opts.heartbeat is True
    assert opts.retry_reads is False
    assert opts.reconnect_options == ReconnectOptions()
    assert ClientOptions(reconnect=False).reconnect_options is None


def test_reconnect_options_defaults_match_the_published_client() -> None:
    opts = ReconnectOptions()
    assert opts.max_retries == float("inf")
    assert (opts.initial_delay_ms, opts.max_delay_ms) == (1_000, 30_000)
    assert (opts.backoff_multiplier, opts.jitter_ms) == (2.0, 500)


def test_options_are_frozen() -> None:
    opts = ClientOptions()
    with pytest.raises(AttributeError):
        opts.request_timeout_ms = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("factory", "name"),
    [
        (lambda: ClientOptions(request_timeout_ms=0), "request_timeout_ms"),
        (lambda: ClientOptions(max_pending_requests=0), "max_pending_requests"),
        (lambda: ClientOptions(liveness_timeout_ms=-1), "liveness_timeout_ms"),
        (lambda: ReconnectOptions(backoff_multiplier=0.5), "backoff_multiplier"),
        (lambda: ReconnectOptions(max_retries=-1), "max_retries"),
    ],
)
def test_bad_options_name_the_field(factory: object, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        factory()  # type: ignore[operator]


def test_reprs_mask_secrets() -> None:
    opts = ClientOptions(
        auth=AuthOptions(token="tok-SECRET", credentials=CredentialOptions("alice", "pw-SECRET")),
        ssl=ssl.create_default_context(),
    )
    text = repr(opts)
    assert "SECRET" not in text
    assert "alice" in text
    assert "***" in text
    assert "SECRET" not in str(opts.auth)
    assert "SECRET" not in repr(CredentialOptions(username="bob", password="SECRET"))


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://example.com", "must start with ws:// or wss://"),
        ("ws://[::1/", "not a valid URL"),
        ("ws://user:s3cret@host:99999/", "not a valid URL"),
    ],
)
def test_a_bad_url_is_refused_by_the_constructor_without_its_password(
    url: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message) as info:
        NoexClient(url)
    assert "s3cret" not in str(info.value)
