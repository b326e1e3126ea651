"""What the producer knows about the cluster (Kafka's ``ProducerMetadata``).

The producer keeps leaders and partition counts only for the topics it uses:

* A topic is added on first ``send()``; until its partitions are known the send waits
  (up to ``max.block.ms``) while the sender fetches metadata.
* A refresh is requested after metadata errors (``NOT_LEADER_OR_FOLLOWER``, unknown
  leader, disconnects) and otherwise every ``metadata.max.age.ms``.
* Failed or repeated refreshes back off exponentially from ``retry.backoff.ms`` to
  ``retry.backoff.max.ms`` with ±20 % jitter (KIP-580, as for produce retries).
* A topic unused for ``metadata.max.idle.ms`` is forgotten.
* Leader epochs only move forward: metadata carrying an older epoch than the cached one
  (a stale broker) does not replace the cached leader.  KIP-951 leader hints in produce
  responses update a single partition the same way.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from random import Random
from typing import Any

from producer_core.protocol import ErrorCode, MetadataResponse, PartitionMetadata, TopicPartition


def exponential_backoff(base_ms: int, max_ms: int, attempts: int, rng: Random,
                        jitter: float = 0.2, multiplier: int = 2) -> int:
    """Kafka's ``ExponentialBackoff`` (KIP-580): ``base × multiplier^attempts`` times a seeded
    random factor in ``[1 - jitter, 1 + jitter)``, and only then capped at ``max_ms``.

    Capping after the jitter is what keeps every wait at or below the maximum. With
    ``base_ms >= max_ms`` Kafka waits a constant ``max_ms`` and draws no random number.
    """
    if not 0.0 <= jitter <= 1.0:
        raise ValueError("jitter must be between 0 and 1")
    initial = min(base_ms, max_ms)
    if initial <= 0:
        return 0
    if max_ms <= initial:
        return initial
    # The exponent stops growing once the term reaches the max (Kafka's expMax), so a large
    # attempt count never overflows.
    exp_max = math.log(max_ms / initial) / math.log(multiplier)
    term = initial * multiplier ** min(attempts, exp_max)
    factor = rng.uniform(1.0 - jitter, 1.0 + jitter) if jitter > 0 else 1.0
    return min(int(term * factor), max_ms)


class _TopicMeta:
    __slots__ = ("error", "last_used_ms", "partitions")

    def __init__(self, now_ms: int) -> None:
        self.partitions: list[PartitionMetadata] | None = None
        self.last_used_ms = now_ms
        self.error: ErrorCode | None = None


class ProducerMetadata:
    """Leaders and partition counts for the producer's topics, with refresh timing."""

    def __init__(self, *, metadata_max_age_ms: int, metadata_max_idle_ms: int,
                 retry_backoff_ms: int, retry_backoff_max_ms: int, rng: Random,
                 events: Any = None) -> None:
        self.max_age_ms = metadata_max_age_ms
        self.max_idle_ms = metadata_max_idle_ms
        self.backoff_ms = retry_backoff_ms
        self.backoff_max_ms = retry_backoff_max_ms
        self._rng = rng
        self._events = events
        self._topics: dict[str, _TopicMeta] = {}
        self.brokers: tuple[int, ...] = ()
        self.controller: int | None = None
        self.version = 0
        self.need_update = False
        self.last_refresh_ms = -1  # last attempt (successful or not)
        self.last_successful_refresh_ms = -1
        self._failed_attempts = 0
        self._backoff_until = 0
        self.leaders: dict[TopicPartition, int | None] = {}
        self.leader_epochs: dict[TopicPartition, int] = {}
        self._listeners: list[Callable[[], None]] = []

    # -- topics -------------------------------------------------------------------------

    def add_topic(self, topic: str, now_ms: int) -> None:
        """Start (or keep) tracking ``topic``; a new topic needs a refresh."""
        t = self._topics.get(topic)
        if t is None:
            self._topics[topic] = _TopicMeta(now_ms)
            self.need_update = True
        else:
            t.last_used_ms = now_ms

    def topics(self) -> tuple[str, ...]:
        return tuple(sorted(self._topics))

    def partition_count(self, topic: str) -> int | None:
        t = self._topics.get(topic)
        if t is None or t.partitions is None:
            return None
        return len(t.partitions)

    def partitions_for(self, topic: str) -> list[PartitionMetadata] | None:
        t = self._topics.get(topic)
        return None if t is None else t.partitions

    def topic_error(self, topic: str) -> ErrorCode | None:
        t = self._topics.get(topic)
        return None if t is None else t.error

    def available_partitions(self, topic: str) -> list[int]:
        """Partitions with a known leader (what the sticky partitioner may choose)."""
        t = self._topics.get(topic)
        if t is None or t.partitions is None:
            return []
        leaders = self.leaders
        return [p.partition for p in t.partitions
                if leaders.get(TopicPartition(topic, p.partition)) is not None]

    def leader_for(self, tp: TopicPartition) -> int | None:
        return self.leaders.get(tp)

    # -- refresh timing -----------------------------------------------------------------

    def request_update(self) -> int:
        """Ask for a refresh at the next opportunity; returns the version to wait past."""
        self.need_update = True
        return self.version

    def request_update_for_topic(self, topic: str) -> int:
        """Kafka asks for a partial update naming the topic; we refresh all our topics."""
        return self.request_update()

    def time_to_next_update(self, now_ms: int) -> int:
        """Milliseconds until a metadata request should be sent (0 = now)."""
        allow = max(0, self._backoff_until - now_ms)
        if self.need_update:
            return allow
        if self.last_successful_refresh_ms < 0:
            return allow if self._topics else 2**62
        expire = self.last_successful_refresh_ms + self.max_age_ms - now_ms
        return max(expire, allow, 0)

    def age_ms(self, now_ms: int) -> int:
        """Kafka's ``metadata-age`` metric (in ms here): time since the last refresh."""
        if self.last_successful_refresh_ms < 0:
            return 0
        return now_ms - self.last_successful_refresh_ms

    def add_listener(self, fn: Callable[[], None]) -> None:
        """Call ``fn()`` after every successful update (the producer's metadata waiters)."""
        self._listeners.append(fn)

    # -- updates ------------------------------------------------------------------------

    def failed_update(self, now_ms: int) -> None:
        """A metadata request failed: back off before the next one."""
        self.last_refresh_ms = now_ms
        self._backoff_until = now_ms + exponential_backoff(
            self.backoff_ms, self.backoff_max_ms, self._failed_attempts, self._rng)
        self._failed_attempts += 1

    def update(self, response: MetadataResponse, now_ms: int) -> None:
        """Apply a metadata response; leader epochs never go backwards."""
        self.version += 1
        self.last_refresh_ms = now_ms
        self.last_successful_refresh_ms = now_ms
        self._failed_attempts = 0
        self.brokers = tuple(response.brokers)
        self.controller = response.controller_id
        retry_soon = False
        for name, t in list(self._topics.items()):
            if self.max_idle_ms and now_ms - t.last_used_ms > self.max_idle_ms:
                del self._topics[name]  # metadata.max.idle.ms: forget unused topics
                continue
            err = response.topic_errors.get(name)
            parts = response.topics.get(name)
            if parts is None:
                t.error = err or ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
                retry_soon = True
                continue
            t.error = None
            merged = []
            for pm in parts:
                tp = TopicPartition(name, pm.partition)
                cur_epoch = self.leader_epochs.get(tp, -1)
                if pm.leader_epoch < cur_epoch:
                    # Stale answer: keep what we know (Kafka's leader-epoch check).
                    old = self._find(t.partitions, pm.partition)
                    merged.append(old if old is not None else pm)
                    continue
                self.leader_epochs[tp] = pm.leader_epoch
                self.leaders[tp] = pm.leader
                if pm.leader is None:
                    retry_soon = True
                merged.append(pm)
            t.partitions = merged
        # Kafka keeps asking (with backoff) while a topic or a leader is missing.
        self.need_update = retry_soon
        self._backoff_until = now_ms + (self.backoff_ms if retry_soon else 0)
        if self._events is not None:
            self._events.publish("metadata.update", version=self.version, leaders={
                str(tp): ldr for tp, ldr in sorted(self.leaders.items())})
        for fn in tuple(self._listeners):
            fn()

    @staticmethod
    def _find(parts: list[PartitionMetadata] | None, p: int) -> PartitionMetadata | None:
        if parts is None:
            return None
        for pm in parts:
            if pm.partition == p:
                return pm
        return None

    def update_leader_hint(self, tp: TopicPartition, leader_id: int, leader_epoch: int,
                           now_ms: int) -> bool:
        """KIP-951: a produce response named the new leader; adopt it if it is newer."""
        if leader_epoch <= self.leader_epochs.get(tp, -1):
            return False
        self.leader_epochs[tp] = leader_epoch
        self.leaders[tp] = leader_id
        t = self._topics.get(tp.topic)
        if t is not None and t.partitions is not None:
            t.partitions = [
                PartitionMetadata(pm.topic, pm.partition, leader_id, leader_epoch,
                                  pm.replicas, pm.isr, pm.error)
                if pm.partition == tp.partition else pm
                for pm in t.partitions]
        self.version += 1
        if self._events is not None:
            self._events.publish("metadata.update", version=self.version,
                                 leaders={str(tp): leader_id})
        return True

    def snapshot_leaders(self) -> dict[TopicPartition, int | None]:
        return dict(self.leaders)
