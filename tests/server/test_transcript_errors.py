"""``errors.jsonl``: every provokable error code, as the real server."""

from tests.server.replay import replay
from tests.transcripts import load


async def test_errors_transcript() -> None:
    await replay(load("errors"))
