"""``connection.jsonl``: welcome, server.* ops, id echo, pipelining, 1003, wrong path, 4003, 1009, as the real server."""

from tests.server.replay import replay
from tests.transcripts import load


async def test_connection_transcript() -> None:
    await replay(load("connection"))
