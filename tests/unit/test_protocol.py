"""The decoder accepts every frame the real server sent, and nothing else."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from noex_client._errors import ProtocolError
from noex_client._protocol import (
    Error,
    Ping,
    Push,
    Result,
    System,
    Welcome,
    decode,
    encode_pong,
    encode_request,
)
from tests.transcripts import COPY_DIR, load, shared_dir, transcript_names

KINDS: dict[str, type[Any]] = {
    "welcome": Welcome,
    "result": Result,
    "error": Error,
    "push": Push,
    "ping": Ping,
    "system": System,
}


def recv_frames() -> list[tuple[str, int, dict[str, object]]]:
    frames = []
    for name in transcript_names():
        for line in load(name).of("recv"):
            frames.append((name, line.seq, line.frame))
    return frames


def test_transcripts_are_present() -> None:
    names = transcript_names()
    assert {"store", "reconnect", "heartbeat", "shutdown", "auth"} <= set(names)
    assert len(recv_frames()) > 200


def test_transcripts_copy_matches_the_shared_ones() -> None:
    shared = shared_dir()
    if shared is None:
        pytest.skip("no shared/transcripts above this checkout: the copy is all there is")
    files = {p.name: p.read_bytes() for p in shared.iterdir() if p.is_file()}
    copy = {p.name: p.read_bytes() for p in COPY_DIR.iterdir() if p.is_file()}
    assert copy == files, "tests/data/transcripts differs from shared/transcripts: copy it again"


@pytest.mark.parametrize("name", transcript_names())
def test_every_recorded_server_frame_decodes(name: str) -> None:
    for line in load(name).of("recv"):
        frame = line.frame
        raw = json.dumps(frame)
        message = decode(raw.encode())
        assert isinstance(message, KINDS[frame["type"]]), (name, line.seq)
        assert decode(raw) == message
        match message:
            case Result(id=rid, data=data):
                assert rid == frame["id"]
                assert data == frame.get("data")
            case Error(id=rid, code=code, details=details):
                assert (rid, code) == (frame["id"], frame["code"])
                assert details == frame.get("details")
            case Push(subscription_id=sid, channel=channel):
                assert (sid, channel) == (frame["subscriptionId"], frame["channel"])
            case Welcome(version=version):
                assert version == "1.0.0"
            case Ping(timestamp=ts):
                assert ts == frame["timestamp"]
            case System(event=event):
                assert event in {"shutdown", "session_revoked"}


def test_absent_data_and_details_decode_as_none() -> None:
    assert decode(b'{"type":"result","id":3}') == Result(3, None)
    assert decode(b'{"type":"error","id":0,"code":"PARSE_ERROR","message":"Invalid JSON"}') == (
        Error(0, "PARSE_ERROR", "Invalid JSON", None)
    )


def test_system_messages_keep_their_fields() -> None:
    shutdown = decode(b'{"type":"system","event":"shutdown","gracePeriodMs":1500}')
    assert shutdown == System("shutdown", 1500, None)
    revoked = decode(b'{"type":"system","event":"session_revoked","reason":"x"}')
    assert revoked == System("session_revoked", None, "x")


@pytest.mark.parametrize(
    ("frame", "fragment"),
    [
        (b"not json", "malformed"),
        (b"[1]", "object"),
        (b'{"id":1}', "type"),
        (b'{"type":"nope"}', "type"),
        (b'{"type":"result","id":"1"}', "$.id"),
        (b'{"type":"push","channel":"subscription"}', "subscriptionId"),
        (b'{"type":"welcome","version":"1.0.0"}', "serverTime"),
        (b"\xff\xfe", "malformed"),
    ],
)
def test_invalid_frames_raise_one_typed_error(frame: bytes, fragment: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        decode(frame)
    assert caught.value.code == "PROTOCOL_ERROR"
    assert fragment in caught.value.message


def test_encode_request_omits_none_fields() -> None:
    frame = encode_request(7, "store.paginate", {"bucket": "b", "limit": 2, "after": None})
    assert msgspec.json.decode(frame) == {
        "id": 7,
        "type": "store.paginate",
        "bucket": "b",
        "limit": 2,
    }


def test_encode_request_keeps_falsy_values() -> None:
    frame = encode_request(1, "rules.setFact", {"key": "k", "value": 0, "flag": False})
    assert msgspec.json.decode(frame) == {
        "id": 1,
        "type": "rules.setFact",
        "key": "k",
        "value": 0,
        "flag": False,
    }


def test_pong_echoes_the_timestamp() -> None:
    assert msgspec.json.decode(encode_pong(1795407390824)) == {
        "type": "pong",
        "timestamp": 1795407390824,
    }


def test_reserved_field_names_are_rejected() -> None:
    with pytest.raises(TypeError, match="'id'"):
        encode_request(1, "store.get", {"id": 5})
    with pytest.raises(TypeError, match="'type'"):
        encode_request(1, "store.get", {"type": "x"})
