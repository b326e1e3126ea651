"""Where records wait to be sent: one queue of batches per partition (Kafka's
``RecordAccumulator``).

The rules, each enforced by the method that carries them:

* :meth:`RecordAccumulator.append` — a record goes into the partition's last batch if it
  fits; otherwise that batch is closed (reason ``full``) and a new one is started with
  memory from the :class:`~producer_core.buffer_pool.BufferPool` (``batch.size``, or the
  record's own size if larger).  Unkeyed records without an explicit partition go to the
  built-in sticky partitioner's current partition (KIP-794).
* :meth:`RecordAccumulator.ready` — which brokers have a sendable head batch.
* :meth:`RecordAccumulator.drain` — which batches go into the next request to a broker.
* :meth:`RecordAccumulator.expired_batches` — queued batches past ``delivery.timeout.ms``.
* :meth:`RecordAccumulator.reenqueue` / :meth:`split_and_reenqueue` — retries and splits.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any, NamedTuple

from producer_core.batch import BatchState, FutureRecordMetadata, ProducerBatch
from producer_core.protocol import TopicPartition

RECORD_BATCH_OVERHEAD = 61


class _TopicInfo:
    __slots__ = ("deques", "entries", "partitioner")

    def __init__(self, partitioner: Any) -> None:
        self.deques: dict[int, deque[ProducerBatch]] = {}
        # (partition, TopicPartition, deque) in the order of ``deques``: what ready()
        # walks on every sender poll, without building a TopicPartition per partition.
        self.entries: list[tuple[int, TopicPartition, deque[ProducerBatch]]] = []
        self.partitioner = partitioner

    def new_deque(self, topic: str, partition: int) -> deque[ProducerBatch]:
        dq = self.deques[partition] = deque()
        self.entries.append((partition, TopicPartition(topic, partition), dq))
        return dq


class ReadyCheck(NamedTuple):
    ready_nodes: set[int]
    next_ready_check_delay_ms: int
    unknown_leader_topics: set[str]


class RecordAccumulator:
    """Per-partition queues of :class:`ProducerBatch`, fed by ``send()``, drained by the
    sender."""

    def __init__(self, *, batch_size: int, linger_ms: int, delivery_timeout_ms: int,
                 compression: str, compression_level: int | None, pool: Any,
                 builder_factory: Callable[[], Any],
                 upper_bound_fn: Callable[..., int], ratio_estimator: Any,
                 partitioner_factory: Callable[[str], Any] | None,
                 adaptive: bool, events: Any, driver: Any = None) -> None:
        self.batch_size = batch_size
        self.linger_ms = linger_ms
        self.delivery_timeout_ms = delivery_timeout_ms
        self.compression = compression
        self.compression_level = compression_level
        self.pool = pool
        self._builder_factory = builder_factory
        self._upper_bound_fn = upper_bound_fn
        self.estimator = ratio_estimator
        self._partitioner_factory = partitioner_factory
        self.adaptive = adaptive
        self.events = events
        self.driver = driver
        self._topics: dict[str, _TopicInfo] = {}
        self.incomplete: dict[int, ProducerBatch] = {}  # batch id -> batch, until freed
        self.muted: set[TopicPartition] = set()
        self._drain_index: dict[int, int] = {}
        self.flushes_in_progress = 0
        self.closed = False
        self._next_batch_id = 0
        self.next_batch_expiry_ms = 2**62
        self.recent: deque[ProducerBatch] = deque(maxlen=200)  # timeline (SEAMS §1)
        self.on_batch_created: Callable[[ProducerBatch], None] | None = None
        self.metadata: Any = None  # the producer's metadata, when append() is not given one
        # append() result registers (see its docstring)
        self.last_partition = -1
        self.batch_is_full = False
        self.new_batch_created = False
        self.needs_buffer = 0
        self.buffer_used = False
        self._compressed = compression != "none"

    # -- topics and deques --------------------------------------------------------------

    def _topic(self, topic: str) -> _TopicInfo:
        info = self._topics.get(topic)
        if info is None:
            part = self._partitioner_factory(topic) if self._partitioner_factory else None
            info = self._topics[topic] = _TopicInfo(part)
        return info

    def deque_for(self, tp: TopicPartition) -> deque[ProducerBatch]:
        info = self._topic(tp.topic)
        dq = info.deques.get(tp.partition)
        if dq is None:
            dq = info.new_deque(tp.topic, tp.partition)
        return dq

    def partitions(self) -> list[tuple[TopicPartition, deque[ProducerBatch]]]:
        out = []
        for topic in sorted(self._topics):
            info = self._topics[topic]
            for p in sorted(info.deques):
                out.append((TopicPartition(topic, p), info.deques[p]))
        return out

    # -- append -------------------------------------------------------------------------

    def append(self, topic: str, partition: int, timestamp_ms: int, key: bytes | None,
               value: bytes | None, headers: Any, now_ms: int, metadata: Any = None,
               buffer_size: int = 0, future: FutureRecordMetadata | None = None
               ) -> FutureRecordMetadata | None:
        """Add one record to its partition's last batch, or to a new batch.

        * ``partition < 0``: the built-in sticky partitioner picks (KIP-794): it stays on
          one partition until about ``batch.size`` bytes went there, then switches.  A
          switch is deferred while the partition's last batch is open (up to twice
          ``batch.size``) and completes before the next append once every batch there is
          full or sent (Kafka's ``partitionChanged``), so bursts switch on a batch
          boundary and leave no fractional batches behind.
        * The last batch takes the record if it fits (the first record of a batch always
          fits); if not, that batch is closed for appends (reason ``full``).
        * A new batch needs memory: without ``buffer_size`` nothing is appended, None is
          returned and :attr:`needs_buffer` says how much to allocate —
          ``max(batch.size, upper-bound size of this record)`` bytes.

        Returns the record's future.  To keep the per-record path free of allocations the
        other outcomes are left in attributes: :attr:`last_partition`,
        :attr:`batch_is_full` (the partition has a sendable batch now: wake the sender),
        :attr:`new_batch_created`, :attr:`needs_buffer` and :attr:`buffer_used` (False:
        the supplied memory was not needed and must go back to the pool).
        """
        info = self._topics.get(topic)
        if info is None:
            info = self._topic(topic)
        if metadata is None:
            metadata = self.metadata
        cur = None
        if partition < 0:
            part = info.partitioner
            cur = part._info  # BuiltInPartitioner.current without the property call
            if cur is None:
                partition = part.peek_current_partition(
                    metadata.partition_count(topic), metadata.available_partitions(topic))
                cur = part.current
            else:
                partition = cur.partition
            if cur.produced_bytes >= part.sticky_batch_size:
                dq = info.deques.get(partition)
                if not dq or dq[-1].is_full():
                    # Kafka's partitionChanged: a switch deferred while the partition's
                    # last batch was open completes once every batch there is full (or
                    # gone), before this record is appended or a batch is created.
                    part.update_partition_info(cur, 0, metadata.partition_count(topic),
                                               True, metadata.available_partitions(topic))
                    cur = part.current
                    partition = cur.partition
            self.last_partition = partition
        dq = info.deques.get(partition)
        if dq is None:
            dq = info.new_deque(topic, partition)
        if buffer_size:
            self.buffer_used = False
        if dq:
            last = dq[-1]
            before = last.estimate
            fut = last.try_append(timestamp_ms, key, value, headers, now_ms, future)
            if fut is not None:
                after = last.estimate
                full = last.capacity <= after  # (it took the record: not closed)
                self.batch_is_full = full or len(dq) > 1
                self.new_batch_created = False
                if cur is not None:
                    produced = cur.produced_bytes + (after - before)
                    limit = part.sticky_batch_size
                    if produced < limit or (not full and produced < 2 * limit):
                        cur.produced_bytes = produced  # the common case, inlined
                    else:
                        self._sticky_update(info, topic, partition, after - before, full,
                                            metadata)
                events = self.events
                if events is not None and events._subscribers and (
                        events._wanted_all or events._wanted.get("record.appended")):
                    self._publish_append(last, key, value)
                return fut
            first_reason = last.close_reason is None
            if last.close_for_appends("full", now_ms) and first_reason:
                self._publish_closed(last, "full")
            if cur is not None and cur.produced_bytes >= part.sticky_batch_size:
                # The record did not fit and a switch is due: it goes to the next sticky
                # partition rather than opening a fractional batch here (partitionChanged).
                return self.append(topic, -1, timestamp_ms, key, value, headers, now_ms,
                                   metadata, buffer_size, future)
        if not buffer_size:
            self.needs_buffer = max(self.batch_size, self._upper_bound_fn(key, value, headers))
            self.batch_is_full = False
            self.new_batch_created = False
            return None
        batch = self._new_batch(TopicPartition(topic, partition), buffer_size, now_ms)
        fut = batch.try_append(timestamp_ms, key, value, headers, now_ms, future)
        dq.append(batch)
        self.incomplete[batch.id] = batch
        self.buffer_used = True
        self.new_batch_created = True
        full = batch.is_full()
        self.batch_is_full = full or len(dq) > 1
        if cur is not None:
            self._sticky_update(info, topic, partition, batch.estimate, full, metadata)
        if self.events is not None and self.events.wants("record.appended"):
            self._publish_append(batch, key, value)
        return fut

    def _sticky_update(self, info: _TopicInfo, topic: str, partition: int, appended: int,
                       enable_switch: bool, metadata: Any) -> None:
        """Count bytes against the sticky partition; switch when enough went there
        (``batch.size``, or twice that while the partition's last batch is not full)."""
        part = info.partitioner
        cur = part.current
        if cur is None or cur.partition != partition:
            return
        produced = cur.produced_bytes + appended
        limit = part.sticky_batch_size
        if produced < limit or (not enable_switch and produced < 2 * limit):
            cur.produced_bytes = produced  # the common case, without a call
            return
        part.update_partition_info(cur, appended, metadata.partition_count(topic),
                                   enable_switch, metadata.available_partitions(topic))

    def _new_batch(self, tp: TopicPartition, buffer_size: int, now_ms: int,
                   ratio: float | None = None) -> ProducerBatch:
        self._next_batch_id += 1
        if ratio is None:
            ratio = self.estimator.estimation(tp.topic, self.compression)
        batch = ProducerBatch(self._next_batch_id, tp, self._builder_factory(),
                              buffer_size, buffer_size == self.batch_size, now_ms,
                              ratio, self._compressed, self.driver)
        batch.alloc_size = buffer_size
        self.recent.append(batch)
        events = self.events
        if events is not None and (events._wanted_all or events._wanted.get("batch.created")):
            events.publish("batch.created", batch_id=batch.id, topic=tp.topic,
                           partition=tp.partition, capacity=buffer_size)
        if self.on_batch_created is not None:
            self.on_batch_created(batch)
        return batch

    def _publish_append(self, batch: ProducerBatch, key: bytes | None,
                        value: bytes | None) -> None:
        size = (0 if key is None else len(key)) + (0 if value is None else len(value))
        self.events.publish("record.appended", topic=batch.topic, partition=batch.partition,
                            batch_id=batch.id, size=size, key=key)

    def _publish_closed(self, batch: ProducerBatch, reason: str) -> None:
        events = self.events
        if events is not None and (events._wanted_all or events._wanted.get("batch.closed")):
            events.publish("batch.closed", batch_id=batch.id, topic=batch.topic,
                           partition=batch.partition, reason=reason,
                           records=batch.records_count, bytes=batch.estimate)

    # -- ready --------------------------------------------------------------------------

    def ready(self, metadata: Any, now_ms: int) -> ReadyCheck:
        """Brokers that lead a partition whose head batch is sendable.

        A head batch is sendable when any of these holds (and it is not backing off):

        * more than one batch is queued for the partition, or the batch is full;
        * ``linger.ms`` passed since it was created (for a retried batch: its retry
          backoff passed since the last attempt);
        * threads are waiting for buffer-pool memory (memory pressure);
        * a ``flush()`` or ``close()`` is in progress.

        A retried batch still inside its backoff is never sendable — unless the
        partition's leader changed since its last attempt (KIP-951).  Muted partitions
        (``max.in.flight.requests.per.connection=1`` with a batch in flight) are skipped.
        Also returns the delay until the next batch could become sendable, and topics
        with a partition whose leader is unknown (the sender then refreshes metadata).
        """
        ready_nodes: set[int] = set()
        unknown: set[str] = set()
        next_delay = 2**62
        exhausted = self.pool.queued() > 0
        flushing = self.flushes_in_progress > 0
        closing = self.closed
        linger = self.linger_ms
        leaders = metadata.leaders
        epochs = metadata.leader_epochs
        muted = self.muted
        for topic, info in self._topics.items():
            # Kafka weighs partitions by queue length only once every partition of the
            # topic has a queue; before that the choice stays uniform — otherwise a
            # partition never picked yet would have no weight and never be picked.
            queue_sizes = ([] if self.adaptive and info.partitioner is not None
                           and len(info.deques) >= (metadata.partition_count(topic) or 0)
                           else None)
            part_ids = []
            # (The per-poll loop: one cached TopicPartition per queue, is_full() inlined,
            # and the waits below are positive without max(), see the comments.)
            for p, tp, dq in info.entries:
                leader = leaders.get(tp)
                if queue_sizes is not None and leader is not None:
                    queue_sizes.append(len(dq))
                    part_ids.append(p)
                if not dq:
                    continue
                if leader is None:
                    unknown.add(topic)
                    continue
                if leader in ready_nodes or (muted and tp in muted):
                    continue
                batch = dq[0]
                waited = now_ms - batch.last_attempt_ms
                if (batch.retry and waited < batch.retry_backoff_ms
                        and epochs.get(tp, -1) <= batch.leader_epoch):
                    # Backing off: not sendable before its backoff has passed (> 0 left).
                    left = batch.retry_backoff_ms - waited
                    if left < next_delay:  # noqa: PLR1730 (hot path: no call)
                        next_delay = left
                    continue
                full = len(dq) > 1 or batch._closed or (
                    batch.builder._count > 0 and batch.capacity <= batch.estimate)
                expired = waited >= linger
                if full or expired or exhausted or closing or flushing:
                    ready_nodes.add(leader)
                    if batch.close_reason is None or batch.retry:
                        reason = ("full" if batch.is_full() else "backlog" if full
                                  else ("retry-backoff" if batch.retry else "linger")
                                  if expired else "memory-pressure" if exhausted
                                  else "flush" if flushing else "close")
                        if batch.close_reason is None:
                            batch.mark_sendable(reason, now_ms)
                            self._publish_closed(batch, reason)
                        elif batch.state is BatchState.RETRYING:
                            batch.state = BatchState.READY
                            self._publish_closed(batch, "retry-backoff")
                else:
                    left = linger - waited  # (> 0: not expired)
                    if left < next_delay:  # noqa: PLR1730 (hot path: no call)
                        next_delay = left
            if info.partitioner is not None and self.adaptive:
                # None (or no partition with a leader) resets to the uniform choice.
                info.partitioner.update_partition_load_stats(queue_sizes, part_ids,
                                                             len(part_ids))
        return ReadyCheck(ready_nodes, next_delay, unknown)

    # -- drain --------------------------------------------------------------------------

    def drain(self, metadata: Any, nodes: list[int], max_size: int, now_ms: int,
              stop_partition: Callable[[ProducerBatch, TopicPartition], bool] | None = None,
              on_drain: Callable[[ProducerBatch], None] | None = None,
              partitions_for_node: Callable[[int], list[TopicPartition]] | None = None,
              ) -> dict[int, list[ProducerBatch]]:
        """For each ready broker, the head batches of the partitions it leads.

        Kafka's rules: start at the broker's saved drain index and go round its
        partitions once, taking at most one (head) batch per partition; skip muted
        partitions and retried batches still backing off; stop before the request would
        exceed ``max.request.size`` (a single oversized batch still goes, alone); stop at
        a partition whose idempotence sequence order forbids sending (``stop_partition``).
        Drained batches are sealed (compressed) and stop accepting records.
        """
        out: dict[int, list[ProducerBatch]] = {}
        epochs = metadata.leader_epochs
        muted = self.muted
        topics = self._topics
        for node in nodes:
            parts = partitions_for_node(node) if partitions_for_node else []
            if not parts:
                continue
            ready: list[ProducerBatch] = []
            size = 0
            n = len(parts)
            idx = start = self._drain_index.get(node, 0) % n
            while True:
                tp = parts[idx]
                self._drain_index[node] = idx
                idx = (idx + 1) % n
                if muted and tp in muted:
                    dq = None
                else:  # (_deque_or_none inlined)
                    info = topics.get(tp.topic)
                    dq = None if info is None else info.deques.get(tp.partition)
                if dq:
                    first = dq[0]
                    waited = now_ms - first.last_attempt_ms
                    backing_off = (first.retry and waited < first.retry_backoff_ms
                                   and epochs.get(tp, -1) <= first.leader_epoch)
                    if not backing_off:
                        if size + first.size_in_bytes > max_size and ready:
                            break
                        if stop_partition is not None and stop_partition(first, tp):
                            break
                        batch = dq.popleft()
                        if batch.close_reason is None:
                            # Sent because another partition made this broker ready.
                            batch.mark_sendable("piggyback", now_ms)
                            self._publish_closed(batch, "piggyback")
                        if on_drain is not None:
                            on_drain(batch)
                        self._seal(batch)
                        size += batch.size_in_bytes
                        ready.append(batch)
                        batch.drained_ms = now_ms
                if idx == start:
                    break
            if ready:
                out[node] = ready
        return out

    def _deque_or_none(self, tp: TopicPartition) -> deque[ProducerBatch] | None:
        info = self._topics.get(tp.topic)
        return None if info is None else info.deques.get(tp.partition)

    def _seal(self, batch: ProducerBatch) -> None:
        was = batch._sealed
        batch.seal()
        if not was and batch.uncompressed_bytes > 0 and batch.split_from is None:
            # Kafka updates the topic's compression-ratio estimate when a batch closes.
            self.estimator.update_estimation(batch.topic, self.compression,
                                  batch.compressed_bytes / batch.uncompressed_bytes)

    # -- expiry, retry, split -----------------------------------------------------------

    def expired_batches(self, now_ms: int) -> list[ProducerBatch]:
        """Queued head batches whose ``delivery.timeout.ms`` has passed since creation."""
        expired: list[ProducerBatch] = []
        nxt = 2**62
        timeout = self.delivery_timeout_ms
        for info in self._topics.values():
            for _p, _tp, dq in info.entries:
                while dq:
                    b = dq[0]
                    created = b.created_ms
                    if timeout <= now_ms - created:
                        dq.popleft()
                        b.close_for_appends(b.close_reason or "expired", now_ms)
                        expired.append(b)
                    else:
                        if created + timeout < nxt:  # noqa: PLR1730 (hot path: no call)
                            nxt = created + timeout
                        break
        self.next_batch_expiry_ms = nxt
        return expired

    def reenqueue(self, batch: ProducerBatch, now_ms: int, backoff_ms: int,
                  leader_epoch: int) -> None:
        """Put a retried batch back at the head of its queue (in sequence order when it
        carries an idempotence sequence), to be sent after ``backoff_ms``."""
        batch.reenqueued(now_ms)
        batch.retry_backoff_ms = backoff_ms
        batch.leader_epoch = leader_epoch
        self._insert_in_sequence_order(self.deque_for(batch.tp), batch)

    @staticmethod
    def _insert_in_sequence_order(dq: deque[ProducerBatch], batch: ProducerBatch) -> None:
        if not batch.has_sequence:
            dq.appendleft(batch)
            return
        before = []
        while dq and dq[0].has_sequence and dq[0].base_sequence < batch.base_sequence:
            before.append(dq.popleft())
        dq.appendleft(batch)
        for b in reversed(before):
            dq.appendleft(b)

    def split_and_reenqueue(self, big: ProducerBatch, now_ms: int,
                            decode: Callable[[bytes], Any]) -> list[ProducerBatch]:
        """Kafka's answer to ``MESSAGE_TOO_LARGE`` on a multi-record batch: reset the
        topic's compression estimate to at least 1.0, re-pack the records into batches of
        ``batch.size`` and put them at the head of the queue.  Each record's future and
        callbacks move to its new batch; the new batches keep the original creation time
        (so ``delivery.timeout.ms`` still counts from the first send), start with no
        attempts ("as if they are not even tried", Kafka's ``splitAndReenqueue``) and take
        no buffer-pool memory (as in Kafka, split batches live outside the pool)."""
        actual = (big.compressed_bytes / big.uncompressed_bytes
                  if big.uncompressed_bytes else 1.0)
        self.estimator.set_estimation(big.topic, self.compression, max(1.0, actual))
        decoded = decode(big.encode())
        arrivals = [t for t, n in zip(big.arr_t, big.arr_n) for _ in range(n)]
        pieces: list[ProducerBatch] = []
        current: ProducerBatch | None = None
        for i, rec in enumerate(decoded.records):
            fut = big.futures[i]
            # Appended "at" the record's original arrival, so send latency stays honest.
            if current is not None:
                if current.try_append(rec.timestamp_ms, rec.key, rec.value, rec.headers,
                                      arrivals[i], fut) is not None:
                    continue
                current.close_for_appends("full", now_ms)
            current = self._new_batch(big.tp, self.batch_size, big.created_ms, ratio=1.0)
            current.alloc_size = 0
            current.split_from = big.id  # Kafka: split batches start untried (attempts 0)
            current.try_append(rec.timestamp_ms, rec.key, rec.value, rec.headers, arrivals[i],
                               fut)
            pieces.append(current)
        seq = big.base_sequence
        for p in pieces:
            p.close_for_appends("split", now_ms)
            p.close_reason = big.close_reason
            if big.has_sequence:
                p.set_producer_state(big.producer_id, big.producer_epoch, seq)
                seq += p.records_count
            self.incomplete[p.id] = p
        dq = self.deque_for(big.tp)
        for p in reversed(pieces):
            self._insert_in_sequence_order(dq, p)
        if self.events is not None:
            self.events.publish("batch.split", batch_id=big.id, into=[p.id for p in pieces])
        return pieces

    # -- completion and memory ----------------------------------------------------------

    def deallocate(self, batch: ProducerBatch) -> None:
        """Free a finished batch's memory (only once, only after its final outcome)."""
        if batch.memory_released:
            raise RuntimeError(f"batch {batch.id} memory released twice")
        batch.memory_released = True
        self.incomplete.pop(batch.id, None)
        if batch.alloc_size:
            self.pool.deallocate(batch.alloc_size)

    def abort_batches(self, error_fn: Callable[[ProducerBatch], BaseException],
                      now_ms: int) -> list[ProducerBatch]:
        """Fail every queued batch (force close): Kafka's ``abortIncompleteBatches``."""
        aborted = []
        for info in self._topics.values():
            for dq in info.deques.values():
                while dq:
                    b = dq.popleft()
                    b.close_for_appends(b.close_reason or "close", now_ms)
                    aborted.append(b)
        return aborted

    # -- flush / close ------------------------------------------------------------------

    def begin_flush(self) -> None:
        self.flushes_in_progress += 1

    def end_flush(self) -> None:
        self.flushes_in_progress -= 1

    def close(self) -> None:
        self.closed = True

    def discard_all(self) -> None:
        """Let go of every batch at once (``Simulation.dispose``), without completing any."""
        self.closed = True
        for info in self._topics.values():
            for dq in info.deques.values():
                dq.clear()
        self.incomplete.clear()
        self.recent.clear()

    def has_undrained(self) -> bool:
        return any(dq for info in self._topics.values() for dq in info.deques.values())

    def has_incomplete(self) -> bool:
        return bool(self.incomplete)

    def queued_batches(self, tp: TopicPartition) -> list[ProducerBatch]:
        dq = self._deque_or_none(tp)
        return [] if dq is None else list(dq)
