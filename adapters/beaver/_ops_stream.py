"""Operation builders for queues and logs (see :mod:`adapters.beaver._ops`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from adapters.beaver._errors import (
    BadRequest,
    BeaverError,
    NotSupportedRemotely,
    QueueEmpty,
    RemoteTimeout,
    UnsupportedValue,
)
from adapters.beaver._models import Codec, FieldIndex, LogEntry, QueueItem
from adapters.beaver._ops import epoch, none, number
from adapters.beaver._wire import Call, Request, check_name, encode_body, path_segment, target

__all__ = ["LogOps", "Order", "QueueGetPlan", "QueueOps"]

T = TypeVar("T")
Order = Literal["ASC", "DESC"]


class QueueOps(Generic[T]):
    """Calls for ``/queues/{name}``."""

    __slots__ = ("base", "codec", "name")

    def __init__(self, name: str, codec: Codec[T]) -> None:
        self.name = check_name("queue", name)
        self.base = "queues/" + path_segment(name)  # type: ignore[operator]  # checked above
        self.codec = codec

    def item(self, raw: Any) -> QueueItem[T]:
        """Decode a ``{priority, timestamp, data}`` object."""
        try:
            priority, timestamp, data = raw["priority"], raw["timestamp"], raw["data"]
        except (TypeError, KeyError) as exc:
            raise UnsupportedValue(f"unexpected queue item from the server: {raw!r}") from exc
        return QueueItem(float(priority), float(timestamp), self.codec.decode(data))

    def put(self, data: T, priority: float) -> Call[None]:
        """``put(data, priority)``: a smaller priority comes out first."""
        fields = {"data": self.codec.encode(data), "priority": number("priority", priority)}
        return Call(Request("POST", target(self.base, "put"), encode_body(fields)), none)

    def peek(self) -> Call[QueueItem[T] | None]:
        """``peek()``: the next item without removing it, ``None`` when empty."""
        return Call(
            Request("GET", target(self.base, "peek")),
            lambda raw: None if raw is None else self.item(raw),
        )

    def get_once(self, block: bool, wait: float | None) -> Call[QueueItem[T]]:
        """One ``POST /get``: non-blocking, or blocking for at most ``wait`` seconds."""
        fields: dict[str, Any] = {"block": False} if not block else {"block": True, "timeout": wait}

        def hook(error: str, message: str) -> BeaverError | None:
            if error == "IndexError":
                return QueueEmpty(f"queue {self.name!r} is empty")
            if error == "TimeoutError":
                return RemoteTimeout(f"no item in queue {self.name!r} before the timeout")
            return None

        return Call(Request("POST", target(self.base, "get"), encode_body(fields)), self.item, hook)

    def count(self) -> Call[int]:
        """``count()``: number of waiting items."""
        return Call(Request("GET", target(self.base, "count")), int)

    def clear(self) -> Call[None]:
        """``clear()``: remove every item."""
        return Call(Request("POST", target(self.base, "clear")), none)


@dataclass(slots=True)
class QueueGetPlan:
    """The long-poll loop behind a blocking ``queue.get``, as a sans-I/O plan.

    Each request carries a server-side ``timeout`` no longer than ``chunk``, which is
    shorter than the HTTP read timeout: the server never keeps polling for a client
    that gave up, so an abandoned call cannot swallow an item later. A call with no
    timeout (block forever) is a sequence of such bounded polls.
    """

    block: bool
    deadline: float | None
    chunk: float

    @classmethod
    def start(cls, block: bool, timeout: float | None, chunk: float, now: float) -> QueueGetPlan:
        """Plan a ``get(block, timeout)`` starting at monotonic time ``now``."""
        if timeout is not None and number("timeout", timeout) < 0:
            raise BadRequest(f"timeout must be >= 0, got {timeout!r}")
        return cls(block, None if timeout is None else now + timeout, chunk)

    def wait(self, now: float) -> float | None:
        """Server-side timeout for the next poll (``None`` when not blocking)."""
        if not self.block:
            return None
        if self.deadline is None:
            return self.chunk
        return max(0.0, min(self.chunk, self.deadline - now))

    def again(self, now: float) -> bool:
        """After a poll timed out: whether to poll again."""
        return self.block and (self.deadline is None or now < self.deadline)


class LogOps(Generic[T]):
    """Calls for ``/logs/{name}``."""

    __slots__ = ("base", "codec", "name")

    def __init__(self, name: str, codec: Codec[T]) -> None:
        self.name = check_name("log", name)
        self.base = "logs/" + path_segment(name)  # type: ignore[operator]  # checked above
        self.codec = codec

    def log(self, data: T, timestamp: float | datetime | None = None) -> Call[None]:
        """``log(data, timestamp)``: append an entry (server time when ``None``)."""
        fields: dict[str, Any] = {"data": self.codec.encode(data)}
        if timestamp is not None:
            stamp = epoch("timestamp", timestamp)
            if stamp == 0:
                # The server treats a falsy timestamp as "now"; refuse rather than rewrite.
                raise BadRequest("timestamp 0 cannot be stored (the server reads it as 'now')")
            fields["timestamp"] = stamp
        return Call(Request("POST", target(self.base, "log"), encode_body(fields)), none)

    def range(
        self,
        start: float | datetime | None = None,
        end: float | datetime | None = None,
        limit: int | None = None,
        where: Any = None,
        order: Order = "ASC",
        offset: int | None = None,
    ) -> Call[list[LogEntry[T]]]:
        """``range(...)``: entries with ``start <= timestamp <= end``, paginated."""
        if where is not None:
            raise NotSupportedRemotely(
                "log.range(where=...)", "filter the returned entries client-side"
            )
        query: list[tuple[str, Any]] = []
        if start is not None:
            query.append(("start", epoch("start", start)))
        if end is not None:
            query.append(("end", epoch("end", end)))
        for label, count in (("limit", limit), ("offset", offset)):
            if count is not None:
                if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                    raise BadRequest(f"{label} must be an int >= 0, got {count!r}")
                query.append((label, count))
        if order not in ("ASC", "DESC"):
            raise BadRequest(f"order must be 'ASC' or 'DESC', got {order!r}")
        if order != "ASC":
            query.append(("order", order))

        def decode(raw: Any) -> list[LogEntry[T]]:
            return [LogEntry(float(e["timestamp"]), self.codec.decode(e["data"])) for e in raw]

        return Call(Request("GET", target(self.base, "range", query=query)), decode)

    def indexes(self) -> Call[list[FieldIndex]]:
        """``indexes()``: the field indexes declared in-process on this log."""

        def decode(raw: Any) -> list[FieldIndex]:
            return [
                FieldIndex(
                    str(i["field"]), bool(i["declared"]), bool(i["complete"]), int(i["rows"])
                )
                for i in raw
            ]

        return Call(Request("GET", target(self.base, "indexes")), decode)

    def count(self) -> Call[int]:
        """``count()``: number of entries."""
        return Call(Request("GET", target(self.base, "count")), int)

    def clear(self) -> Call[None]:
        """``clear()``: remove every entry."""
        return Call(Request("POST", target(self.base, "clear")), none)
