"""``heartbeat.jsonl``: pings, pong echo, 4001 on a missing or stale pong.

The recording used a 400 ms interval; the replay uses 100 ms (the timing
rule, one interval between an unanswered ping and the close, is the same).
"""

from tests.server.replay import replay
from tests.transcripts import load


async def test_heartbeat_transcript() -> None:
    await replay(load("heartbeat"), heartbeat_ms=100)
