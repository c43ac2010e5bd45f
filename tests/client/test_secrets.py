"""Tokens and passwords never appear in logs, reprs, events or exception messages."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from noex_client import AuthOptions, CredentialOptions, NoexClient, NoexClientError, RequestInfo
from tests.client.conftest import MakeClient
from tests.client.helpers import EventLog
from tests.client.scripted import PASSWORD, TOKEN, PeerConnection, PeerError, ScriptedPeer

SECRETS = ("SECRET",)


def assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


async def test_no_secret_in_logs_events_or_reprs_across_a_login_lifecycle(
    make_client: MakeClient, peer: ScriptedPeer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    peer.requires_auth = True
    client = make_client(auth=AuthOptions(token=TOKEN))
    log = EventLog(client)
    await client.connect()
    await client.request("auth.login", token=TOKEN)
    with pytest.raises(NoexClientError) as bad:
        await client.request("auth.login", token="tok-WRONG-SECRET")
    peer.restart()
    await log.wait("reconnected")
    infos = [args[0] for args in log.args("request")]
    assert all(isinstance(i, RequestInfo) for i in infos)
    assert [i.op for i in infos].count("auth.login") == 4
    for info in infos:
        assert_clean(repr(info))
    assert_clean(caplog.text)
    assert_clean(repr(client))
    assert_clean(repr(client.options))
    assert_clean(str(bad.value) + repr(bad.value))
    assert TOKEN in str(peer.log)  # the secret did reach the server


async def test_credentials_never_leak_from_failed_logins(
    make_client: MakeClient, peer: ScriptedPeer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    peer.requires_auth = True

    async def echoing_failure(conn: PeerConnection, m: dict[str, Any]) -> Any:
        raise PeerError("UNAUTHORIZED", "Invalid credentials")

    peer.handlers["identity.login"] = echoing_failure
    client = make_client(auth=AuthOptions(credentials=CredentialOptions("alice", PASSWORD)))
    with pytest.raises(NoexClientError) as caught:
        await client.connect()
    assert_clean(str(caught.value) + repr(caught.value))
    assert_clean(caplog.text)
    assert_clean(repr(client.options))


async def test_url_credentials_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = NoexClient("ws://user:pw-SECRET@127.0.0.1:9/")
    assert_clean(repr(client))
    with pytest.raises(NoexClientError) as caught:
        await client.connect()
    assert_clean(str(caught.value))
    assert_clean(caplog.text)
