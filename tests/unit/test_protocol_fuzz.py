"""Property tests: whatever arrives, the session raises only ProtocolError and keeps working.

Hypothesis explores shapes (a few thousand examples); a seeded generator then
pushes 100k more frames through the same checks (``bench/fuzz_decoder.py``
runs it for as long as you like).
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.fuzz_decoder import run
from noex_client._errors import ProtocolError
from noex_client._protocol import decode
from noex_client._session import Reply, Session
from tests.transcripts import load, transcript_names

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
KEYS = ["type", "id", "data", "code", "message", "details", "channel", "subscriptionId"]
KEYS += ["timestamp", "event", "gracePeriodMs", "reason", "version", "serverTime", "requiresAuth"]
TYPES = ["welcome", "result", "error", "push", "ping", "system", "pong", "", "RESULT"]


def recorded_frames() -> list[dict[str, Any]]:
    return [line.frame for n in transcript_names() for line in load(n).of("recv")]


@st.composite
def mutated_frames(draw: st.DrawFn) -> bytes:
    frame = dict(draw(st.sampled_from(recorded_frames())))
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(["drop", "set", "retype", "truncate"]))
        if action == "drop" and frame:
            frame.pop(draw(st.sampled_from(sorted(frame))))
        elif action == "set":
            frame[draw(st.sampled_from(KEYS))] = draw(json_values)
        elif action == "retype":
            frame["type"] = draw(st.sampled_from(TYPES))
    raw = json.dumps(frame).encode()
    if draw(st.booleans()) and draw(st.booleans()):
        raw = raw[: draw(st.integers(0, len(raw)))]
    return raw


def check(session: Session[str], raw: bytes | str) -> None:
    with contextlib.suppress(ProtocolError):
        session.receive(raw)
    # Whatever happened, the session still answers its own requests.
    rid, _ = session.start_request("store.all", {})
    assert isinstance(session.receive(json.dumps({"type": "result", "id": rid})), Reply)
    session.data_to_send()


@SETTINGS
@given(st.binary(max_size=200))
def test_random_bytes_raise_only_protocol_errors(raw: bytes) -> None:
    check(Session(), raw)


@SETTINGS
@given(json_values)
def test_random_json_raises_only_protocol_errors(value: Any) -> None:
    check(Session(), json.dumps(value))


@SETTINGS
@given(st.dictionaries(st.sampled_from(KEYS), json_values, max_size=6), st.sampled_from(TYPES))
def test_random_objects_with_a_type_raise_only_protocol_errors(
    fields: dict[str, Any], kind: str
) -> None:
    fields["type"] = kind
    check(Session(), json.dumps(fields))


@SETTINGS
@given(mutated_frames())
def test_mutated_transcript_frames_raise_only_protocol_errors(raw: bytes) -> None:
    session: Session[str] = Session()
    session.start_request("store.subscribe", {"query": "q"})
    check(session, raw)


def test_deep_nesting_is_a_protocol_error_or_decodes() -> None:
    deep = '{"type":"result","id":1,"data":' + "[" * 10_000 + "]" * 10_000 + "}"
    with contextlib.suppress(ProtocolError):
        decode(deep)


def test_one_hundred_thousand_generated_frames() -> None:
    rejected = run(100_000, seed=20261123)
    assert 90_000 < rejected < 100_000  # most are garbage, some decode fine
