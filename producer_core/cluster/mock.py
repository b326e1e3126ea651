"""``MockCluster``: brokers, topics, partition logs, a controller and a network model.

The producer talks to it only through ``send(node, request, on_response)``; responses
arrive later in simulated time on the shared scheduler.  Faults are methods (and, as data,
``apply_fault``).  Simplifications, stated where learners see them: one producer
connection per broker; replicas share one log per partition (followers are modelled as
acknowledgement *time*, so there is no unclean-leader truncation); the controller is the
lowest live broker (combined KRaft mode) and needs ``election_delay_ms`` to react.
"""

from __future__ import annotations

from collections.abc import Callable
from random import Random
from typing import Any

from producer_core import timemodel
from producer_core.cluster.broker import Broker, MetadataView
from producer_core.cluster.controller import Controller
from producer_core.cluster.faults import FAULT_OPS, FaultError, validate_fault
from producer_core.cluster.network import NetworkModel, due
from producer_core.cluster.partition_log import PartitionLog
from producer_core.protocol import (
    Disconnected,
    ErrorCode,
    InitProducerIdRequest,
    MetadataRequest,
    PartitionMetadata,
    ProduceRequest,
    TopicPartition,
)
from producer_core.scheduler import PRIORITY_NETWORK


class ClusterConfigError(ValueError):
    """Bad cluster settings (brokers, topics, replication); names the field and rule."""


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


class MockCluster:
    """A Kafka cluster in the simulation: see the module docstring and DESIGN §3."""

    def __init__(self, *, scheduler, events, rng: Random, brokers: int = 3,
                 topics: dict[str, int] | None = None, replication_factor: int = 3,
                 min_insync_replicas: int = 1, election_delay_ms: int | None = None,
                 network: dict | None = None, time_model: dict | None = None,
                 auto_create_topics: bool = True) -> None:
        if not _is_int(brokers) or brokers < 1:
            raise ClusterConfigError(f"cluster.brokers: must be an integer >= 1, got {brokers!r}")
        if not _is_int(replication_factor) or not 1 <= replication_factor <= brokers:
            raise ClusterConfigError(
                f"cluster.replication_factor: must be an integer in 1..{brokers} (the number "
                f"of brokers), got {replication_factor!r}")
        if not _is_int(min_insync_replicas) or not 1 <= min_insync_replicas:
            raise ClusterConfigError(f"cluster.min_insync_replicas: must be an integer >= 1, "
                                     f"got {min_insync_replicas!r}")
        if election_delay_ms is None:
            election_delay_ms = timemodel.DEFAULT_ELECTION_DELAY_MS
        if not _is_int(election_delay_ms) or election_delay_ms < 0:
            raise ClusterConfigError(f"cluster.election_delay_ms: must be an integer >= 0, "
                                     f"got {election_delay_ms!r}")
        topics = dict(topics or {})
        for name, n in topics.items():
            if not isinstance(name, str) or not name:
                raise ClusterConfigError(f"cluster.topics: topic names must be non-empty "
                                         f"strings, got {name!r}")
            if not _is_int(n) or n < 1:
                raise ClusterConfigError(f"cluster.topics.{name}: partition count must be an "
                                         f"integer >= 1, got {n!r}")
        tm = dict(time_model or {})
        self.max_message_bytes = int(tm.pop("max_message_bytes", timemodel.MAX_MESSAGE_BYTES))
        if tm:
            raise ClusterConfigError(f"time_model: unknown keys {sorted(tm)}")

        if not isinstance(auto_create_topics, bool):
            raise ClusterConfigError(f"cluster.auto_create_topics: must be true or false, "
                                     f"got {auto_create_topics!r}")
        #: Kafka's broker default ``auto.create.topics.enable=true``: a metadata request
        #: naming an unknown topic creates it (``num.partitions`` 1,
        #: ``default.replication.factor`` 1).
        self.auto_create_topics = auto_create_topics
        self.scheduler = scheduler
        self.events = events
        self.rng = rng
        self.broker_ids = list(range(1, brokers + 1))
        self.replication_factor = replication_factor
        self.min_insync_replicas = min_insync_replicas
        try:
            self.network = NetworkModel(rng, self.broker_ids, network)
        except ValueError as e:
            raise ClusterConfigError(str(e)) from None
        self.brokers: dict[int, Broker] = {b: Broker(self, b) for b in self.broker_ids}
        self._topics = topics
        self.controller = Controller(self, topics, self.broker_ids, replication_factor,
                                     election_delay_ms)
        self.logs: dict[TopicPartition, PartitionLog] = {
            tp: PartitionLog(tp.topic, tp.partition) for tp in self.controller.partitions}
        self._retention_batches: int | None = None
        self._pending_by_tp: dict[TopicPartition, dict] = {}
        self._next_pid = 1000
        self._view_cache: MetadataView | None = None
        self.controller.isr_listeners.append(self._on_isr_change)

    # ---- basics ------------------------------------------------------------------------

    @property
    def now_ms(self) -> int:
        return self.scheduler.now_ms

    @property
    def election_delay_ms(self) -> int:
        return self.controller.election_delay_ms

    def _publish(self, kind: str, **data: Any) -> None:
        self._view_cache = None  # any cluster event may change what metadata says
        self.events.publish(kind, **data)

    def _broker(self, broker_id: Any, what: str = "broker") -> Broker:
        if not _is_int(broker_id) or broker_id not in self.brokers:
            raise FaultError(f"{what}: no broker {broker_id!r}; brokers are {self.broker_ids}")
        return self.brokers[broker_id]

    def _tp(self, topic: Any, partition: Any) -> TopicPartition:
        if topic not in self._topics:
            raise FaultError(f"topic: unknown topic {topic!r}; topics: {sorted(self._topics)}")
        if not _is_int(partition) or not 0 <= partition < self._topics[topic]:
            raise FaultError(f"partition: {topic} has partitions 0..{self._topics[topic] - 1}, "
                             f"got {partition!r}")
        return TopicPartition(topic, partition)

    def _next_producer_id(self) -> int:
        pid = self._next_pid
        self._next_pid += 1
        return pid

    # ---- client side -------------------------------------------------------------------

    def bootstrap_nodes(self) -> list[int]:
        """The ``bootstrap.servers`` list: every broker id."""
        return list(self.broker_ids)

    def send(self, node: int, request: Any, on_response: Callable[[Any], None]) -> None:
        """Put ``request`` on the producer's connection to ``node``.

        The response (or ``Disconnected`` if the broker is down, after about one round
        trip) is delivered later through ``on_response``.  ``acks=0`` produce requests are
        never answered; a cut network is silent (the producer's ``request.timeout.ms``
        has to notice).
        """
        if not isinstance(request, (ProduceRequest, MetadataRequest, InitProducerIdRequest)):
            raise TypeError(f"cannot send {type(request).__name__} to the mock cluster")
        broker = self.brokers.get(node)
        if broker is None:
            raise ValueError(f"no broker {node!r}; brokers are {self.broker_ids}")
        if not broker.reachable:
            return
        if not broker.up:
            if isinstance(request, ProduceRequest) and request.acks == 0:
                return
            at = due(self.now_ms + self.network.params(node).rtt_ms)
            rid = request.request_id
            self.scheduler.call_at(
                at, lambda: on_response(Disconnected(rid, node, "connection refused")),
                priority=PRIORITY_NETWORK)
            return
        broker.receive(request, on_response)

    def close_connection(self, node: int) -> None:
        """The producer closed its connection to ``node`` (Kafka's client does so when a
        request times out).  Answers still due on it are dropped; a request the broker
        was already processing still takes effect (a retry may then duplicate it unless
        the producer is idempotent); the next ``send`` opens a new connection."""
        broker = self.brokers.get(node)
        if broker is None:
            raise ValueError(f"no broker {node!r}; brokers are {self.broker_ids}")
        broker.client_closed()

    # ---- topics ------------------------------------------------------------------------

    #: Kafka's broker defaults for an auto-created topic.
    AUTO_CREATE_PARTITIONS = 1  # num.partitions
    AUTO_CREATE_REPLICATION = 1  # default.replication.factor
    _LEGAL_TOPIC = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")

    def maybe_auto_create(self, topic: str) -> bool:
        """A metadata request named ``topic``, which does not exist.  With
        ``auto_create_topics`` (Kafka's default) and a legal name (Kafka's ``Topic.validate``:
        1..249 characters of ``[a-zA-Z0-9._-]``, not ``.`` or ``..``) the broker creates it
        with ``num.partitions`` = 1 and answers ``LEADER_NOT_AVAILABLE`` this time; the
        producer's next metadata request sees it.  Returns True if it was created."""
        if not self.auto_create_topics or topic in self._topics:
            return False
        if not (isinstance(topic, str) and 0 < len(topic) <= 249 and topic not in (".", "..")
                and set(topic) <= self._LEGAL_TOPIC):
            return False
        self.create_topic(topic, self.AUTO_CREATE_PARTITIONS,
                          min(self.AUTO_CREATE_REPLICATION, len(self.broker_ids)))
        return True

    def create_topic(self, topic: str, partitions: int, replication_factor: int) -> None:
        """Add a topic (the controller places its replicas as for the initial topics)."""
        if topic in self._topics:
            raise ClusterConfigError(f"topic {topic!r} already exists")
        if not _is_int(partitions) or partitions < 1:
            raise ClusterConfigError(f"partitions must be an integer >= 1, got {partitions!r}")
        self._topics[topic] = partitions
        for tp in self.controller.add_topic(topic, partitions, self.broker_ids,
                                            replication_factor):
            plog = self.logs[tp] = PartitionLog(tp.topic, tp.partition)
            plog.retention_batches = self._retention_batches
        self._publish("topic.created", topic=topic, partitions=partitions)

    # ---- reads -------------------------------------------------------------------------

    def topics(self) -> dict[str, int]:
        """Topic name -> partition count."""
        return dict(self._topics)

    def partitions_for(self, topic: str) -> list[int]:
        if topic not in self._topics:
            raise KeyError(f"unknown topic {topic!r}; topics: {sorted(self._topics)}")
        return list(range(self._topics[topic]))

    def leader(self, topic: str, partition: int) -> int | None:
        """The partition's current leader per the controller (None while offline)."""
        st = self.controller.partitions.get(TopicPartition(topic, partition))
        return None if st is None else st.leader

    def leader_epoch(self, topic: str, partition: int) -> int:
        return self.controller.partitions[self._tp(topic, partition)].leader_epoch

    def isr(self, topic: str, partition: int) -> list[int]:
        return list(self.controller.partitions[self._tp(topic, partition)].isr)

    def replicas(self, topic: str, partition: int) -> list[int]:
        return list(self.controller.partitions[self._tp(topic, partition)].replicas)

    def log(self, topic: str, partition: int) -> list[bytes]:
        """The retained RecordBatch v2 batches of a partition (offsets assigned), oldest first.

        Batch runs keep every batch. With :meth:`set_log_retention` (the live lab sets it, so
        an hour-long lab does not grow without bound) only the newest N batches per partition
        are kept: the first retained offset is :meth:`log_start_offset`, and
        ``log_end_offset`` and the idempotence state are unaffected.
        """
        return list(self.logs[self._tp(topic, partition)].batches)

    def set_log_retention(self, batches: int | None) -> None:
        """Keep at most ``batches`` batches per partition from now on (None: keep all)."""
        if batches is not None and (not _is_int(batches) or batches < 1):
            raise ClusterConfigError(f"log retention: must be an integer >= 1 or None, "
                                     f"got {batches!r}")
        self._retention_batches = batches
        for plog in self.logs.values():
            plog.retention_batches = batches
            if batches is not None:
                plog.trim(batches)

    def log_start_offset(self, topic: str, partition: int) -> int:
        return self.logs[self._tp(topic, partition)].log_start_offset

    def log_end_offset(self, topic: str, partition: int) -> int:
        return self.logs[self._tp(topic, partition)].log_end_offset

    def _live_view(self) -> MetadataView:
        if self._view_cache is None:
            topics: dict[str, list[PartitionMetadata]] = {}
            for tp, st in self.controller.partitions.items():
                topics.setdefault(tp.topic, []).append(PartitionMetadata(
                    tp.topic, tp.partition, st.leader, st.leader_epoch, tuple(st.replicas),
                    tuple(st.isr),
                    ErrorCode.NONE if st.leader is not None else ErrorCode.LEADER_NOT_AVAILABLE))
            live = tuple(b for b in self.broker_ids if self.brokers[b].up)
            self._view_cache = MetadataView(live, self.controller.controller_id(), topics)
        return self._view_cache

    # ---- internal hooks from the controller ----------------------------------------------

    def _on_isr_change(self, tp: TopicPartition) -> None:
        for pending in list(self._pending_by_tp.get(tp, {})):
            for b in self.brokers.values():
                if pending in b.pending:
                    b.isr_changed(pending, tp)
                    break

    def _leader_changed(self, tp: TopicPartition, old: int | None) -> None:
        if old is None:
            return
        ob = self.brokers[old]
        for pending in list(self._pending_by_tp.get(tp, {})):
            if pending in ob.pending:
                ob.leadership_lost(pending, tp)

    def _schedule_catch_up(self, broker_id: int) -> None:
        b = self.brokers[broker_id]
        inc = b.incarnation
        delay = self.network.params(broker_id).catch_up_ms
        self.scheduler.call_later(round(delay),
                                  lambda: self.controller.caught_up(broker_id, inc))

    # ---- admin / faults ----------------------------------------------------------------

    def stop_broker(self, broker_id: int) -> None:
        """Stop a broker: its connection drops (in-flight requests see ``Disconnected``),
        and after ``election_delay_ms`` the controller fences it and elects new leaders."""
        b = self._broker(broker_id)
        if not b.up:
            return
        b.up = False
        b.incarnation += 1
        b.drop_connection(notify=True)
        self._publish("broker.stopped", broker=broker_id)
        inc = b.incarnation
        self.scheduler.call_later(self.controller.election_delay_ms,
                                  lambda: self.controller.broker_stopped(broker_id, inc))

    def start_broker(self, broker_id: int) -> None:
        """Start a stopped broker; it rejoins ISRs after catching up."""
        b = self._broker(broker_id)
        if b.up:
            return
        b.up = True
        b.incarnation += 1
        self._publish("broker.started", broker=broker_id)
        self.controller.broker_started(broker_id)

    def slow_broker(self, broker_id: int, extra_ms: float) -> None:
        """Every request the broker handles costs ``extra_ms`` more (0 restores it); as a
        follower it also acknowledges ``acks=all`` appends that much later."""
        b = self._broker(broker_id)
        if isinstance(extra_ms, bool) or not isinstance(extra_ms, (int, float)) or extra_ms < 0:
            raise FaultError(f"extra_ms: must be a number >= 0, got {extra_ms!r}")
        b.extra_ms = float(extra_ms)
        self._publish("broker.slowed", broker=broker_id, extra_ms=extra_ms)

    def cut_network(self, broker_id: int) -> None:
        """Requests to the broker and responses from it vanish (no error reaches the
        producer: its ``request.timeout.ms`` must fire).  Brokers still see each other."""
        b = self._broker(broker_id)
        if not b.reachable:
            return
        b.reachable = False
        b.drop_connection(notify=False)
        self._publish("network.cut", broker=broker_id)

    def restore_network(self, broker_id: int) -> None:
        b = self._broker(broker_id)
        if b.reachable:
            return
        b.reachable = True
        self._publish("network.restored", broker=broker_id)

    def fail_next(self, broker_id: int, count: int, error_name: str) -> None:
        """The broker answers its next ``count`` produce requests with ``error_name`` for
        every partition (a Kafka error name such as ``NOT_LEADER_OR_FOLLOWER``)."""
        f = validate_fault({"op": "fail_next", "broker": broker_id, "count": count,
                            "error": error_name}, broker_ids=self.broker_ids)
        b = self.brokers[broker_id]
        b.fail_count = f["count"]
        b.fail_error = ErrorCode.by_name(f["error"])
        self._publish("fault.injected", op="fail_next",
                      detail=f"broker {broker_id}: next {count} produce requests fail with "
                             f"{error_name}")

    def stale_metadata(self, broker_id: int, duration_ms: int) -> None:
        """Freeze the broker's metadata cache for ``duration_ms``: its Metadata responses
        (and KIP-951 leader hints) keep describing the cluster as it is now."""
        f = validate_fault({"op": "stale_metadata", "broker": broker_id,
                            "duration_ms": duration_ms}, broker_ids=self.broker_ids)
        self.brokers[broker_id].freeze_metadata(f["duration_ms"])
        self._publish("fault.injected", op="stale_metadata",
                      detail=f"broker {broker_id}: metadata frozen for {duration_ms} ms")

    def elect_leader(self, topic: str, partition: int, broker: int | None = None) -> int:
        """Move leadership of a partition now (preferred replica, else the next live ISR
        member, or ``broker``); returns the new leader."""
        tp = self._tp(topic, partition)
        if broker is not None:
            self._broker(broker)
        try:
            return self.controller.elect_leader(tp, broker)
        except ValueError as e:
            raise FaultError(str(e)) from None

    def apply_fault(self, d: dict) -> None:
        """Apply one fault dict (docs/SEAMS.md §2); ``at_ms`` is ignored here (the
        scenario's scheduler uses it).  Invalid dicts raise ``FaultError``, changing nothing."""
        f = validate_fault(d, broker_ids=self.broker_ids, topics=self._topics)
        op = f["op"]
        if op in ("stop_broker", "start_broker", "cut_network", "restore_network"):
            getattr(self, op)(f["broker"])
        elif op == "slow_broker":
            self.slow_broker(f["broker"], f["extra_ms"])
        elif op == "fail_next":
            self.fail_next(f["broker"], f["count"], f["error"])
        elif op == "stale_metadata":
            self.stale_metadata(f["broker"], f["duration_ms"])
        elif op == "elect_leader":
            self.elect_leader(f["topic"], f["partition"], f.get("broker"))
        else:  # pragma: no cover - validate_fault knows every op
            raise FaultError(f"op: {op!r} not handled (known: {', '.join(FAULT_OPS)})")

    # ---- state for the UI ----------------------------------------------------------------

    def snapshot(self) -> dict:
        """The ``cluster`` section of ``Simulation.snapshot()`` (docs/SEAMS.md §1)."""
        now = self.now_ms
        brokers = []
        for bid in self.broker_ids:
            b = self.brokers[bid]
            brokers.append({
                "id": bid, "up": b.up, "reachable": b.reachable,
                "extra_latency_ms": b.extra_ms, "fail_next": b.fail_count,
                "fail_error": b.fail_error.name if b.fail_error else None,
                "stale_metadata_ms": max(0, b.stale_until - now) if b._frozen else 0,
                "queued_requests": len(b.conn.queue) + (1 if b.conn.busy else 0),
            })
        parts = []
        for tp, st in self.controller.partitions.items():
            parts.append({"topic": tp.topic, "partition": tp.partition, "leader": st.leader,
                          "epoch": st.leader_epoch, "replicas": list(st.replicas),
                          "isr": list(st.isr),
                          "log_end_offset": self.logs[tp].log_end_offset})
        return {"brokers": brokers, "controller": self.controller.controller_id(),
                "partitions": parts, "min_insync_replicas": self.min_insync_replicas,
                "election_delay_ms": self.controller.election_delay_ms,
                "replication_factor": self.replication_factor,
                "auto_create_topics": self.auto_create_topics,
                "network": self.network.describe()}
