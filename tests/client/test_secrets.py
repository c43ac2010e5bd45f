"""Tokens and passwords never appear in logs, reprs, events or exception messages."""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest

from noex_client import (
    AuthOptions,
    ClientOptions,
    CredentialOptions,
    NoexClient,
    NoexClientError,
    RequestInfo,
)
from noex_client.testing import LocalServer
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


async def test_no_secret_reaches_the_websocket_libraries_logs(
    transport: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(1)  # every level: picows logs the handshake request below DEBUG
    admin = "adm-SECRET-789"
    async with LocalServer(auth={"builtIn": True, "adminSecret": admin}) as server:
        url = server.url.replace("ws://", "ws://ann:pw%40SECRET@")
        async with NoexClient(url, ClientOptions(reconnect=False)) as client:
            tokens = [(await client.identity.login_with_secret(admin))["token"]]
            await client.identity.create_user({"username": "carol", "password": PASSWORD})
            tokens.append((await client.identity.login("carol", PASSWORD))["token"])
            await client.auth.login(tokens[-1])
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "Authorization: ***" in text  # the handshake was logged, with its header masked
    if transport == "websockets":  # picows does not log frames
        assert '"secret":"***"' in text
        assert '"password":"***"' in text
        assert '"token":"***"' in text
    assert_clean(text)
    assert base64.b64encode(b"ann:pw@SECRET").decode() not in text
    for token in tokens:
        assert token not in text
