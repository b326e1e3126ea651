"""A raw client for the mock cluster: send requests by hand and read the answers.

Handy to explore the broker's rules without a producer in the way (a lesson can show a
``NOT_LEADER_OR_FOLLOWER`` answer and its KIP-951 leader hint directly), and it is what
the cluster's own tests drive.
"""

from __future__ import annotations

from random import Random
from typing import Any

from producer_core.cluster.mock import MockCluster
from producer_core.events import EventBus
from producer_core.protocol import (
    InitProducerIdRequest,
    MetadataRequest,
    ProduceRequest,
    TopicPartition,
)
from producer_core.scheduler import Scheduler


class RawClient:
    """A seeded cluster on its own scheduler plus a recorder of ``(time, response)`` per
    request id.  ``trace`` collects every cluster event."""

    def __init__(self, seed: int = 1, **cluster_kwargs: Any) -> None:
        self.sched = Scheduler()
        self.events = EventBus(self.sched.clock)
        self.trace: list = []
        self.events.subscribe(self.trace.append)
        cluster_kwargs.setdefault("topics", {"orders": 6})
        self.cluster = MockCluster(scheduler=self.sched, events=self.events,
                                   rng=Random(seed), **cluster_kwargs)
        self.responses: dict[int, tuple[int, Any]] = {}
        self._rid = 0

    def _record(self, rid: int):
        return lambda r: self.responses.__setitem__(rid, (self.sched.now_ms, r))

    def produce(self, node: int, batches: dict[TopicPartition, bytes], acks: int = -1,
                timeout_ms: int = 30_000) -> int:
        """Send one ProduceRequest; returns its request id."""
        self._rid += 1
        size = sum(len(b) for b in batches.values()) + 60
        self.cluster.send(node, ProduceRequest(self._rid, acks, timeout_ms, dict(batches), size),
                          self._record(self._rid))
        return self._rid

    def metadata(self, node: int, topics: tuple[str, ...] | None = None) -> int:
        self._rid += 1
        self.cluster.send(node, MetadataRequest(self._rid, topics), self._record(self._rid))
        return self._rid

    def init_producer_id(self, node: int) -> int:
        self._rid += 1
        self.cluster.send(node, InitProducerIdRequest(self._rid), self._record(self._rid))
        return self._rid

    def run(self, ms: int) -> None:
        """Advance virtual time by ``ms``."""
        self.sched.run_until(self.sched.now_ms + ms)

    def part(self, rid: int, tp: TopicPartition):
        """The PartitionResponse for ``tp`` in the answer to request ``rid``."""
        return self.responses[rid][1].partitions[tp]
