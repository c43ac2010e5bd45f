"""The shared Collection layer's batch paths: keys, record building, insert_many encoding."""

from __future__ import annotations

import dataclasses
import pickle
import uuid
from datetime import UTC, datetime

import pytest

from adapters._keys import uuid4_strings
from adapters._records import Record, make_record

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


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


def test_make_record_is_indistinguishable_from_the_constructor() -> None:
    data = {"a": [1, 2]}
    built = make_record("k", data, 3, NOW, NOW)
    plain = Record("k", data, 3, NOW, NOW)
    assert type(built) is Record
    assert built == plain
    assert hash(make_record("k", 1, 3, NOW, NOW)) == hash(Record("k", 1, 3, NOW, NOW))
    assert repr(built) == repr(plain)
    assert (built.key, built.data, built.version, built.created_at, built.updated_at) == (
        "k",
        data,
        3,
        NOW,
        NOW,
    )
    assert pickle.loads(pickle.dumps(built)) == plain
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.version = 4  # type: ignore[misc]
