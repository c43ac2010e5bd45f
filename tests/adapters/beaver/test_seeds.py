"""BeaverDB's own examples, run as scripts against the real server with BeaverClient.

The examples are those of beaver-db's roadmap for ``BeaverClient``, typed models and
``as_async()``, with the constructor swapped for ours. Each runs in a fresh Python
process on a fresh server; its output is checked and its stderr must be empty
(``-W default`` also shows the warnings Python hides by default).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.adapters.beaver.server import beaver_executable, running_server

pytestmark = pytest.mark.beaver

ROOT = Path(__file__).resolve().parents[3]

EXAMPLES = """
import asyncio
import sys

from pydantic import BaseModel
from adapters.beaver import BeaverClient, NotSupportedRemotely

class Person(BaseModel):
    name: str
    age: int

db = BeaverClient(base_url=sys.argv[1])

# Dictionaries
users = db.dict("users", model=Person)
users["alice"] = Person(name="Alice", age=30)
alice = users["alice"] # Returns a Person object
print(repr(alice))

# Lists
people = db.list("people", model=Person)
people.push(Person(name="Bob", age=40))
bob = people[0] # Returns a Person object
print(repr(bob))

# Queues
tasks = db.queue("tasks", model=Person)
tasks.put(Person(name="Charlie", age=50), priority=1)
charlie_item = tasks.get()
charlie = charlie_item.data # Returns a Person object
print(repr(charlie))

db.dict("config")["theme"] = "dark"
print(db.dict("config")["theme"])

# as_async(): the same objects, awaited
async def main():
    config = db.dict("config")
    async_config = config.as_async()
    await async_config.set("theme", "light")
    print(await db.dict("config").as_async().get("theme"))
    jobs = db.queue("jobs").as_async()
    try:
        await asyncio.wait_for(jobs.get(), 0.5)
    except TimeoutError:
        print("no job yet")

asyncio.run(main())
db.queue("jobs").put({"job": "report"}, priority=1)
print(asyncio.run(db.queue("jobs").as_async().get()).data)

# Features the REST server does not have
for attempt in (lambda: db.collection("articles"), lambda: db.lock("my_singleton_task", timeout=10, poll_interval=0.5)):
    try:
        with attempt():
            pass
    except TimeoutError:
        print("Task is already running elsewhere.")
    except NotSupportedRemotely as exc:
        print(exc.feature)

db.close()
"""

EXPECTED = [
    "Person(name='Alice', age=30)",
    "Person(name='Bob', age=40)",
    "Person(name='Charlie', age=50)",
    "dark",
    "light",
    "no job yet",
    "{'job': 'report'}",
    "db.collection() (documents and vector search)",
    "db.lock()",
]


@pytest.fixture(scope="module")
def fresh_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server of its own: the examples use fixed structure names."""
    if beaver_executable() is None:
        pytest.skip("BeaverDB virtualenv missing: run scripts/ensure-services to create it")
    with running_server(tmp_path_factory.mktemp("beaver-seeds")) as url:
        yield url


def _run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-W", "default", "-c", script, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_beaver_examples_run_with_beaver_client(fresh_url: str) -> None:
    done = _run(EXAMPLES, fresh_url)
    assert done.stderr == ""
    assert done.returncode == 0
    assert done.stdout.splitlines() == EXPECTED


def test_scripts_that_never_close_exit_silently(fresh_url: str) -> None:
    script = """
import asyncio, sys
from adapters.beaver import AsyncBeaverClient, BeaverClient

db = BeaverClient(sys.argv[1])
db.dict("left-open")["k"] = 1

async def main():
    await db.dict("left-open").as_async().set("k", 2)
    native = AsyncBeaverClient(sys.argv[1])
    print(await native.dict("left-open").get("k"))
    await native.queue("left-open").put("x", 1)
    print((await native.queue("left-open").get()).data)
    await native.close()

asyncio.run(main())
print(db.dict("left-open")["k"])
"""
    done = _run(script, fresh_url)
    assert done.stderr == ""
    assert done.stdout.splitlines() == ["2", "x", "2"]
