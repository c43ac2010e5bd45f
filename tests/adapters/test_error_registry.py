"""The one error registry: every registered backend error kind, the fallbacks, and each
backend's reading of its driver's exceptions (real driver exception classes, no I/O)."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

import adapters
from adapters._translate import (
    HTTP_STATUS,
    NATS_API,
    NOEX_CODES,
    SQLITE_CODES,
    SQLSTATE,
    ErrorKind,
    error_for,
    http_kind,
    nats_kind,
    noex_kind,
    sqlite_kind,
    sqlstate_kind,
)

URL = "test://host"

RAISED: dict[ErrorKind, type[adapters.AdapterError]] = {
    ErrorKind.UNAVAILABLE: adapters.BackendUnavailable,
    ErrorKind.CONTENTION: adapters.Conflict,
    ErrorKind.EXISTS: adapters.AlreadyExists,
    ErrorKind.NOT_FOUND: adapters.NotFound,
    ErrorKind.REFUSED: adapters.BackendError,
}

EXPECTED: list[tuple[str, Any, ErrorKind]] = [
    # PostgreSQL: classes, then single codes that win over their class.
    ("sqlstate", "08006", ErrorKind.UNAVAILABLE),  # connection_failure
    ("sqlstate", "28P01", ErrorKind.UNAVAILABLE),  # invalid_password
    ("sqlstate", "40001", ErrorKind.CONTENTION),  # serialization_failure
    ("sqlstate", "40P01", ErrorKind.CONTENTION),  # deadlock_detected
    ("sqlstate", "53300", ErrorKind.UNAVAILABLE),  # too_many_connections
    ("sqlstate", "57P01", ErrorKind.UNAVAILABLE),  # admin_shutdown
    ("sqlstate", "58030", ErrorKind.UNAVAILABLE),  # io_error
    ("sqlstate", "23505", ErrorKind.EXISTS),  # unique_violation
    ("sqlstate", "42501", ErrorKind.UNAVAILABLE),  # insufficient_privilege
    ("sqlstate", "55P03", ErrorKind.CONTENTION),  # lock_not_available
    ("sqlstate", "42601", ErrorKind.REFUSED),  # syntax_error: a bug, never "unavailable"
    ("sqlstate", "22P05", ErrorKind.REFUSED),  # untranslatable_character
    ("sqlstate", "55006", ErrorKind.REFUSED),  # object_in_use: its class is not registered
    # SQLite primary result codes (extended codes reduce to them).
    ("sqlite", 3, ErrorKind.UNAVAILABLE),
    ("sqlite", 5, ErrorKind.CONTENTION),
    ("sqlite", 517, ErrorKind.CONTENTION),  # SQLITE_BUSY_SNAPSHOT
    ("sqlite", 6, ErrorKind.CONTENTION),
    ("sqlite", 8, ErrorKind.UNAVAILABLE),
    ("sqlite", 10, ErrorKind.UNAVAILABLE),
    ("sqlite", 11, ErrorKind.UNAVAILABLE),
    ("sqlite", 13, ErrorKind.UNAVAILABLE),
    ("sqlite", 14, ErrorKind.UNAVAILABLE),
    ("sqlite", 15, ErrorKind.UNAVAILABLE),
    ("sqlite", 19, ErrorKind.EXISTS),
    ("sqlite", 1555, ErrorKind.EXISTS),  # SQLITE_CONSTRAINT_PRIMARYKEY
    ("sqlite", 26, ErrorKind.UNAVAILABLE),
    ("sqlite", 18, ErrorKind.REFUSED),  # SQLITE_TOOBIG
    ("sqlite", 21, ErrorKind.REFUSED),  # SQLITE_MISUSE: a bug
    ("sqlite", None, ErrorKind.REFUSED),  # no code: a programming error
    # noex-server codes.
    *[("noex", code, kind) for code, kind in NOEX_CODES.items()],
    ("noex", "VALIDATION_ERROR", ErrorKind.REFUSED),
    ("noex", "INTERNAL_ERROR", ErrorKind.REFUSED),
    ("noex", "SOMETHING_NEW", ErrorKind.REFUSED),
    # JetStream API errors: err_code first, then code.
    ("nats", (10071, 400), ErrorKind.CONTENTION),
    ("nats", (None, 503), ErrorKind.UNAVAILABLE),
    ("nats", (None, 408), ErrorKind.UNAVAILABLE),
    ("nats", (10054, 400), ErrorKind.REFUSED),  # maximum message size exceeded
    ("nats", (None, None), ErrorKind.REFUSED),
    # HTTP statuses.
    *[("http", status, kind) for status, kind in HTTP_STATUS.items()],
    ("http", 400, ErrorKind.REFUSED),
    ("http", 413, ErrorKind.REFUSED),
    ("http", 500, ErrorKind.REFUSED),
]


def _kind(table: str, code: Any) -> ErrorKind:
    if table == "sqlstate":
        return sqlstate_kind(code)
    if table == "sqlite":
        return sqlite_kind(code)
    if table == "noex":
        return noex_kind(code)
    if table == "nats":
        return nats_kind(*code)
    return http_kind(code)


@pytest.mark.parametrize(
    ("table", "code", "kind"), EXPECTED, ids=[f"{t}-{c}" for t, c, _ in EXPECTED]
)
def test_each_registered_code_maps_to_its_kind(table: str, code: Any, kind: ErrorKind) -> None:
    assert _kind(table, code) is kind


def test_every_registry_entry_is_covered_by_a_case() -> None:
    covered = {(t, c if t != "nats" else c[0] or c[1]) for t, c, _ in EXPECTED}
    tables: list[tuple[str, dict[Any, ErrorKind]]] = [
        ("sqlite", SQLITE_CODES),
        ("noex", NOEX_CODES),
        ("nats", NATS_API),
        ("http", HTTP_STATUS),
    ]
    for table, entries in tables:
        assert {(table, code) for code in entries} <= covered, table
    sqlstates = {c for t, c, _ in EXPECTED if t == "sqlstate"}
    assert all(any(s.startswith(entry) for s in sqlstates) for entry in SQLSTATE)


@pytest.mark.parametrize("kind", list(ErrorKind))
def test_each_kind_raises_its_class(kind: ErrorKind) -> None:
    error = error_for(kind, backend="x", code="C1", url=URL, reason="why", collection="c", key="k")
    assert type(error) is RAISED[kind]


def test_kinds_that_need_a_record_fall_back_without_one() -> None:
    for kind in (ErrorKind.EXISTS, ErrorKind.NOT_FOUND):
        error = error_for(kind, backend="postgres", code="23505", url=URL, reason="dup")
        assert isinstance(error, adapters.BackendError)
        assert (error.backend, error.code) == ("postgres", "23505")


def test_contention_is_a_conflict_without_expected_version() -> None:
    error = error_for(
        ErrorKind.CONTENTION, backend="sqlite", code=5, url=URL, reason="busy", collection="c"
    )
    assert isinstance(error, adapters.Conflict)
    assert error.expected is None
    assert error.actual is None
    assert "busy" in str(error)


def test_sqlstate_without_a_code_uses_the_default() -> None:
    assert sqlstate_kind(None, ErrorKind.UNAVAILABLE) is ErrorKind.UNAVAILABLE
    assert sqlstate_kind(None) is ErrorKind.REFUSED
    assert sqlite_kind(None, ErrorKind.UNAVAILABLE) is ErrorKind.UNAVAILABLE


# -- each backend reads its driver's exceptions ------------------------------------------


def test_sqlite_errors_by_result_code() -> None:
    from adapters.backends.sqlite import _translate

    busy = sqlite3.OperationalError("database is locked")
    busy.sqlite_errorcode = 5
    assert isinstance(_translate(URL, busy), adapters.Conflict)
    misuse = sqlite3.ProgrammingError("Cannot operate on a closed database.")
    assert isinstance(_translate(URL, misuse), adapters.BackendError)
    cantopen = sqlite3.OperationalError("unable to open database file")
    cantopen.sqlite_errorcode = 14
    assert isinstance(_translate(URL, cantopen), adapters.BackendUnavailable)


def test_postgres_errors_by_sqlstate() -> None:
    psycopg = pytest.importorskip("psycopg")
    from adapters.backends.postgres._base import translate

    cases = {
        psycopg.errors.SerializationFailure: adapters.Conflict,
        psycopg.errors.DeadlockDetected: adapters.Conflict,
        psycopg.errors.LockNotAvailable: adapters.Conflict,
        psycopg.errors.AdminShutdown: adapters.BackendUnavailable,
        psycopg.errors.InsufficientPrivilege: adapters.BackendUnavailable,
        psycopg.errors.SyntaxError: adapters.BackendError,
        psycopg.errors.UntranslatableCharacter: adapters.BackendError,
        psycopg.OperationalError: adapters.BackendUnavailable,  # no SQLSTATE: the connection
        psycopg.ProgrammingError: adapters.BackendError,
        psycopg.InterfaceError: adapters.BackendError,
    }
    for exc_type, raised in cases.items():
        error = translate(URL, exc_type("message"))
        assert type(error) is raised, exc_type
    refused = translate(URL, psycopg.errors.SyntaxError("near x"))
    assert isinstance(refused, adapters.BackendError)
    assert refused.code == "42601"


def test_nats_errors_by_api_code() -> None:
    pytest.importorskip("nats")
    import nats.errors
    import nats.js.errors

    from adapters.backends.nats._kv import KVUnavailable, KVWriteError, WrongRevision, translate

    def kind(exc: BaseException) -> type[adapters.AdapterError]:
        return type(translate(URL, exc, "c", "k"))

    assert kind(WrongRevision("wrong last sequence: 4")) is adapters.Conflict
    assert kind(KVUnavailable("no acknowledgement")) is adapters.BackendUnavailable
    assert kind(KVWriteError("maximum payload exceeded", 400, 10054)) is adapters.BackendError
    assert kind(nats.errors.TimeoutError()) is adapters.BackendUnavailable
    assert kind(nats.errors.ConnectionClosedError()) is adapters.BackendUnavailable
    assert kind(nats.js.errors.ServiceUnavailableError(code=503)) is adapters.BackendUnavailable
    assert kind(nats.js.errors.BadRequestError(code=400, err_code=10058)) is adapters.BackendError
    assert kind(OSError("reset")) is adapters.BackendUnavailable


def test_noex_errors_by_code() -> None:
    from noex_client import (
        AlreadyExistsError,
        ConflictError,
        DisconnectedError,
        ForbiddenError,
        InternalServerError,
        RequestTimeoutError,
        ValidationError,
    )

    cases = {
        ConflictError: adapters.Conflict,
        DisconnectedError: adapters.BackendUnavailable,
        RequestTimeoutError: adapters.BackendUnavailable,
        ForbiddenError: adapters.BackendUnavailable,
        ValidationError: adapters.BackendError,
        InternalServerError: adapters.BackendError,
        AlreadyExistsError: adapters.BackendError,  # no record named: a refusal
    }
    for exc_type, raised in cases.items():
        exc = exc_type()
        error = error_for(noex_kind(exc.code), backend="noex", code=exc.code, url=URL, reason="r")
        assert type(error) is raised, exc_type


def test_beaver_errors_by_status() -> None:
    pytest.importorskip("httpx")
    from adapters.backends.beaver import _kind
    from adapters.beaver import (
        AuthError,
        BadRequest,
        ConnectionFailed,
        KeyNotFound,
        RemoteTimeout,
        ServerError,
    )

    assert _kind(ServerError("busy", status=503)) == (ErrorKind.UNAVAILABLE, 503)
    assert _kind(ServerError("conflict", status=409)) == (ErrorKind.CONTENTION, 409)
    assert _kind(ServerError("boom", status=500)) == (ErrorKind.REFUSED, 500)
    assert _kind(AuthError("bad key")) == (ErrorKind.UNAVAILABLE, 401)
    assert _kind(BadRequest("no")) == (ErrorKind.REFUSED, 400)
    assert _kind(ConnectionFailed("down"))[0] is ErrorKind.UNAVAILABLE
    assert _kind(RemoteTimeout("slow"))[0] is ErrorKind.UNAVAILABLE
    assert _kind(KeyNotFound("k", "d"))[0] is ErrorKind.REFUSED
