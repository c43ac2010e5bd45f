"""Choosing a transport, and the picows transport's sans-I/O parts (no sockets)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from noex_client import ClientOptions, WebSocketConnector
from noex_client._transport import TransportClosed, connector_for, resolve_transport

pytest.importorskip("picows", reason="the fast extra is not installed")

from picows import WSMsgType

from noex_client._transport_frames import FrameAssembler, close_frame, too_big
from noex_client._transport_picows import PicowsConnector

TEXT, BINARY, CONT = WSMsgType.TEXT, WSMsgType.BINARY, WSMsgType.CONTINUATION


def test_the_default_is_auto_and_auto_prefers_picows() -> None:
    assert ClientOptions().transport == "auto"
    assert resolve_transport("auto") == "picows"
    assert isinstance(connector_for("auto"), PicowsConnector)
    assert isinstance(connector_for("websockets"), WebSocketConnector)
    assert isinstance(connector_for("picows"), PicowsConnector)


WITHOUT_PICOWS = """
import sys
if sys.argv[1] == "missing":
    sys.modules["picows"] = None  # makes "import picows" fail, as when it is not installed
from noex_client import ClientOptions, NoexClient
print(type(NoexClient("ws://127.0.0.1:1/")._connector).__name__)
try:
    NoexClient("ws://127.0.0.1:1/", ClientOptions(transport="picows"))
except ImportError as exc:
    print(exc)
"""


@pytest.mark.parametrize("how", ["missing", "broken"])
def test_without_a_working_picows_auto_takes_websockets_and_picows_raises(
    how: str, tmp_path: Path
) -> None:
    # broken: installed, but its import fails (a build for another platform, say).
    (tmp_path / "picows.py").write_text("raise ImportError('undefined symbol: x')\n")
    path = [str(tmp_path)] if how == "broken" else []
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_PICOWS, how],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ | {"PYTHONPATH": os.pathsep.join([*path, *sys.path[1:]])},
        check=False,
    )
    assert done.stderr == ""
    auto, error = done.stdout.splitlines()
    assert auto == "WebSocketConnector"
    assert error.startswith(
        "ClientOptions(transport='picows') needs the picows package: "
        "pip install 'noex-client[fast]'"
    )
    if how == "broken":
        assert error.endswith("(import failed: undefined symbol: x)")


def test_an_unknown_transport_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="'transport'"):
        ClientOptions(transport="aiohttp")  # type: ignore[arg-type]


def test_whole_frames_pass_through_as_bytes() -> None:
    assembler = FrameAssembler(limit=10)
    assert assembler.feed(TEXT, True, b'{"a": 1}') == b'{"a": 1}'
    assert assembler.feed(BINARY, True, b"\xff") == b"\xff"
    assert assembler.idle


def test_fragments_are_joined() -> None:
    assembler = FrameAssembler(limit=10)
    assert assembler.feed(TEXT, False, b"ab") is None
    assert not assembler.idle
    assert assembler.feed(CONT, False, b"cd") is None
    assert assembler.feed(CONT, True, b"e") == b"abcde"
    assert assembler.idle


@pytest.mark.parametrize(
    ("frames", "code"),
    [
        ([(TEXT, True, b"x" * 11)], 1009),
        ([(TEXT, False, b"x" * 6), (CONT, True, b"x" * 5)], 1009),
        ([(CONT, True, b"x")], 1002),
        ([(TEXT, False, b"x"), (TEXT, True, b"y")], 1002),
    ],
    ids=["one-frame-too-big", "fragments-too-big", "stray-continuation", "new-message-inside"],
)
def test_broken_sequences_name_their_close_code(
    frames: list[tuple[WSMsgType, bool, bytes]], code: int
) -> None:
    assembler = FrameAssembler(limit=10)
    *head, last = frames
    for opcode, fin, payload in head:
        assembler.feed(opcode, fin, payload)
    with pytest.raises(TransportClosed) as caught:
        assembler.feed(*last)
    assert caught.value.code == code
    if code == 1009:
        assert caught.value.reason == too_big(10) == "message exceeds limit of 10 bytes"


def test_reserved_bits_are_a_protocol_error() -> None:
    with pytest.raises(TransportClosed) as caught:
        FrameAssembler(limit=10).feed(TEXT, True, b"{}", reserved=True)
    assert caught.value.code == 1002


def test_close_frames_parse_to_code_and_reason() -> None:
    assert close_frame(b"") == (1005, "")
    assert close_frame((4002).to_bytes(2, "big") + b"session_revoked") == (4002, "session_revoked")
    assert close_frame((1000).to_bytes(2, "big") + b"\xff") == (1000, "\ufffd")
