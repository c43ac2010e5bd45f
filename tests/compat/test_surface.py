"""Every published class, method, parameter and return annotation exists unchanged.

The table (``surface.py``) is the published client's signatures. Ours may add
optional parameters (keyword additions with defaults, ``**fields``) and may
accept a keyword-only published parameter positionally too; nothing else.
"""

from __future__ import annotations

import inspect
import typing
from typing import Any

import pytest

import noex_client
from tests.compat.surface import MISSING, SURFACE

CASES = [(cls, name) for cls, methods in SURFACE.items() for name in methods]
PROPERTIES = {"url", "state", "is_connected"}
GROUPS = {"store", "rules", "logic", "auth", "audit", "procedures", "identity"}


def _ours(cls: str, name: str) -> Any:
    return getattr(getattr(noex_client, cls), name)


@pytest.mark.parametrize(("cls", "name"), CASES, ids=[f"{c}.{n}" for c, n in CASES])
def test_published_method_exists_with_its_signature(cls: str, name: str) -> None:
    is_async, params, returns = SURFACE[cls][name]
    if cls == "NoexClient" and name in PROPERTIES | GROUPS:
        client = noex_client.NoexClient("ws://127.0.0.1:1/")
        if name in PROPERTIES:
            assert isinstance(inspect.getattr_static(noex_client.NoexClient, name), property)
        assert type(getattr(client, name)).__name__ == returns or name in PROPERTIES
        return
    method = _ours(cls, name)
    assert inspect.iscoroutinefunction(method) is is_async
    signature = inspect.signature(method)
    ours = {p.name: p for p in signature.parameters.values() if p.name != "self"}
    positional = [
        p.name for p in ours.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    for index, (param, default, keyword_only) in enumerate(params):
        assert param in ours, f"{cls}.{name} has no parameter {param!r}"
        mine = ours[param]
        expected = inspect.Parameter.empty if default is MISSING else default
        assert mine.default == expected, (param, mine.default)
        if keyword_only:
            assert mine.kind in (mine.KEYWORD_ONLY, mine.POSITIONAL_OR_KEYWORD), param
        else:
            assert positional[index] == param, (param, positional)
    published = {param for param, _d, _k in params}
    for extra in set(ours) - published:
        p = ours[extra]
        assert p.kind is p.VAR_KEYWORD or p.default is not p.empty, f"{cls}.{name}({extra})"
    overloads = typing.get_overloads(method)
    annotations = [inspect.signature(o).return_annotation for o in overloads or [method]]
    assert returns in annotations, annotations


def test_error_constructors_are_the_published_ones() -> None:
    error = noex_client.NoexClientError("CODE", "message", {"d": 1})
    assert (error.code, str(error), error.details) == ("CODE", "message", {"d": 1})
    timeout = noex_client.RequestTimeoutError("too slow")
    assert (timeout.code, str(timeout)) == ("TIMEOUT", "too slow")
    gone = noex_client.DisconnectedError()
    assert (gone.code, str(gone)) == ("DISCONNECTED", "Not connected")
    assert issubclass(noex_client.RequestTimeoutError, noex_client.NoexClientError)
    assert issubclass(noex_client.DisconnectedError, noex_client.NoexClientError)


def test_option_types_have_the_published_fields_and_defaults() -> None:
    import dataclasses

    def fields(cls: type) -> list[tuple[str, Any]]:
        return [(f.name, f.default) for f in dataclasses.fields(cls)]

    assert fields(noex_client.ClientOptions)[:5] == [
        ("auth", None),
        ("reconnect", True),
        ("request_timeout_ms", 10_000),
        ("connect_timeout_ms", 5_000),
        ("heartbeat", True),
    ]
    assert fields(noex_client.ReconnectOptions) == [
        ("max_retries", float("inf")),
        ("initial_delay_ms", 1_000),
        ("max_delay_ms", 30_000),
        ("backoff_multiplier", 2.0),
        ("jitter_ms", 500),
    ]
    assert fields(noex_client.AuthOptions) == [("token", None), ("credentials", None)]
    assert [name for name, _ in fields(noex_client.CredentialOptions)] == ["username", "password"]
    info = noex_client.WelcomeInfo(version="1.0.0", server_time=1, requires_auth=False)
    assert dataclasses.astuple(info) == ("1.0.0", 1, False)
