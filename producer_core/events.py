"""The event bus: everything the UI, the metrics, the trace or a grader needs to know.

An event is ``(t_ms, kind, data)``.  Kinds are dotted names, listed in ``KINDS`` with the
fields each carries; publishers pass exactly those fields.  Subscribers are called
synchronously, in subscription order, at the simulated instant the thing happened; they
must not schedule work or raise (an exception in a subscriber propagates: a bug, not a
condition to hide).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

# kind -> the data fields it carries (documentation and a check for tests).
KINDS: dict[str, tuple[str, ...]] = {
    # producer: application side
    "record.appended": ("topic", "partition", "batch_id", "size", "key"),
    "send.blocked": ("thread", "topic", "requested"),
    "send.unblocked": ("thread", "waited_ms"),
    "send.failed": ("topic", "error"),
    # batches
    "batch.created": ("batch_id", "topic", "partition", "capacity"),
    # reason: full | linger | flush | memory-pressure | close | retry-backoff | backlog
    "batch.closed": ("batch_id", "topic", "partition", "reason", "records", "bytes"),
    "batch.drained": ("batch_id", "node", "attempt", "base_sequence"),
    "batch.completed": ("batch_id", "topic", "partition", "base_offset", "records"),
    "batch.failed": ("batch_id", "topic", "partition", "error"),
    "batch.retry": ("batch_id", "topic", "partition", "error", "attempt", "backoff_ms"),
    "batch.expired": ("batch_id", "topic", "partition", "error"),
    "batch.split": ("batch_id", "into"),
    # sender / network
    "request.sent": ("request_id", "node", "batches", "bytes", "records"),
    "request.completed": ("request_id", "node", "latency_ms", "errors"),
    "request.failed": ("request_id", "node", "error"),
    # buffer pool
    "pool.allocate": ("size", "available"),
    "pool.free": ("size", "available"),
    "pool.wait": ("requested", "available", "waiters"),
    "pool.exhausted": ("requested", "available", "total"),
    # metadata and cluster
    "metadata.request": ("node", "topics"),
    "metadata.update": ("version", "leaders"),
    "broker.stopped": ("broker",),
    "broker.started": ("broker",),
    "broker.slowed": ("broker", "extra_ms"),
    "network.cut": ("broker",),
    "network.restored": ("broker",),
    "leader.elected": ("topic", "partition", "leader", "epoch"),
    "fault.injected": ("op", "detail"),
}


@dataclass(frozen=True, slots=True)
class Event:
    t_ms: int
    kind: str
    data: dict[str, Any]

    def line(self) -> str:
        """One fixed-column trace line, e.g. ``   1205 batch.closed   batch_id=3 reason=linger``."""
        fields = " ".join(f"{k}={v}" for k, v in self.data.items())
        return f"{self.t_ms:>9} {self.kind:<18} {fields}".rstrip()


class EventBus:
    """Synchronous publish/subscribe stamped with the simulation clock."""

    def __init__(self, clock) -> None:
        self._clock = clock
        self._subscribers: list[Callable[[Event], None]] = []

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        """Call ``callback(event)`` for every event; returns a function that unsubscribes."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    @property
    def active(self) -> bool:
        """False when nobody listens: hot paths may skip building events."""
        return bool(self._subscribers)

    def publish(self, kind: str, **data: Any) -> None:
        if not self._subscribers:
            return
        event = Event(self._clock.now_ms, kind, data)
        for cb in tuple(self._subscribers):
            cb(event)
