"""Typed backend options: one helper fills each backend's frozen options type."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest

import adapters
from adapters._options import UnknownOption, options_from, split_options


class Thing:
    """A keyword-only option type."""


@dataclass(frozen=True)
class Sample:
    seconds: float = 1.0
    count: int = 2
    flag: bool = False
    name: str = "n"
    mode: Literal["a", "b"] = "a"
    secret: str | None = field(default=None, repr=False)
    thing: Thing | None = None


def test_url_values_are_converted_by_annotation() -> None:
    got = options_from(
        Sample, "x", "seconds=0.5&count=3&flag=yes&name=app&mode=b&secret=s3cret", {}
    )
    assert got == Sample(0.5, 3, True, "app", "b", "s3cret")
    assert "s3cret" not in repr(got)
    assert dataclasses.is_dataclass(got)


def test_keywords_win_over_the_url_and_keep_their_types() -> None:
    thing = Thing()
    got = options_from(Sample, "x", "count=3&name=url", {"count": 4, "name": 7, "thing": thing})
    assert (got.count, got.name, got.thing) == (4, "7", thing)
    assert options_from(Sample, "x", "secret=a", {"secret": None}).secret is None


@pytest.mark.parametrize(
    ("query", "overrides", "message"),
    [
        ("seconds=soon", {}, "x option 'seconds' must be a number"),
        ("seconds=nan", {}, "'seconds' must be a finite number"),
        ("", {"seconds": -1}, "'seconds' must not be negative"),
        ("", {"seconds": True}, "'seconds' must be a number"),
        ("count=1.5", {}, "'count' must be a whole number"),
        ("", {"count": 2.5}, "'count' must be a whole number"),
        ("flag=maybe", {}, "'flag' must be true or false"),
        ("", {"flag": 1}, "'flag' must be true or false"),
        ("mode=c", {}, "'mode' must be 'a' or 'b'"),
        ("", {"name": None}, "'name' must be text"),
        ("thing=1", {}, "'thing' cannot be set in the URL"),
        ("", {"thing": "no"}, "'thing' must be a Thing"),
    ],
)
def test_malformed_values_name_the_option(
    query: str, overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        options_from(Sample, "x", query, overrides)


def test_unknown_options_are_value_errors_and_type_errors() -> None:
    for query, overrides in [("colour=red", {}), ("", {"colour": "red"})]:
        with pytest.raises(UnknownOption, match="unknown x option 'colour'") as info:
            options_from(Sample, "x", query, overrides)
        assert isinstance(info.value, ValueError)
        assert isinstance(info.value, TypeError)


def test_split_options_hands_back_the_servers_own_parameters() -> None:
    got, rest = split_options(Sample, "x", "sslmode=require&count=5&app=a", {})
    assert got.count == 5
    assert rest == [("sslmode", "require"), ("app", "a")]
    with pytest.raises(UnknownOption):
        split_options(Sample, "x", "", {"sslmode": "require"})


@pytest.mark.parametrize(
    ("url", "options", "message"),
    [
        ("memory://", {"timeout": 1}, "unknown memory option 'timeout'"),
        ("memory://x?shared=1", {}, "unknown memory option 'shared'"),
        ("beaver+http://h?poll_interval=0", {}, "'poll_interval' must be > 0"),
        ("beaver+http://h", {"namespace": ""}, "'namespace' must not be empty"),
        ("ws://127.0.0.1:1?lock_timeout_s=x", {}, "noex option 'lock_timeout_s' must be a number"),
        ("ws://127.0.0.1:1", {"client_options": {}}, "'client_options' must be a ClientOptions"),
        ("ws://127.0.0.1:1", {"tokn": "x"}, "unknown noex option 'tokn'"),
    ],
)
async def test_each_backend_names_a_bad_option(
    url: str, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await adapters.connect(url, **options)
