"""A mock Kafka broker: its connection from the producer, request handling, acks.

What a request goes through (times in float ms, see ``network``):
arrive → wait for the connection's previous request (Kafka mutes a connection while it
handles one of its requests) → per-request + per-byte processing → for ``acks=all``, wait
until every in-sync follower has the data → the response travels back.

Produce validation, in Kafka's order (``Partition.appendRecordsToLeader`` then the log
validator, then the producer-state check):

1. a ``fail_next`` fault answers the whole request with the injected error;
2. unknown partition → ``UNKNOWN_TOPIC_OR_PARTITION``; this broker does not lead it →
   ``NOT_LEADER_OR_FOLLOWER`` with the leader this broker knows of (KIP-951);
3. ``acks=all`` with fewer in-sync replicas than ``min.insync.replicas`` →
   ``NOT_ENOUGH_REPLICAS`` (nothing is appended);
4. batch larger than ``max.message.bytes`` → ``MESSAGE_TOO_LARGE``; bad frame or CRC →
   ``CORRUPT_MESSAGE``;
5. idempotent producers: duplicate → success with the original offset; gap →
   ``OUT_OF_ORDER_SEQUENCE_NUMBER`` (see ``partition_log``);
6. append with the next offsets; ``acks=0`` gets no response at all (if it failed, the
   broker closes the connection instead, as Kafka does).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from producer_core import timemodel
from producer_core.cluster.network import Connection, due
from producer_core.cluster.partition_log import BatchRejected, parse_header
from producer_core.protocol import (
    Disconnected,
    ErrorCode,
    InitProducerIdRequest,
    InitProducerIdResponse,
    LeaderHint,
    MetadataRequest,
    MetadataResponse,
    PartitionMetadata,
    PartitionResponse,
    ProduceRequest,
    ProduceResponse,
    TopicPartition,
)
from producer_core.scheduler import PRIORITY_NETWORK

if TYPE_CHECKING:  # pragma: no cover
    from producer_core.cluster.mock import MockCluster


class MetadataView:
    """What one broker would answer to a Metadata request (possibly frozen = stale)."""

    __slots__ = ("brokers", "controller_id", "topics")

    def __init__(self, brokers: tuple[int, ...], controller_id: int | None,
                 topics: dict[str, list[PartitionMetadata]]) -> None:
        self.brokers = brokers
        self.controller_id = controller_id
        self.topics = topics

    def leader(self, tp: TopicPartition) -> tuple[int | None, int]:
        parts = self.topics.get(tp.topic)
        if parts is None or tp.partition >= len(parts):
            return None, -1
        pm = parts[tp.partition]
        return pm.leader, pm.leader_epoch


class PendingProduce:
    """An ``acks=all`` produce request waiting for followers that are not there yet."""

    __slots__ = ("conn", "ready_f", "request", "response", "timer", "waiting")

    def __init__(self, request: ProduceRequest, response: ProduceResponse, ready_f: float,
                 conn: Connection) -> None:
        self.request = request
        self.response = response
        self.waiting: set[TopicPartition] = set()
        self.ready_f = ready_f
        self.timer: Any = None
        self.conn = conn


class Broker:
    """One broker of the mock cluster."""

    def __init__(self, cluster: MockCluster, broker_id: int) -> None:
        self.cluster = cluster
        self.id = broker_id
        self.up = True
        self.reachable = True
        self.incarnation = 0
        self.extra_ms = 0.0
        self.fail_count = 0
        self.fail_error: ErrorCode | None = None
        self.stale_until = -1
        self._frozen: MetadataView | None = None
        self.conn = Connection(broker_id)
        self.pending: list[PendingProduce] = []
        self.requests_handled = 0

    # ---- metadata ----------------------------------------------------------------------

    def metadata_view(self) -> MetadataView:
        """This broker's metadata cache: the controller's state, unless frozen by a
        ``stale_metadata`` fault (then the state as it was when the fault began)."""
        if self._frozen is not None:
            if self.cluster.now_ms < self.stale_until:
                return self._frozen
            self._frozen = None
        return self.cluster._live_view()

    def freeze_metadata(self, duration_ms: int) -> None:
        if self._frozen is None or self.cluster.now_ms >= self.stale_until:
            self._frozen = self.cluster._live_view()
        self.stale_until = max(self.stale_until, self.cluster.now_ms + duration_ms)

    # ---- connection --------------------------------------------------------------------
    # Every request is handled against the Connection object it arrived on: when that
    # connection closes, a new one takes its place and the old one's leftovers (a request
    # being processed, an acks=all wait) finish on their own without muting the new one.

    def receive(self, request: Any, on_response: Callable[[Any], None]) -> None:
        """A request put on the wire now by the producer (broker up and reachable)."""
        net = self.cluster.network
        produce = isinstance(request, ProduceRequest)
        size = request.size_bytes if produce else timemodel.METADATA_REQUEST_BYTES
        c = self.conn
        arrival = c.transmit(float(self.cluster.now_ms), net.wire_ms(self.id, size),
                             net.one_way_ms(self.id))
        if not (produce and request.acks == 0):
            c.outstanding[request.request_id] = on_response
        c.queue.append((arrival, request, size if produce else 0))
        if not c.busy:
            self._start_next(c)

    def _start_next(self, c: Connection) -> None:
        if c.busy or not c.queue or c.state != "open":
            return
        arrival, request, nbytes = c.queue.popleft()
        start = max(arrival, c.busy_f)
        done = start + self.cluster.network.processing_ms(self.id, nbytes, self.extra_ms)
        c.busy = True
        self.cluster.scheduler.call_at(due(done), lambda: self._handle(c, request, done),
                                       priority=PRIORITY_NETWORK)

    def _release(self, c: Connection, ready_f: float) -> None:
        """The connection's current request is answered: unmute, start the next one."""
        c.busy_f = ready_f
        c.busy = False
        self._start_next(c)

    def _respond(self, c: Connection, request_id: int, response: Any, ready_f: float) -> None:
        deliver_f = ready_f + self.cluster.network.one_way_ms(self.id)

        def deliver() -> None:
            if c.state != "open":
                return  # the connection went away meanwhile: the response is lost
            cb = c.outstanding.pop(request_id, None)
            if cb is not None:
                cb(response)

        self.cluster.scheduler.call_at(due(deliver_f), deliver, priority=PRIORITY_NETWORK)
        self._release(c, ready_f)

    def _handle(self, c: Connection, request: Any, done_f: float) -> None:
        # A request being processed when its client closed the connection is still
        # carried out (Kafka's handler threads finish it; only the answer is lost).
        if not self.up or c.state == "lost":
            return
        self.requests_handled += 1
        if isinstance(request, ProduceRequest):
            self._produce(c, request, done_f)
        elif isinstance(request, MetadataRequest):
            self._respond(c, request.request_id, self._metadata(request), done_f)
        elif isinstance(request, InitProducerIdRequest):
            resp = InitProducerIdResponse(request.request_id, self.cluster._next_producer_id(), 0)
            self._respond(c, request.request_id, resp, done_f)
        else:  # pragma: no cover - send() rejects other types
            raise TypeError(f"unsupported request {type(request).__name__}")

    # ---- stop / disconnect -------------------------------------------------------------

    def drop_connection(self, notify: bool) -> None:
        """The broker or the network dropped the connection: requests on it are lost.

        With ``notify`` (broker stopped) every request waiting for an answer gets
        ``Disconnected`` after about one round trip; otherwise (network cut) silence.
        """
        c = self.conn
        waiting = list(c.outstanding.items())
        for p in self.pending:
            if p.timer is not None:
                p.timer.cancel()
            for tp in p.waiting:
                self.cluster._pending_by_tp.get(tp, {}).pop(p, None)
        self.pending.clear()
        c.close("lost")
        self.conn = c.successor()
        if notify:
            delay = self.cluster.network.params(self.id).rtt_ms
            at = due(self.cluster.now_ms + delay)
            for rid, cb in waiting:
                self.cluster.scheduler.call_at(
                    at, lambda cb=cb, rid=rid: cb(Disconnected(rid, self.id, "broker stopped")),
                    priority=PRIORITY_NETWORK)

    def _acks0_failed(self, c: Connection) -> None:
        """An ``acks=0`` request failed: there is no response to carry the error, so the
        broker closes the connection — Kafka's way of telling such a producer to refresh
        its metadata (other requests on it see ``Disconnected``)."""
        if c is self.conn:
            self.drop_connection(notify=True)

    def client_closed(self) -> None:
        """The producer closed its connection (e.g. after ``request.timeout.ms``).

        Requests still unread in the socket are gone; the one being processed (and any
        ``acks=all`` wait) completes on the broker — its records stay in the log — but
        nobody receives the answer.  The next request opens a fresh connection that does
        not wait behind the old one.
        """
        c = self.conn
        if not c.outstanding and not c.busy and not c.queue:
            return
        c.close("closed")
        self.conn = c.successor()

    # ---- Metadata ----------------------------------------------------------------------

    def _metadata(self, request: MetadataRequest) -> MetadataResponse:
        view = self.metadata_view()
        names = sorted(view.topics) if request.topics is None else list(request.topics)
        topics: dict[str, list[PartitionMetadata]] = {}
        errors: dict[str, ErrorCode] = {}
        for name in names:
            parts = view.topics.get(name)
            if parts is None:
                # A producer's metadata request allows auto-creation: with the broker's
                # auto.create.topics.enable the topic is created, "leader not available"
                # until the next request (Kafka's KafkaApis.getTopicMetadata).
                created = request.topics is not None and self.cluster.maybe_auto_create(name)
                errors[name] = (ErrorCode.LEADER_NOT_AVAILABLE if created
                                else ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
            else:
                topics[name] = list(parts)
        return MetadataResponse(request.request_id, view.brokers, view.controller_id, topics,
                                errors)

    # ---- Produce -----------------------------------------------------------------------

    def _leader_hint(self, tp: TopicPartition) -> LeaderHint | None:
        leader, epoch = self.metadata_view().leader(tp)
        if leader is None or leader == self.id:
            return None
        return LeaderHint(leader, epoch)

    def _produce(self, c: Connection, request: ProduceRequest, done_f: float) -> None:
        cluster = self.cluster
        parts: dict[TopicPartition, PartitionResponse] = {}
        response = ProduceResponse(request.request_id, parts)
        acks = request.acks
        if self.fail_count > 0:
            self.fail_count -= 1
            err = self.fail_error or ErrorCode.UNKNOWN_SERVER_ERROR
            if err is ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
                # The error's name says the leader wrote the records before answering: do
                # so, so a retry without idempotence really duplicates them, as in Kafka.
                self._append_injected(request)
            for tp in request.batches:
                parts[tp] = PartitionResponse(error=err, error_message="injected by fail_next")
            if self.fail_count == 0:
                self.fail_error = None
            if acks == 0:
                self._acks0_failed(c)
            else:
                self._respond(c, request.request_id, response, done_f)
            return

        ready_f = done_f
        blocked: list[TopicPartition] = []
        controller = cluster.controller
        for tp, data in request.batches.items():
            st = controller.partitions.get(tp)
            if st is None:
                parts[tp] = PartitionResponse(error=ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                                              error_message=f"{tp} does not exist")
                continue
            if st.leader != self.id:
                parts[tp] = PartitionResponse(
                    error=ErrorCode.NOT_LEADER_OR_FOLLOWER,
                    error_message=f"broker {self.id} is not the leader of {tp}",
                    current_leader=self._leader_hint(tp))
                continue
            if acks == -1 and len(st.isr) < cluster.min_insync_replicas:
                parts[tp] = PartitionResponse(
                    error=ErrorCode.NOT_ENOUGH_REPLICAS,
                    error_message=f"ISR {st.isr} is smaller than min.insync.replicas="
                                  f"{cluster.min_insync_replicas}")
                continue
            if len(data) > cluster.max_message_bytes:
                parts[tp] = PartitionResponse(
                    error=ErrorCode.MESSAGE_TOO_LARGE,
                    error_message=f"batch of {len(data)} bytes exceeds max.message.bytes="
                                  f"{cluster.max_message_bytes}")
                continue
            log = cluster.logs[tp]
            try:
                header = parse_header(data)
                base, _dup = log.append(data, header, st.leader_epoch)
            except BatchRejected as e:
                parts[tp] = PartitionResponse(error=e.error, error_message=str(e))
                continue
            parts[tp] = PartitionResponse(base_offset=base, log_start_offset=0)
            if acks == -1:
                wait = self._replication_wait(st.isr)
                if wait is None:
                    blocked.append(tp)
                else:
                    ready_f = max(ready_f, done_f + wait)

        if acks == 0:
            if any(r.error is not ErrorCode.NONE for r in parts.values()):
                self._acks0_failed(c)
            else:
                self._release(c, done_f)
            return
        if not blocked:
            self._respond(c, request.request_id, response, ready_f)
            return
        # acks=all and an in-sync follower is down: the request waits (the connection
        # stays muted) until the controller shrinks the ISR or the request times out.
        pending = PendingProduce(request, response, ready_f, c)
        pending.waiting.update(blocked)
        self.pending.append(pending)
        for tp in blocked:
            cluster._pending_by_tp.setdefault(tp, {})[pending] = None
        pending.timer = cluster.scheduler.call_at(
            due(done_f + request.timeout_ms), lambda: self._time_out(pending),
            priority=PRIORITY_NETWORK)

    def _append_injected(self, request: ProduceRequest) -> None:
        """Write a request's batches to the partitions this broker leads (no answer)."""
        controller = self.cluster.controller
        for tp, data in request.batches.items():
            st = controller.partitions.get(tp)
            if st is None or st.leader != self.id:
                continue
            try:
                self.cluster.logs[tp].append(data, parse_header(data), st.leader_epoch)
            except BatchRejected:
                continue

    def _replication_wait(self, isr: list[int]) -> float | None:
        """Time until every in-sync follower has fetched the append; None if one is down."""
        wait = 0.0
        brokers = self.cluster.brokers
        net = self.cluster.network
        for r in isr:
            if r == self.id:
                continue
            follower = brokers[r]
            if not follower.up:
                return None
            wait = max(wait, net.replication_ms(r, follower.extra_ms))
        return wait

    def _settle(self, pending: PendingProduce, tp: TopicPartition, error: ErrorCode | None,
                ready_f: float, message: str | None = None) -> None:
        pending.waiting.discard(tp)
        self.cluster._pending_by_tp.get(tp, {}).pop(pending, None)
        if error is not None:
            old = pending.response.partitions[tp]
            pending.response.partitions[tp] = PartitionResponse(
                error=error, base_offset=-1, log_start_offset=old.log_start_offset,
                error_message=message)
        pending.ready_f = max(pending.ready_f, ready_f)
        if not pending.waiting:
            if pending.timer is not None:
                pending.timer.cancel()
            if pending in self.pending:
                self.pending.remove(pending)
            self._respond(pending.conn, pending.request.request_id, pending.response,
                          pending.ready_f)

    def isr_changed(self, pending: PendingProduce, tp: TopicPartition) -> None:
        """The ISR of a partition this request waits on changed: maybe it can complete.
        Kafka answers ``NOT_ENOUGH_REPLICAS_AFTER_APPEND`` when the ISR fell below
        ``min.insync.replicas`` after the records were written."""
        st = self.cluster.controller.partitions[tp]
        wait = self._replication_wait(st.isr)
        if wait is None:
            return
        now = float(self.cluster.now_ms)
        if len(st.isr) < self.cluster.min_insync_replicas:
            self._settle(pending, tp, ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND, now,
                         f"ISR shrank to {st.isr} after the append")
        else:
            self._settle(pending, tp, None, now + wait)

    def leadership_lost(self, pending: PendingProduce, tp: TopicPartition) -> None:
        self._settle(pending, tp, ErrorCode.NOT_LEADER_OR_FOLLOWER, float(self.cluster.now_ms),
                     f"broker {self.id} lost leadership of {tp} while waiting for acks")

    def _time_out(self, pending: PendingProduce) -> None:
        pending.timer = None
        now = float(self.cluster.now_ms)
        for tp in sorted(pending.waiting):
            self._settle(pending, tp, ErrorCode.REQUEST_TIMED_OUT, now,
                         "followers did not acknowledge within the request timeout")
