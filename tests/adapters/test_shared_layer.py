"""The shared Collection layer's batch paths: keys, record building, insert_many encoding."""

from __future__ import annotations

import uuid

import pytest

from adapters._keys import uuid4_strings


@pytest.mark.parametrize("count", [1, 2, 3, 17, 1000])
def test_uuid4_strings_are_distinct_canonical_version_4_uuids(count: int) -> None:
    keys = uuid4_strings(count)
    assert len(keys) == count
    assert len(set(keys)) == count
    for key in keys:
        parsed = uuid.UUID(key)
        assert str(parsed) == key
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122


def test_uuid4_strings_of_nothing_is_empty() -> None:
    assert uuid4_strings(0) == []
