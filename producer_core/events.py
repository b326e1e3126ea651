"""The event bus: everything the UI, the metrics, the trace or a grader needs to know.

An event is ``(t_ms, kind, data)``.  Kinds are dotted names, listed in ``KINDS`` with the
fields each carries; publishers pass exactly those fields.  Subscribers are called
synchronously, in subscription order, at the simulated instant the thing happened; they
must not schedule work or raise (an exception in a subscriber propagates: a bug, not a
condition to hide).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

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
    #         | piggyback (drained because another partition made its broker ready)
    "batch.closed": ("batch_id", "topic", "partition", "reason", "records", "bytes"),
    "batch.drained": ("batch_id", "node", "attempt", "base_sequence"),
    "batch.completed": ("batch_id", "topic", "partition", "base_offset", "records"),
    "batch.failed": ("batch_id", "topic", "partition", "error", "records", "error_type"),
    "batch.retry": ("batch_id", "topic", "partition", "error", "attempt", "backoff_ms"),
    "batch.expired": ("batch_id", "topic", "partition", "error", "records", "error_type"),
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
    # a broker created a topic a metadata request named (auto.create.topics.enable)
    "topic.created": ("topic", "partitions"),
    "broker.stopped": ("broker",),
    "broker.started": ("broker",),
    "broker.slowed": ("broker", "extra_ms"),
    "network.cut": ("broker",),
    "network.restored": ("broker",),
    "leader.elected": ("topic", "partition", "leader", "epoch"),
    "isr.changed": ("topic", "partition", "isr"),
    "fault.injected": ("op", "detail"),
    # producer lifecycle (idempotent producer id; the lab's live reconfigure)
    "producer.init": ("producer_id", "epoch"),
    # a local epoch bump (TransactionManager.bumpIdempotentEpochAndResetIdIfNeeded): no
    # InitProducerId round trip, the producer raises its own epoch and resets sequences
    "producer.epoch_bumped": ("producer_id", "epoch", "reason"),
    # keys Kafka does not know: AbstractConfig.logUnused's line, in ``message``
    "config.unused": ("keys", "message"),
    "producer.reconfigured": ("generation", "changed"),
    # a user callback or an interceptor raised; Kafka logs it and carries on
    "callback.failed": ("topic", "source", "error"),
}


@dataclass(frozen=True, slots=True)
class Event:
    t_ms: int
    kind: str
    data: dict[str, Any]

    def __iter__(self):
        # The module docstring calls an event ``(t_ms, kind, data)``: let it unpack so.
        return iter((self.t_ms, self.kind, self.data))

    def __getitem__(self, key: int | str) -> Any:
        """``event[0..2]`` as the tuple above; ``event["kind"]``, ``event["t_ms"]``,
        ``event["data"]``, or a data field by name (``event["reason"]``)."""
        if isinstance(key, int):
            return (self.t_ms, self.kind, self.data)[key]
        if key in ("t_ms", "kind", "data"):
            return getattr(self, key)
        return self.data[key]

    def line(self) -> str:
        """One fixed-column trace line, e.g. ``   1205 batch.closed   batch_id=3 reason=linger``."""
        fields = " ".join(f"{k}={v}" for k, v in self.data.items())
        return f"{self.t_ms:>9} {self.kind:<18} {fields}".rstrip()


class EventBus:
    """Synchronous publish/subscribe stamped with the simulation clock."""

    def __init__(self, clock) -> None:
        self._clock = clock
        self._subscribers: list[Callable[[Event], None]] = []
        self._kinds: list[frozenset[str] | None] = []  # parallel to _subscribers; None = all
        self._wanted_all = 0  # subscribers that want every kind
        self._wanted: dict[str, int] = {}  # kind -> subscribers that asked for it by name
        # (callback, kinds) pairs as publish() walks them: a tuple made on (un)subscribe,
        # so a callback that (un)subscribes during a publish does not change that walk.
        self._pairs: tuple[tuple[Callable[[Event], None], frozenset[str] | None], ...] = ()

    def subscribe(self, callback: Callable[[Event], None],
                  kinds: Iterable[str] | None = None) -> Callable[[], None]:
        """Call ``callback(event)`` for every event (or only those ``kinds``); returns a
        function that unsubscribes.  Subscribing to a few kinds keeps per-record hot
        paths (``record.appended``) free of event objects."""
        wanted = None if kinds is None else frozenset(kinds)
        if wanted is not None:
            unknown = sorted(k for k in wanted if k not in KINDS)
            if unknown:
                raise ValueError(f"unknown event kind(s) {unknown}; see events.KINDS")
        self._subscribers.append(callback)
        self._kinds.append(wanted)
        self._count(wanted, +1)
        self._pairs = tuple(zip(self._subscribers, self._kinds))

        def unsubscribe() -> None:
            for i, cb in enumerate(self._subscribers):
                if cb is callback and self._kinds[i] is wanted:
                    del self._subscribers[i]
                    del self._kinds[i]
                    self._count(wanted, -1)
                    self._pairs = tuple(zip(self._subscribers, self._kinds))
                    return

        return unsubscribe

    def unsubscribe_all(self) -> None:
        self._subscribers.clear()
        self._kinds.clear()
        self._wanted_all = 0
        self._wanted.clear()
        self._pairs = ()

    def _count(self, wanted: frozenset[str] | None, delta: int) -> None:
        if wanted is None:
            self._wanted_all += delta
        else:
            for k in wanted:
                self._wanted[k] = self._wanted.get(k, 0) + delta

    @property
    def active(self) -> bool:
        """False when nobody listens: hot paths may skip building events."""
        return bool(self._subscribers)

    def wants(self, kind: str) -> bool:
        """True when some subscriber would receive ``kind`` (cheap: no event is built)."""
        return self._wanted_all > 0 or self._wanted.get(kind, 0) > 0

    def publish(self, kind: str, **data: Any) -> None:
        if not self._subscribers:
            return
        if not self._wanted_all and not self._wanted.get(kind, 0):
            return
        event = Event(self._clock.now_ms, kind, data)
        for cb, wanted in self._pairs:
            if wanted is None or kind in wanted:
                cb(event)
