"""The private nats-py members the NATS backend relies on, checked against the installed nats-py.

When one of these fails after a nats-py upgrade, the backend would break (it
refuses to import): re-check ``adapters/backends/nats/_client.py`` and
``_publisher.py`` against the new release, then widen the pin in
pyproject.toml and ``SUPPORTED_RANGE`` together.
"""

from __future__ import annotations

import inspect
import re
import tomllib
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client as NATS
from nats.aio.subscription import Subscription

from adapters.backends.nats import _client
from adapters.backends.nats._client import INTERNALS, SUPPORTED_RANGE, Client, check_internals

ROOT = Path(__file__).resolve().parents[3]


def _params(owner: type[Any], name: str) -> tuple[str, ...]:
    return tuple(inspect.signature(getattr(owner, name)).parameters)


def test_the_hooked_receive_method_has_the_parameters_we_override_it_with() -> None:
    assert _params(NATS, "_process_msg") == ("self", "sid", "subject", "reply", "data", "headers")
    assert _params(Client, "_process_msg") == _params(NATS, "_process_msg")


def test_the_send_path_internals_exist_with_the_parameters_we_pass() -> None:
    assert _params(NATS, "_send_command")[:3] == ("self", "cmd", "priority")
    assert _params(NATS, "_flush_pending")[:2] == ("self", "force_flush")
    client = Client()
    assert client._flush_queue is None  # created by connect(), read by the publisher
    assert client.max_payload > 0


def test_a_subscription_keeps_its_sid_in_id() -> None:
    assert _params(Subscription, "__init__")[:3] == ("self", "conn", "id")
    sub = Subscription(Client(), 7)
    assert sub._id == 7


def test_the_checked_members_are_the_ones_listed() -> None:
    assert set(INTERNALS) == {
        "Client._process_msg",
        "Client._send_command",
        "Client._flush_pending",
        "Subscription.__init__",
    }
    check_internals()  # the installed nats-py passes


def test_a_changed_member_fails_loudly_naming_it() -> None:
    class Changed(NATS):
        async def _process_msg(self, sid: int, subject: bytes, reply: bytes, data: bytes) -> None:  # type: ignore[override]
            pass

    with pytest.raises(ImportError, match=r"nats-py>=.*Client\._process_msg.*is now") as info:
        check_internals({"Client": Changed, "Subscription": Subscription})
    assert info.value.name == _client.__name__


def test_the_pin_in_pyproject_is_the_supported_range() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    (spec,) = extras["nats"]
    assert spec == f"nats-py{SUPPORTED_RANGE}"
    low, high = re.findall(r"\d+\.\d+", SUPPORTED_RANGE)
    installed = tuple(int(p) for p in version("nats-py").split(".")[:2])
    assert tuple(map(int, low.split("."))) <= installed < tuple(map(int, high.split(".")))
