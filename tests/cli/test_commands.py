"""Every data command against every backend, with exit codes and messages."""

from __future__ import annotations

import json
from pathlib import Path

from .helpers import Target, cli, seed

PEOPLE = [
    ("alice", {"name": "Alice", "role": "admin", "age": 31}),
    ("bob", {"name": "Bob", "role": "user", "age": 25}),
    ("carol", {"name": "Carol", "role": "user", "age": 40}),
]


def test_put_get_update_rm_round_trip(target: Target) -> None:
    put = cli("put", "users", "alice", '{"name": "Alice"}', *target.args())
    assert put.code == 0, put.err
    (rec,) = put.lines()
    assert (rec["key"], rec["version"], rec["data"]) == ("alice", 1, {"name": "Alice"})
    assert rec["created_at"].endswith("Z")

    replaced = cli("put", "users", "alice", "-", *target.args(), input='{"name": "Al"}')
    assert replaced.lines()[0]["data"] == {"name": "Al"}
    assert replaced.lines()[0]["version"] == 2

    generated = cli("put", "users", '{"name": "Anon"}', *target.args())
    assert generated.code == 0
    assert len(generated.lines()[0]["key"]) == 36

    upd = cli("update", "users", "alice", '{"role": "admin"}', "--if-version", "2", *target.args())
    assert upd.code == 0, upd.err
    assert upd.lines()[0]["data"] == {"name": "Al", "role": "admin"}

    stale = cli("update", "users", "alice", '{"role": "x"}', "--if-version", "2", *target.args())
    assert stale.code == 4
    assert "version 3" in stale.err

    got = cli("get", "users", "alice", *target.args())
    assert got.lines()[0]["version"] == 3

    assert cli("rm", "users", "alice", *target.args()).code == 0
    missing = cli("get", "users", "alice", *target.args())
    assert (missing.code, missing.out) == (1, "")
    assert "alice" in missing.err
    assert cli("rm", "users", "alice", *target.args()).code == 1
    assert cli("update", "users", "alice", "{}", *target.args()).code == 1


def test_find_count_and_collections(target: Target) -> None:
    seed(target, "people", PEOPLE)
    seed(target, "other", [("x", {"v": 1})])
    found = cli("find", "people", '{"role": "user"}', "--order-by", "-age", *target.args())
    assert found.code == 0, found.err
    assert [r["key"] for r in found.lines()] == ["carol", "bob"]
    limited = cli("find", "people", "--order-by", "age", "--limit", "2", *target.args())
    assert [r["key"] for r in limited.lines()] == ["bob", "alice"]
    everything = cli("find", "people", *target.args())
    assert [r["key"] for r in everything.lines()] == ["alice", "bob", "carol"]

    assert cli("count", "people", *target.args()).out == "3\n"
    assert cli("count", "people", '{"age": {"$gte": 31}}', *target.args()).out == "2\n"

    listed = cli("collections", *target.args())
    assert listed.lines() == [
        {"collection": "other", "records": 1},
        {"collection": "people", "records": 3},
    ]


def test_usage_errors_name_the_bad_argument(target: Target) -> None:
    bad_json = cli("find", "people", '{"age": {"$gt": 1}', *target.args())
    assert bad_json.code == 2
    assert "FILTER_JSON" in bad_json.err
    assert "column 19" in bad_json.err
    bad_op = cli("count", "people", '{"age": {"$near": 1}}', *target.args())
    assert bad_op.code == 2
    assert "$near" in bad_op.err
    not_object = cli("put", "people", "k", "[1, 2]", *target.args())
    assert not_object.code == 2
    assert "JSON" in not_object.err
    assert "expected a JSON object" in not_object.err
    bad_version = cli("update", "people", "k", "{}", "--if-version", "0", *target.args())
    assert bad_version.code == 2
    assert "--if-version" in bad_version.err


def test_export_then_import_round_trips(target: Target, tmp_path: Path) -> None:
    seed(target, "people", PEOPLE)
    dump = tmp_path / "people.jsonl"
    exported = cli("export", "people", str(dump), "--batch-size", "2", *target.args())
    assert exported.code == 0, exported.err
    lines = [json.loads(line) for line in dump.read_text().splitlines()]
    assert [(r["key"], r["data"]) for r in lines] == PEOPLE
    assert "exported 3" in exported.err

    to_stdout = cli("export", "people", *target.args())
    assert [r["key"] for r in to_stdout.lines()] == ["alice", "bob", "carol"]

    imported = cli("import", "copy", str(dump), "--batch-size", "2", *target.args())
    assert imported.code == 0, imported.err
    again = cli("export", "copy", *target.args())
    assert [(r["key"], r["data"]) for r in again.lines()] == PEOPLE

    clash = cli("import", "copy", str(dump), *target.args())
    assert clash.code == 4
    assert "alice" in clash.err
    skipped = cli("import", "copy", str(dump), "--on-conflict", "skip", *target.args())
    assert "skipped 3" in skipped.err

    plain = cli("import", "plain", *target.args(), input='{"a": 1}\n\n{"a": 2}\n')
    assert plain.code == 0, plain.err
    assert cli("count", "plain", '{"a": {"$in": [1, 2]}}', *target.args()).out == "2\n"

    broken = cli("import", "plain", *target.args(), input='{"a": 1}\n{"a": \n')
    assert broken.code == 2
    assert "line 2" in broken.err


def test_missing_file_is_a_usage_error(target: Target, tmp_path: Path) -> None:
    result = cli("import", "x", str(tmp_path / "nope.jsonl"), *target.args())
    assert result.code == 2
    assert "FILE" in result.err
    assert "nope.jsonl" in result.err
