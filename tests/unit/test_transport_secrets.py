"""URL credentials become a Basic auth header; the WebSocket libraries' log
messages lose Authorization values and the secrets of the frames they show."""

from __future__ import annotations

import base64
import json
import logging

import pytest
from websockets.frames import Frame, Opcode

from noex_client._transport_secrets import RedactingLogger, redact, split_credentials


@pytest.mark.parametrize(
    ("url", "bare", "pair"),
    [
        ("ws://h:1/p?q=1", "ws://h:1/p?q=1", None),
        ("ws://ann:p%40ss@h:1/p", "ws://h:1/p", b"ann:p@ss"),
        ("wss://ann@[::1]:1/", "wss://[::1]:1/", b"ann:"),
        ("ws://:tok%3A1@h/", "ws://h/", b":tok:1"),
    ],
    ids=["none", "user-and-password", "user-only-ipv6", "password-only"],
)
def test_url_credentials_become_a_basic_auth_header(
    url: str, bare: str, pair: bytes | None
) -> None:
    headers = {} if pair is None else {"Authorization": "Basic " + base64.b64encode(pair).decode()}
    assert split_credentials(url) == (bare, headers)


def test_authorization_values_are_masked_in_header_lines_and_request_reprs() -> None:
    assert redact("> %s: %s", ("Authorization", "Basic YW5uOnB3")) == "> Authorization: ***"
    request = b"GET / HTTP/1.1\r\nauthorization: Basic YW5uOnB3\r\nHost: h\r\n\r\n"
    assert redact("Send upgrade request: %s", (request,)) == (
        "Send upgrade request: b'GET / HTTP/1.1\\r\\nauthorization: ***\\r\\nHost: h\\r\\n\\r\\n'"
    )
    assert redact("%(who)s sent Authorization: x", ({"who": "ann"},)) == (
        "ann sent Authorization: ***"
    )


def test_frames_show_their_secrets_masked() -> None:
    login = json.dumps({"id": 1, "type": "auth.login", "token": "tok-SECRET"}).encode()
    shown = redact("> %s", (Frame(Opcode.TEXT, login),))
    assert shown == ('> TEXT {"id":1,"type":"auth.login","token":"***"} [54 bytes, secrets masked]')
    plain = Frame(Opcode.TEXT, b'{"id": 2, "type": "store.all"}')
    assert redact("< %s", (plain,)) == f"< {plain}"  # nothing secret: as websockets shows it
    long = json.dumps({"data": {"password": "pw-SECRET", "note": "n" * 200}}).encode()
    shown = redact("< %s", (Frame(Opcode.TEXT, long),))
    assert "SECRET" not in shown
    assert '"password":"***"' in shown
    assert "..." in shown


@pytest.mark.parametrize(
    "frame",
    [
        Frame(Opcode.TEXT, b'{"password": "pw-SECRET"', fin=False),
        Frame(Opcode.CONT, b'word": "pw-SECRET"}'),
        Frame(Opcode.TEXT, b"password=pw-SECRET"),
    ],
    ids=["first-fragment", "continuation", "not-json"],
)
def test_frames_that_cannot_be_masked_are_not_shown(frame: Frame) -> None:
    shown = redact("< %s", (frame,))
    assert "SECRET" not in shown
    assert shown.endswith("bytes, not shown: it may carry a secret]")


def test_the_logger_masks_only_records_it_emits(caplog: pytest.LogCaptureFixture) -> None:
    log = RedactingLogger(logging.getLogger("tests.redacting"))
    caplog.set_level(logging.INFO, "tests.redacting")
    log.debug("> %s: %s", "Authorization", "Basic YW5uOnB3")
    log.info("> %s: %s", "Authorization", "Basic YW5uOnB3")
    log.warning("100%% %s", "done")
    assert [r.getMessage() for r in caplog.records] == ["> Authorization: ***", "100% done"]
