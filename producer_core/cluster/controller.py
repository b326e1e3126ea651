"""The controller: replica assignment, leaders, leader epochs and in-sync replica sets.

Kafka's rules we follow:

* Replicas of partition ``p`` are placed round-robin over the brokers (``p``'s preferred
  leader is the ``p``-th broker), the first replica is the preferred leader.
* When a broker stops, the controller notices only after ``election_delay_ms`` (session
  timeout / controlled-shutdown time).  It then removes the broker from every ISR and,
  for each partition the broker led, elects the first *live* replica that is in the ISR
  and bumps the leader epoch.  No live ISR member: the partition has no leader (no
  unclean election), and its ISR keeps its last member, as Kafka does.
* A broker that starts again catches up (``catch_up_ms``) before it rejoins the ISR of
  the partitions it replicates; a leaderless partition whose ISR member comes back gets
  that member as leader at once.  Leadership does not move back by itself (Kafka's
  automatic preferred-leader rebalance runs every 5 minutes; call ``elect_leader``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from producer_core.protocol import TopicPartition

if TYPE_CHECKING:  # pragma: no cover
    from producer_core.cluster.mock import MockCluster


@dataclass(slots=True)
class PartitionState:
    topic: str
    partition: int
    replicas: tuple[int, ...]
    leader: int | None
    leader_epoch: int = 0
    isr: list[int] = field(default_factory=list)

    def copy(self) -> PartitionState:
        return PartitionState(self.topic, self.partition, self.replicas, self.leader,
                              self.leader_epoch, list(self.isr))


class Controller:
    """Owns the authoritative partition state; brokers and metadata read it."""

    def __init__(self, cluster: MockCluster, topics: dict[str, int], broker_ids: list[int],
                 replication_factor: int, election_delay_ms: int) -> None:
        self._cluster = cluster
        self.election_delay_ms = election_delay_ms
        self.partitions: dict[TopicPartition, PartitionState] = {}
        self.isr_listeners: list[Callable[[TopicPartition], None]] = []
        n = len(broker_ids)
        for topic in sorted(topics):
            for p in range(topics[topic]):
                replicas = tuple(broker_ids[(p + i) % n] for i in range(replication_factor))
                self.partitions[TopicPartition(topic, p)] = PartitionState(
                    topic, p, replicas, replicas[0], 0, list(replicas))

    def add_topic(self, topic: str, partitions: int, broker_ids: list[int],
                  replication_factor: int) -> list[TopicPartition]:
        """A new topic's partitions, placed as the initial ones (replicas round the
        brokers, the first replica leads)."""
        n = len(broker_ids)
        added = []
        for p in range(partitions):
            replicas = tuple(broker_ids[(p + i) % n] for i in range(replication_factor))
            tp = TopicPartition(topic, p)
            self.partitions[tp] = PartitionState(topic, p, replicas, replicas[0], 0,
                                                 list(replicas))
            added.append(tp)
        return added

    # ---- reads -------------------------------------------------------------------------

    def controller_id(self) -> int | None:
        """Lowest live broker id (combined KRaft mode: a broker also runs the controller)."""
        live = [b for b, broker in sorted(self._cluster.brokers.items()) if broker.up]
        return live[0] if live else None

    def state(self, tp: TopicPartition) -> PartitionState | None:
        return self.partitions.get(tp)

    # ---- transitions -------------------------------------------------------------------

    def _isr_changed(self, tp: TopicPartition) -> None:
        st = self.partitions[tp]
        self._cluster._publish("isr.changed", topic=tp.topic, partition=tp.partition,
                               isr=list(st.isr))
        for listener in tuple(self.isr_listeners):
            listener(tp)

    def _set_leader(self, tp: TopicPartition, leader: int | None) -> None:
        st = self.partitions[tp]
        old = st.leader
        st.leader = leader
        st.leader_epoch += 1
        self._cluster._publish("leader.elected", topic=tp.topic, partition=tp.partition,
                               leader=leader, epoch=st.leader_epoch)
        self._cluster._leader_changed(tp, old)
        if leader is not None:
            # Live replicas outside the ISR can now fetch from the new leader.
            for r in st.replicas:
                if r not in st.isr and self._cluster.brokers[r].up:
                    self._cluster._schedule_catch_up(r)

    def broker_stopped(self, broker: int, incarnation: int) -> None:
        """Called ``election_delay_ms`` after a stop: fence the broker (if still down)."""
        b = self._cluster.brokers[broker]
        if b.up or b.incarnation != incarnation:
            return  # it came back before the controller acted
        for tp, st in self.partitions.items():
            if broker not in st.replicas:
                continue
            live_isr = [r for r in st.isr if r != broker and self._cluster.brokers[r].up]
            if st.leader == broker:
                if live_isr:
                    st.isr = live_isr
                    self._set_leader(tp, live_isr[0])
                    self._isr_changed(tp)
                else:
                    # Kafka keeps the last ISR member recorded; the partition goes offline.
                    self._set_leader(tp, None)
            elif broker in st.isr and len(st.isr) > 1:
                st.isr = [r for r in st.isr if r != broker]
                self._isr_changed(tp)

    def broker_started(self, broker: int) -> None:
        """A started broker leads partitions left without a leader whose ISR it is in,
        and catches up elsewhere before rejoining the ISR."""
        for tp, st in self.partitions.items():
            if st.leader is None and broker in st.isr:
                self._set_leader(tp, broker)
        self._cluster._schedule_catch_up(broker)

    def caught_up(self, broker: int, incarnation: int) -> None:
        """The broker has fetched everything: it rejoins the ISR where a leader exists."""
        b = self._cluster.brokers[broker]
        if not b.up or b.incarnation != incarnation:
            return
        for tp, st in self.partitions.items():
            if broker in st.replicas and broker not in st.isr and st.leader is not None:
                st.isr.append(broker)
                st.isr.sort(key=st.replicas.index)
                self._isr_changed(tp)

    def elect_leader(self, tp: TopicPartition, broker: int | None = None) -> int:
        """Move leadership: to ``broker`` if given (it must be a live ISR member), else to
        the preferred replica, or — when it already leads — the next live ISR member."""
        st = self.partitions[tp]
        live_isr = [r for r in st.isr if self._cluster.brokers[r].up]
        if broker is not None:
            if broker not in live_isr:
                raise ValueError(f"broker {broker} is not a live in-sync replica of {tp} "
                                 f"(ISR {st.isr})")
            target = broker
        elif not live_isr:
            raise ValueError(f"{tp} has no live in-sync replica to elect")
        elif st.replicas[0] in live_isr and st.replicas[0] != st.leader:
            target = st.replicas[0]
        elif st.leader in live_isr and len(live_isr) > 1:
            target = live_isr[(live_isr.index(st.leader) + 1) % len(live_isr)]
        else:
            target = live_isr[0]
        self._set_leader(tp, target)
        return target
