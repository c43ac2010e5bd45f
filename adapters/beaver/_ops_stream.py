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
from adapters.beaver._values import json_value
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
        fields = {
            "data": json_value(self.codec.encode(data)),
            "priority": number("priority", priority),
        }
        return Call(Request("POST", target(self.base, "put"), encode_body(fields)), none)

    def peek(self) -> Call[QueueItem[T] | None]:
        """``peek()``: the next item without removing it, ``None`` when empty."""
        return Call(
            Request("GET", target(self.base, "peek")),
            lambda raw: None if raw is None else self.item(raw),
        )

    def take(self) -> Call[QueueItem[T]]:
        """One non-blocking ``POST /get``: the next item, or :class:`QueueEmpty`.

        The server is never asked to wait: a blocking wait left running on the
        server after its caller gave up would take the next item put, and nobody
        would receive it. Blocking gets are a series of these (see
        :class:`QueueGetPlan`); if the caller is cancelled while one is on the wire
        and it took an item, ``undo`` puts that item back with its priority.
        """

        def hook(error: str, message: str) -> BeaverError | None:
            if error == "IndexError":
                return QueueEmpty(f"queue {self.name!r} is empty")
            return None

        def undo(raw: Any) -> Request | None:
            fields = {"data": raw["data"], "priority": raw["priority"]}
            return Request("POST", target(self.base, "put"), encode_body(fields))

        body = encode_body({"block": False})
        return Call(Request("POST", target(self.base, "get"), body), self.item, hook, undo)

    def timed_out(self, timeout: float | None) -> RemoteTimeout:
        """The error of a blocking ``get`` that saw no item within ``timeout``."""
        return RemoteTimeout(f"no item in queue {self.name!r} within {timeout} s")

    def count(self) -> Call[int]:
        """``count()``: number of waiting items."""
        return Call(Request("GET", target(self.base, "count")), int)

    def clear(self) -> Call[None]:
        """``clear()``: remove every item."""
        return Call(Request("POST", target(self.base, "clear")), none)


@dataclass(slots=True)
class QueueGetPlan:
    """When a blocking ``queue.get`` polls again, as a sans-I/O plan.

    Polls are non-blocking gets (:meth:`QueueOps.take`). After an empty poll the
    caller pauses, first ``first_pause`` seconds, then twice as long each time up
    to ``max_pause`` (the client's ``queue_poll``), never past the deadline, and
    polls once more at the deadline before giving up.
    """

    block: bool
    deadline: float | None
    max_pause: float
    next_pause: float

    @classmethod
    def start(
        cls, block: bool, timeout: float | None, max_pause: float, now: float
    ) -> QueueGetPlan:
        """Plan a ``get(block, timeout)`` starting at monotonic time ``now``.

        Raises:
            BadRequest: ``timeout`` is negative or not a number.
        """
        if timeout is not None and number("timeout", timeout) < 0:
            raise BadRequest(f"timeout must be >= 0, got {timeout!r}")
        deadline = None if timeout is None else now + timeout
        return cls(block, deadline, max_pause, min(_FIRST_PAUSE, max_pause))

    def pause(self, now: float) -> float | None:
        """After an empty poll at ``now``: seconds to wait before the next, ``None`` to stop."""
        if not self.block or (self.deadline is not None and now >= self.deadline):
            return None
        pause = self.next_pause
        self.next_pause = min(pause * 2, self.max_pause)
        if self.deadline is not None:
            pause = min(pause, self.deadline - now)
        return pause


_FIRST_PAUSE = 0.02


class LogOps(Generic[T]):
    """Calls for ``/logs/{name}``."""

    __slots__ = ("base", "codec", "name")

    def __init__(self, name: str, codec: Codec[T]) -> None:
        self.name = check_name("log", name)
        self.base = "logs/" + path_segment(name)  # type: ignore[operator]  # checked above
        self.codec = codec

    def log(self, data: T, timestamp: float | datetime | None = None) -> Call[None]:
        """``log(data, timestamp)``: append an entry (server time when ``None``)."""
        fields: dict[str, Any] = {"data": json_value(self.codec.encode(data))}
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
