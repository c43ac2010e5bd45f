"""``identity.jsonl``: built-in identity (users, roles, ACL, ownership, sessions) as recorded."""

from tests.server.replay import replay
from tests.transcripts import load


async def test_identity_transcript() -> None:
    await replay(load("identity"))
