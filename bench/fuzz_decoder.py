"""Long-running fuzz of the protocol decoder and session (beyond the CI budget).

Feeds random bytes, random JSON values and mutated real-server frames into a
:class:`~noex_client._session.Session` and checks that only ``ProtocolError``
escapes and that the session keeps matching its own requests afterwards.

Usage: ``python -m bench.fuzz_decoder [EXAMPLES] [SEED]`` (default 200000, 1).
"""

from __future__ import annotations

import json
import random
import sys
import time
from typing import Any

from noex_client._errors import ProtocolError
from noex_client._session import Reply, Session
from tests.transcripts import load, transcript_dir, transcript_names

KEYS = ["type", "id", "data", "code", "message", "details", "channel", "subscriptionId"]
KEYS += ["timestamp", "event", "gracePeriodMs", "reason", "version", "serverTime", "requiresAuth"]
TYPES = ["welcome", "result", "error", "push", "ping", "system", "pong", "", "RESULT"]


def random_json(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(8 if depth < 4 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.randint(-(2**70), 2**70)
    if kind == 3:
        return rng.uniform(-1e308, 1e308)
    if kind in (4, 5):
        return "".join(chr(rng.randrange(0x20, 0x2FFF)) for _ in range(rng.randrange(12)))
    if kind == 6:
        return [random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(KEYS): random_json(rng, depth + 1) for _ in range(rng.randrange(5))}


def mutate(rng: random.Random, frame: dict[str, Any]) -> bytes:
    frame = dict(frame)
    for _ in range(rng.randint(1, 3)):
        action = rng.randrange(3)
        if action == 0 and frame:
            frame.pop(rng.choice(sorted(frame)))
        elif action == 1:
            frame[rng.choice(KEYS)] = random_json(rng)
        else:
            frame["type"] = rng.choice(TYPES)
    raw = json.dumps(frame).encode()
    if rng.random() < 0.25:
        raw = raw[: rng.randrange(len(raw) + 1)]
    if rng.random() < 0.1 and raw:
        pos = rng.randrange(len(raw))
        raw = raw[:pos] + bytes([rng.randrange(256)]) + raw[pos + 1 :]
    return raw


def run(examples: int, seed: int) -> int:
    """Fuzz ``examples`` frames; return how many were rejected with ProtocolError.

    Raises:
        AssertionError: The session stopped matching its own requests.
        Exception: Anything other than ProtocolError escaped (a bug).
    """
    rng = random.Random(seed)
    frames = [line.frame for n in transcript_names() for line in load(n).of("recv")]
    session: Session[str] = Session()
    rejected = 0
    for n in range(examples):
        kind = n % 3
        if kind == 0:
            raw = rng.randbytes(rng.randrange(200))
        elif kind == 1:
            raw = json.dumps(random_json(rng)).encode()
        else:
            raw = mutate(rng, rng.choice(frames))
        if n % 100 == 0:
            session = Session()  # fresh state now and then, with a subscribe in flight
            session.start_request("store.subscribe", {"query": "q"})
        try:
            session.receive(raw)
        except ProtocolError:
            rejected += 1
        rid, _ = session.start_request("store.all", {})
        assert isinstance(session.receive(json.dumps({"type": "result", "id": rid})), Reply)
        session.data_to_send()
    return rejected


def main() -> None:
    examples = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    if not transcript_dir().is_dir():
        sys.exit(f"transcripts not found at {transcript_dir()} (set NOEX_TRANSCRIPTS)")
    started = time.perf_counter()
    rejected = run(examples, seed)
    elapsed = time.perf_counter() - started
    print(
        f"{examples} examples in {elapsed:.1f} s; {rejected} rejected with ProtocolError; 0 crashes"
    )


if __name__ == "__main__":
    main()
