"""The producer's I/O loop (Kafka's ``Sender``), run as a scheduler process.

Each poll (:meth:`Sender.run_once`) does what Kafka's ``Sender.runOnce`` does:

1. idempotent producer: resolve partitions whose sequence is unresolved and bump the
   epoch once if a partition asked for it (KIP-360, per partition: see
   :mod:`producer_core.idempotence`); without a producer id, ask the cluster for one
   first (``InitProducerId``); nothing is produced until it arrives;
2. refresh metadata when it is due (leader unknown, an error, ``metadata.max.age.ms``);
3. ask the accumulator which brokers have sendable batches; drop brokers that are not
   ready (reconnect backoff, or ``max.in.flight.requests.per.connection`` reached);
4. drain batches for each ready broker, assigning idempotence sequence numbers;
   with ``max.in.flight.requests.per.connection=1`` mute each drained partition until
   its answer comes back (strict ordering even with retries); a partition whose
   sequence is unresolved, or that still has batches of an older epoch outstanding,
   drains no new batch (as in Kafka, this stops the drain for that broker in this poll);
5. expire batches past ``delivery.timeout.ms`` — queued *and* in flight; an in-flight
   batch's memory is released only when its request finally completes (KAFKA-19012);
6. send one ProduceRequest per broker; schedule the next poll for the earliest
   linger/backoff/expiry deadline.

Responses are handled by :meth:`Sender._complete_batch`, which carries Kafka's rules for
retries (retriable errors, ``retries``, ``delivery.timeout.ms``, KIP-580 exponential
backoff), batch splits on ``MESSAGE_TOO_LARGE``, metadata refresh on metadata errors
(with KIP-951 leader hints) and idempotence sequence bookkeeping.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from random import Random
from typing import Any

from producer_core import errors
from producer_core.batch import NO_SEQUENCE, BatchState, FinalState, ProducerBatch
from producer_core.idempotence import IdempotenceState
from producer_core.metadata import exponential_backoff
from producer_core.network_client import NetworkClient, NoResponse, RequestTimedOut
from producer_core.protocol import (
    ErrorCode,
    InitProducerIdRequest,
    InitProducerIdResponse,
    MetadataRequest,
    MetadataResponse,
    PartitionResponse,
    ProduceRequest,
    ProduceResponse,
    TopicPartition,
)
from producer_core.scheduler import PRIORITY_SENDER

_created_ms = attrgetter("created_ms")

REQUEST_OVERHEAD_BYTES = 64  # request header, acks, timeout, topic array headers
PARTITION_OVERHEAD_BYTES = 12  # partition index and records length per batch


class Sender:
    """Moves batches from the accumulator to the brokers and completes them."""

    def __init__(self, *, config: Any, accumulator: Any, metadata: Any,
                 client: NetworkClient, scheduler: Any, events: Any, metrics: Any,
                 rng: Random, bootstrap: Callable[[], list[int]],
                 decode: Callable[[bytes], Any]) -> None:
        self.config = config
        self.acc = accumulator
        self.metadata = metadata
        self.client = client
        self.scheduler = scheduler
        self.events = events
        self.metrics = metrics
        self.rng = rng
        self._bootstrap = bootstrap
        self._decode = decode
        self.acks = config.acks
        self.retries = config.retries
        self.delivery_timeout_ms = config.delivery_timeout_ms
        self.request_timeout_ms = config.request_timeout_ms
        self.max_request_size = config.max_request_size
        self.guarantee_order = config.max_in_flight_requests_per_connection == 1
        self.idem = IdempotenceState() if config.enable_idempotence else None
        self.in_flight_batches: dict[int, ProducerBatch] = {}
        self._timer = None
        self._timer_due = None
        self._metadata_in_flight = False
        self._node_parts: dict[int, list[TopicPartition]] = {}
        self._node_parts_version = -1
        self.running = True
        self.closing = False
        self.forced = False
        self.on_batch_done: Callable[[ProducerBatch], None] | None = None
        self.on_idle: Callable[[], None] | None = None

    # -- scheduling ---------------------------------------------------------------------

    def wakeup(self) -> None:
        """Poll at the current instant (after other work due now)."""
        self.wakeup_at(self.scheduler.now_ms)

    def wakeup_at(self, t_ms: int) -> None:
        if not self.running:
            return
        if self._timer is not None and not self._timer.cancelled and self._timer_due <= t_ms:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_due = t_ms
        self._timer = self.scheduler.call_at(t_ms, self._poll, priority=PRIORITY_SENDER,
                                             label="sender.poll")

    def _poll(self) -> None:
        self._timer = None
        self._timer_due = None
        if not self.running:
            return
        delay = self.run_once(self.scheduler.now_ms)
        if self.closing and not self.acc.has_undrained() and not self.client.has_in_flight() \
                and not self.in_flight_batches:
            self.running = False
            if self.on_idle is not None:
                self.on_idle()
            return
        if delay is not None and delay < 2**61:
            self.wakeup_at(self.scheduler.now_ms + delay)

    # -- one poll -----------------------------------------------------------------------

    def run_once(self, now: int) -> int | None:
        """One pass of the sender loop; returns ms until the next poll is needed."""
        # (The minimum of the deadlines, without a list: this runs on every poll.)
        idem = self.idem
        t_init = None
        if idem is not None:
            # Kafka's runOnce: resolve sequences, bump the epoch once if a partition
            # asked for it, and get a producer id when there is none.
            if idem.unresolved:
                idem.maybe_resolve_sequences()
            if idem.epoch_bump_required:
                asked = sorted(str(tp) for tp in idem.to_rewrite)
                if idem.bump_epoch_if_needed() and self.events is not None:
                    # A local bump (bumpIdempotentEpochAndResetIdIfNeeded): no
                    # InitProducerId round trip, so it is its own event, not "producer.init".
                    self.events.publish(
                        "producer.epoch_bumped", producer_id=idem.producer_id,
                        epoch=idem.producer_epoch,
                        reason="sequences to reset on " + (", ".join(asked) or "a partition"))
            if idem.producer_id < 0:
                t_init = self._maybe_init_producer_id(now)
        t_md = self._maybe_update_metadata(now)
        timeout = self._send_producer_data(now)
        if t_init is not None and t_init < timeout:
            timeout = t_init
        if t_md is not None and t_md < timeout:
            timeout = t_md
        return timeout

    def _maybe_init_producer_id(self, now: int) -> int | None:
        idem = self.idem
        if idem.init_in_flight:
            return None
        node = self.client.least_loaded_node(self._known_nodes(), now)
        if node is None:
            return self._min_connection_delay(now)
        idem.init_in_flight = True
        req = InitProducerIdRequest(self.client.next_request_id())
        self.client.send(node, req, self._on_init_producer_id, kind="init_producer_id")
        return None

    def _on_init_producer_id(self, resp: Any) -> None:
        idem = self.idem
        idem.init_in_flight = False
        now = self.scheduler.now_ms
        if isinstance(resp, InitProducerIdResponse) and resp.error is ErrorCode.NONE:
            idem.set_producer_id(resp.producer_id, resp.producer_epoch)
            if self.events is not None:
                self.events.publish("producer.init", producer_id=resp.producer_id,
                                    epoch=resp.producer_epoch)
            self.wakeup()
        else:
            self.metadata.request_update()
            self.wakeup_at(now + self.config.retry_backoff_ms)

    def _known_nodes(self) -> list[int]:
        return list(self.metadata.brokers) or list(self._bootstrap())

    def _min_connection_delay(self, now: int) -> int:
        nodes = self._known_nodes()
        if not nodes:
            return self.config.retry_backoff_ms
        return max(1, min(self.client.connection_delay(n, now) for n in nodes))

    def _maybe_update_metadata(self, now: int) -> int | None:
        md = self.metadata
        wait = md.time_to_next_update(now)
        if wait > 0 or self._metadata_in_flight:
            return wait if not self._metadata_in_flight else None
        node = self.client.least_loaded_node(self._known_nodes(), now)
        if node is None:
            return self._min_connection_delay(now)
        topics = md.topics()
        if not topics:
            md.need_update = False
            return None
        self._metadata_in_flight = True
        md.need_update = False
        req = MetadataRequest(self.client.next_request_id(), topics)
        if self.events is not None:
            self.events.publish("metadata.request", node=node, topics=list(topics))
        self.client.send(node, req, self._on_metadata, kind="metadata")
        return None

    def _on_metadata(self, resp: Any) -> None:
        self._metadata_in_flight = False
        now = self.scheduler.now_ms
        if isinstance(resp, MetadataResponse):
            self.metadata.update(resp, now)
        else:
            self.metadata.request_update()
            self.metadata.failed_update(now)
        self.wakeup()

    def partitions_for_node(self, node: int) -> list[TopicPartition]:
        """Partitions ``node`` leads, in (topic, partition) order (cached per version)."""
        md = self.metadata
        if self._node_parts_version != md.version:
            by_node: dict[int, list[TopicPartition]] = {}
            for tp, leader in sorted(md.leaders.items()):
                if leader is not None:
                    by_node.setdefault(leader, []).append(tp)
            self._node_parts = by_node
            self._node_parts_version = md.version
        return self._node_parts.get(node, [])

    def _send_producer_data(self, now: int) -> int:
        acc = self.acc
        md = self.metadata
        result = acc.ready(md, now)
        if result.unknown_leader_topics:
            for topic in result.unknown_leader_topics:
                md.add_topic(topic, now)
            md.request_update()
        not_ready_timeout = 2**62
        nodes = []
        ready_nodes = result.ready_nodes
        if ready_nodes:
            client = self.client
            for node in sorted(ready_nodes) if len(ready_nodes) > 1 else ready_nodes:
                if client.is_ready(node, now):
                    nodes.append(node)
                else:
                    d = client.connection_delay(node, now)
                    if d > 0:
                        not_ready_timeout = min(not_ready_timeout, d)
        idem = self.idem
        if idem is not None and idem.producer_id < 0:
            nodes = []  # nothing is produced before the producer id arrives
        batches = None
        if nodes:
            batches = acc.drain(md, nodes, self.max_request_size, now,
                                stop_partition=self._stop_partition if idem else None,
                                on_drain=self._on_drain if idem else None,
                                partitions_for_node=self.partitions_for_node)
        self._expire(now)
        if batches:
            for node, blist in batches.items():
                self._send_produce_request(node, blist, now)
            # More may be drainable right away (size limit, other nodes): poll again now.
            # (Every other deadline below only matters when this one is not 0.)
            return 0
        timeout = result.next_ready_check_delay_ms
        if not_ready_timeout < timeout:  # noqa: PLR1730 (hot path: no call)
            timeout = not_ready_timeout
        expiry = acc.next_batch_expiry_ms - now
        if expiry < timeout:
            timeout = expiry if expiry > 0 else 0  # noqa: FURB136 (hot path: no call)
        ifb = self.in_flight_batches
        if ifb:
            # In-flight batches expire too: wake up for the earliest deadline.
            left = min(map(_created_ms, ifb.values())) + self.delivery_timeout_ms - now
            if left < timeout:
                timeout = left if left > 0 else 0  # noqa: FURB136 (hot path: no call)
        if idem is not None and (idem.epoch_bump_required or idem.unresolved) \
                and idem.resolution_pending():
            timeout = 0  # a partition's sequences can be resolved (or the epoch bumped)
        return timeout

    def _stop_partition(self, first: ProducerBatch, tp: TopicPartition) -> bool:
        """Kafka's ``shouldStopDrainBatchesForPartition`` (idempotent producer)."""
        idem = self.idem
        if not idem.has_producer_id:
            return True  # no batch goes out before the producer id arrives
        if not first.has_sequence:
            if idem.has_in_flight(tp) and idem.is_stale(tp):
                # Batches of the old epoch are still outstanding here: a new one at
                # sequence 0 of the new epoch could overtake them.
                return True
            if idem.has_unresolved_sequence(tp):
                return True  # the fate of an expired batch is not known yet
        # A retried batch goes first: wait for the earliest unresolved one.
        first_seq = idem.first_in_flight_sequence(tp)
        return (first_seq != NO_SEQUENCE and first.has_sequence
                and first.base_sequence != first_seq)

    def _on_drain(self, batch: ProducerBatch) -> None:
        if self.idem is not None and not batch.has_sequence:
            self.idem.assign(batch)

    # -- expiry -------------------------------------------------------------------------

    def _expire(self, now: int) -> None:
        timeout = self.delivery_timeout_ms
        ifb = self.in_flight_batches
        # (has_reached_delivery_timeout, checked on the oldest first: usually none is due)
        if ifb and timeout <= now - min(map(_created_ms, ifb.values())):
            expired_inflight = [b for b in ifb.values() if timeout <= now - b.created_ms]
            for b in expired_inflight:
                # Fail the records now; the memory stays until the request completes.
                del ifb[b.id]
                self._fail(b, self._timeout_error(b, now), expired=True)
        expired = self.acc.expired_batches(now)
        if expired:
            for b in expired:
                self._fail(b, self._timeout_error(b, now), expired=True)

    def _timeout_error(self, b: ProducerBatch, now: int) -> BaseException:
        return errors.KafkaTimeoutError.expiring(b.records_count, b.tp, now - b.created_ms)

    # -- produce requests ---------------------------------------------------------------

    def _send_produce_request(self, node: int, blist: list[ProducerBatch], now: int) -> None:
        rid = self.client.next_request_id()
        payload: dict[TopicPartition, bytes] = {}
        by_tp: dict[TopicPartition, ProducerBatch] = {}
        size = REQUEST_OVERHEAD_BYTES
        records = 0
        epochs = self.metadata.leader_epochs
        in_flight = self.in_flight_batches
        muted = self.acc.muted if self.guarantee_order else None
        events = self.events
        for b in blist:
            tp = b.tp
            data = b.encode()
            payload[tp] = data
            by_tp[tp] = b
            size += len(data) + PARTITION_OVERHEAD_BYTES + len(b.topic)
            records += b.builder._count  # (records_count)
            b.in_flight = True
            b.state = BatchState.IN_FLIGHT
            b.request_id = rid
            b.send_count += 1
            if b.sent_ms < 0:
                b.sent_ms = now
            b.last_attempt_ms = now
            b.leader_epoch = epochs.get(tp, -1)
            in_flight[b.id] = b
            if muted is not None:
                muted.add(tp)
            # (EventBus.wants inlined: no keyword dict is built for an event nobody takes)
            if events is not None and (events._wanted_all or events._wanted.get("batch.drained")):
                events.publish("batch.drained", batch_id=b.id, node=node,
                               attempt=b.attempts + 1, base_sequence=b.base_sequence)
        req = ProduceRequest(rid, self.acks, self.request_timeout_ms, payload, size)
        inf = self.client.send(node, req, lambda resp: self._on_produce(node, req, by_tp, resp))
        inf.records = records
        inf.batches = blist
        if self.metrics is not None:
            self.metrics.request_sent(now, node, blist, size)
        if events is not None and (events._wanted_all or events._wanted.get("request.sent")):
            events.publish("request.sent", request_id=rid, node=node,
                           batches=len(blist), bytes=size, records=records)

    def _on_produce(self, node: int, req: ProduceRequest,
                    by_tp: dict[TopicPartition, ProducerBatch], resp: Any) -> None:
        now = self.scheduler.now_ms
        latency = now - self.client_sent_ms(req, by_tp)
        if isinstance(resp, ProduceResponse):
            if self.metrics is not None:
                self.metrics.request_completed(now, node, latency)
            events = self.events
            if events is not None and (events._wanted_all
                                       or events._wanted.get("request.completed")):
                errs = [f"{tp}:{pr.error.name}" for tp, pr in sorted(resp.partitions.items())
                        if pr.error is not ErrorCode.NONE]
                events.publish("request.completed", request_id=req.request_id,
                               node=node, latency_ms=latency, errors=errs)
            parts = resp.partitions
            for tp, batch in by_tp.items():
                pr = parts.get(tp)
                if pr is None:
                    pr = PartitionResponse(ErrorCode.UNKNOWN_SERVER_ERROR,
                                           error_message="no answer for this partition")
                self._complete_batch(batch, pr, now)
        elif isinstance(resp, NoResponse):
            if self.metrics is not None:
                self.metrics.request_completed(now, node, latency)
            if self.events is not None:
                self.events.publish("request.completed", request_id=req.request_id,
                                    node=node, latency_ms=latency, errors=[])
            for batch in by_tp.values():
                self._complete_batch(batch, PartitionResponse(ErrorCode.NONE, -1), now)
        else:
            if isinstance(resp, RequestTimedOut):
                code = ErrorCode.REQUEST_TIMED_OUT
                msg = f"Disconnected from node {node} due to timeout"
            else:
                code = ErrorCode.NETWORK_EXCEPTION
                reason = getattr(resp, "reason", "")
                msg = f"Disconnected from node {node}" + (f" ({reason})" if reason else "")
            self.metadata.request_update()
            if self.events is not None:
                self.events.publish("request.failed", request_id=req.request_id, node=node,
                                    error=code.name)
            for batch in by_tp.values():
                self._complete_batch(batch, PartitionResponse(code, error_message=msg), now)
        self.wakeup()

    @staticmethod
    def client_sent_ms(req: ProduceRequest, by_tp: dict) -> int:
        for b in by_tp.values():
            return b.last_attempt_ms
        return 0

    # -- completing a batch -------------------------------------------------------------

    def _complete_batch(self, batch: ProducerBatch, pr: PartitionResponse, now: int) -> None:
        """Kafka's ``Sender.completeBatch``: success, split, retry or failure."""
        batch.in_flight = False
        was_in_flight = self.in_flight_batches.pop(batch.id, None) is not None
        error = pr.error
        if self.guarantee_order:
            self.acc.muted.discard(batch.tp)
        if error is ErrorCode.NONE or error is ErrorCode.DUPLICATE_SEQUENCE_NUMBER:
            if self.idem is not None and batch.base_sequence != NO_SEQUENCE:
                self.idem.handle_completed(batch)  # even if it expired meanwhile
            self._succeed(batch, pr, now)
            return
        if (error is ErrorCode.MESSAGE_TOO_LARGE and batch.records_count > 1
                and not batch.is_done):
            pieces = self.acc.split_and_reenqueue(batch, now, self._decode)
            if self.idem is not None:
                self.idem.replace(batch, pieces)
            if self.metrics is not None:
                self.metrics.batch_split(now)
            batch.outcome = "split"
            batch.state = BatchState.DONE
            batch.final_state = FinalState.ABORTED
            self._release(batch)
            return
        if was_in_flight and self._can_retry(batch, error, now):
            attempts = batch.attempts + 1
            backoff = exponential_backoff(self.config.retry_backoff_ms,
                                          self.config.retry_backoff_max_ms, attempts - 1,
                                          self.rng)
            if self.events is not None:
                self.events.publish("batch.retry", batch_id=batch.id, topic=batch.topic,
                                    partition=batch.partition, error=error.name,
                                    attempt=attempts, backoff_ms=backoff)
            if self.metrics is not None:
                self.metrics.batch_retried(now, batch)
            self.acc.reenqueue(batch, now, backoff,
                               self.metadata.leader_epochs.get(batch.tp, -1))
        else:
            exc = errors.error_for(error, pr.error_message)
            if batch.is_done:
                self._release(batch)  # expired while in flight: now free its memory
            else:
                # Kafka's Sender.completeBatch: canRetry is false (past delivery.timeout.ms,
                # out of retries, or not retriable), so failBatch with the broker's own
                # error — also for a retriable one that arrived after the delivery timeout,
                # before the sender's expiry pass saw the batch.  Sequences may be reused
                # only if the batch still had retries left (adjustSequenceNumbers): the
                # broker answered, so it did not keep the batch.
                self._fail(batch, exc, code=error,
                           adjust_sequences=batch.attempts < self.retries,
                           fate_unknown=False)
        if error.invalidates_metadata:
            hint = pr.current_leader
            if (error is ErrorCode.NOT_LEADER_OR_FOLLOWER and hint is not None
                    and hint.leader_id >= 0):
                if not self.metadata.update_leader_hint(batch.tp, hint.leader_id,
                                                        hint.leader_epoch, now):
                    self.metadata.request_update()
            else:
                self.metadata.request_update()

    def _can_retry(self, batch: ProducerBatch, error: ErrorCode, now: int) -> bool:
        if batch.is_done:
            return False
        if batch.has_reached_delivery_timeout(self.delivery_timeout_ms, now):
            return False
        if batch.attempts >= self.retries:
            return False
        idem = self.idem
        if idem is not None:
            # Kafka's TransactionManager.canRetry for the idempotent producer.
            tp = batch.tp
            if error is ErrorCode.UNKNOWN_PRODUCER_ID:
                # The broker lost our state: re-number this partition under a new epoch
                # (unless this batch was re-numbered already) and retry.
                if not idem.sequence_was_reset(batch):
                    idem.request_epoch_bump(tp)
                return True
            if error is ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER:
                unresolved = idem.has_unresolved_sequence(tp)
                if not unresolved and (idem.sequence_was_reset(batch)
                                       or not idem.is_next_sequence(tp, batch.base_sequence)):
                    return True  # an earlier batch is still being retried: wait for it
                if not unresolved or idem.is_next_for_unresolved(tp, batch.base_sequence):
                    idem.request_epoch_bump(tp)  # a real gap: start over at sequence 0
                return True
        return error.retriable

    def _succeed(self, batch: ProducerBatch, pr: PartitionResponse, now: int) -> None:
        batch.acked_ms = now
        base = pr.base_offset if self.acks != 0 else -1
        if batch.done(base, pr.log_append_time_ms, None):
            if self.metrics is not None:
                self.metrics.batch_completed(now, batch)
            events = self.events
            if events is not None and (events._wanted_all
                                       or events._wanted.get("batch.completed")):
                events.publish("batch.completed", batch_id=batch.id, topic=batch.topic,
                               partition=batch.partition, base_offset=base,
                               records=batch.records_count)
        self._release(batch)

    def _fail(self, batch: ProducerBatch, exc: BaseException, expired: bool = False,
              code: ErrorCode | None = None, adjust_sequences: bool = False,
              fate_unknown: bool | None = None) -> None:
        now = self.scheduler.now_ms
        if batch.is_done:
            self._release(batch)
            return
        batch.acked_ms = now
        idem = self.idem
        if idem is not None:
            idem.handle_failed(batch, code, adjust_sequences)
            if fate_unknown is None:
                fate_unknown = expired
            if fate_unknown and batch.attempts > 0 and batch.has_sequence:
                # It was sent and retried: the broker may hold it or not (Kafka marks
                # the partition's sequence unresolved for expired batches in retry).
                idem.mark_sequence_unresolved(batch)
        if batch.done(-1, -1, exc, final_state=FinalState.FAILED):
            if self.metrics is not None:
                self.metrics.batch_failed(now, batch)
            if self.events is not None:
                if expired:
                    self.events.publish("batch.expired", batch_id=batch.id,
                                        topic=batch.topic, partition=batch.partition,
                                        error=str(exc), records=batch.records_count,
                                        error_type=type(exc).__name__)
                else:
                    self.events.publish("batch.failed", batch_id=batch.id, topic=batch.topic,
                                        partition=batch.partition, error=str(exc),
                                        records=batch.records_count,
                                        error_type=type(exc).__name__)
        self._release(batch)

    def _release(self, batch: ProducerBatch) -> None:
        """Free memory only once the batch is final and no request still carries it."""
        if batch.in_flight or batch.memory_released or not batch.is_done:
            return
        self.acc.deallocate(batch)
        if self.on_batch_done is not None:
            self.on_batch_done(batch)

    # -- close --------------------------------------------------------------------------

    def initiate_close(self) -> None:
        self.closing = True
        self.acc.close()
        self.wakeup()

    def force_close(self, now: int) -> None:
        """Kafka's ``forceClose``: abort every queued batch; in-flight ones fail too."""
        self.forced = True
        exc_msg = "Producer is closed forcefully."
        for b in self.acc.abort_batches(lambda b: errors.KafkaError(exc_msg), now):
            self._fail(b, errors.KafkaError(exc_msg))
        for b in list(self.in_flight_batches.values()):
            del self.in_flight_batches[b.id]
            self._fail(b, errors.KafkaError(exc_msg))
        self.running = False
        if self._timer is not None:
            self._timer.cancel()
