"""``procedures.jsonl``: register/list/get/call/update/unregister and their errors."""

from tests.server.replay import replay
from tests.transcripts import load


async def test_procedures_transcript() -> None:
    await replay(load("procedures"))
