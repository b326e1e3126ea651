"""The idempotent producer's sequence bookkeeping (the idempotent half of Kafka's
``TransactionManager``, with ``TxnPartitionMap``/``TxnPartitionEntry``).

The sender asks it which sequence a newly drained batch gets, whether a partition may
drain now (``shouldStopDrainBatchesForPartition`` uses it), and tells it how each
sequenced batch ended; at the start of each poll it resolves unresolved partitions and
bumps the epoch when a partition asked for it.
"""

from __future__ import annotations

from producer_core.batch import NO_SEQUENCE, ProducerBatch
from producer_core.protocol import ErrorCode, TopicPartition


class _PartitionSequences:
    """One partition's idempotence bookkeeping (Kafka's ``TxnPartitionEntry``)."""

    __slots__ = ("in_flight", "last_acked", "next_sequence", "producer_epoch", "producer_id")

    def __init__(self) -> None:
        # The producer id/epoch this partition's sequences belong to: it lags the
        # producer's after an epoch bump until the partition's old batches have resolved.
        self.producer_id = -1
        self.producer_epoch = -1
        self.next_sequence = 0
        self.last_acked = -1
        # Sequenced batches not yet resolved (sent, or queued for a retry), kept in
        # (producer id, epoch, base sequence) order like ``inflightBatchesBySequence``.
        self.in_flight: list[ProducerBatch] = []


def _sequence_order(b: ProducerBatch) -> tuple[int, int, int]:
    return (b.producer_id, b.producer_epoch, b.base_sequence)


class IdempotenceState:
    """Producer id, epoch and per-partition sequences (the idempotent half of Kafka's
    ``TransactionManager`` with its ``TxnPartitionMap``).

    Everything about sequences is tracked per partition, as in Kafka 4.x:

    * A batch gets the partition's next sequence when it is first drained and keeps it
      across retries; a partition only re-sends its earliest unresolved batch, so
      retries never reorder.
    * When a batch that was already retried expires (``delivery.timeout.ms``), the
      broker may or may not hold it: the partition's sequence is *unresolved*
      (``markSequenceUnresolved``).  That partition alone drains no new batch until its
      remaining batches have resolved; then, if the last acknowledged sequence does not
      reach the next one, it asks for an epoch bump (``maybeResolveSequences``).
    * ``OUT_OF_ORDER_SEQUENCE_NUMBER`` that proves a gap, or a batch failing for good
      while it still had retries left, also asks for a bump for its partition.
    * The bump (KIP-360, client side) happens once per request, at the start of the next
      sender poll (``bumpIdempotentEpochAndResetIdIfNeeded``): same producer id, epoch
      + 1, and only the partitions that asked get their unresolved batches re-numbered
      from sequence 0 under the new epoch.  Every other partition moves to the new epoch
      lazily, the next time it drains a new batch with nothing of the old epoch
      outstanding (``maybeUpdateProducerIdAndEpoch``): its own in-flight batches finish
      under the old epoch, so healthy partitions keep flowing.  The brokers fence a late
      request of an older epoch with ``INVALID_PRODUCER_EPOCH``, so a request the client
      gave up on cannot land behind newer records.  At the last epoch (32767) the producer
      asks the cluster for a new producer id instead.
    """

    MAX_EPOCH = 32767

    def __init__(self) -> None:
        self.producer_id = -1
        self.producer_epoch = -1
        self.init_in_flight = False
        self.partitions: dict[TopicPartition, _PartitionSequences] = {}
        # Partition -> the sequence expected after the batch whose fate is unknown.
        self.unresolved: dict[TopicPartition, int] = {}
        self.to_rewrite: set[TopicPartition] = set()
        self.epoch_bump_required = False
        self.epoch_bumps = 0
        # Batches whose sequence was re-numbered by a bump (``sequenceHasBeenReset``).
        self._reset_ids: set[int] = set()

    # -- producer id and epoch ------------------------------------------------------------

    @property
    def has_producer_id(self) -> bool:
        return self.producer_id >= 0

    def set_producer_id(self, pid: int, epoch: int) -> None:
        """A new producer id from ``InitProducerId``; partitions adopt it lazily."""
        self.producer_id, self.producer_epoch = pid, epoch

    def request_epoch_bump(self, tp: TopicPartition) -> None:
        """Kafka's ``requestEpochBumpForPartition``."""
        self.epoch_bump_required = True
        self.to_rewrite.add(tp)

    def bump_epoch_if_needed(self) -> bool:
        """Kafka's ``bumpIdempotentEpochAndResetIdIfNeeded`` (idempotent part): bump the
        epoch once for every partition that asked, re-number their unresolved batches
        from 0.  Returns True when the epoch was bumped."""
        if not self.epoch_bump_required:
            return False
        self.epoch_bump_required = False
        if self.producer_epoch >= self.MAX_EPOCH:
            # Epoch exhausted: a new producer id; the partitions that asked start over
            # (their batches get fresh sequences once the id arrives).
            self.producer_id, self.producer_epoch = -1, -1
            for tp in sorted(self.to_rewrite):
                entry = self.partitions.pop(tp, None)
                if entry is not None:
                    for b in entry.in_flight:
                        b.set_producer_state(-1, -1, NO_SEQUENCE)
                self.unresolved.pop(tp, None)
            self.to_rewrite.clear()
            return False
        self.producer_epoch += 1
        self.epoch_bumps += 1
        for tp in sorted(self.to_rewrite):
            self._start_sequences_at_beginning(tp)
            self.unresolved.pop(tp, None)
        self.to_rewrite.clear()
        return True

    def _start_sequences_at_beginning(self, tp: TopicPartition) -> None:
        entry = self._entry(tp)
        seq = 0
        for b in entry.in_flight:
            b.set_producer_state(self.producer_id, self.producer_epoch, seq)
            self._reset_ids.add(b.id)
            seq += b.records_count
        entry.in_flight.sort(key=_sequence_order)
        entry.producer_id, entry.producer_epoch = self.producer_id, self.producer_epoch
        entry.next_sequence = seq
        entry.last_acked = -1

    # -- per-partition state ------------------------------------------------------------

    def _entry(self, tp: TopicPartition) -> _PartitionSequences:
        entry = self.partitions.get(tp)
        if entry is None:
            entry = self.partitions[tp] = _PartitionSequences()
        return entry

    def has_in_flight(self, tp: TopicPartition) -> bool:
        entry = self.partitions.get(tp)
        return entry is not None and bool(entry.in_flight)

    def is_stale(self, tp: TopicPartition) -> bool:
        """Kafka's ``hasStaleProducerIdAndEpoch``: the partition still uses an older
        producer id or epoch than the producer's."""
        entry = self.partitions.get(tp)
        if entry is None:
            return True
        return (entry.producer_id, entry.producer_epoch) != (self.producer_id,
                                                             self.producer_epoch)

    def has_unresolved_sequence(self, tp: TopicPartition) -> bool:
        return tp in self.unresolved

    def first_in_flight_sequence(self, tp: TopicPartition) -> int:
        entry = self.partitions.get(tp)
        return entry.in_flight[0].base_sequence if entry and entry.in_flight else NO_SEQUENCE

    def sequence_was_reset(self, batch: ProducerBatch) -> bool:
        return batch.id in self._reset_ids

    def assign(self, batch: ProducerBatch) -> None:
        """Give a newly drained batch the partition's next sequence; a stale partition
        with nothing outstanding first moves to the current epoch at sequence 0
        (``maybeUpdateProducerIdAndEpoch``)."""
        tp = batch.tp
        entry = self._entry(tp)
        if self.is_stale(tp) and not entry.in_flight:
            self._start_sequences_at_beginning(tp)
        seq = entry.next_sequence
        batch.set_producer_state(self.producer_id, self.producer_epoch, seq)
        entry.next_sequence = (seq + batch.records_count) & 0x7FFFFFFF
        in_flight = entry.in_flight
        # The list is kept sorted; a batch that sorts last (the usual case) goes at the end
        # without a sort (a stable sort would leave it there too).
        sort = bool(in_flight) and _sequence_order(in_flight[-1]) > _sequence_order(batch)
        in_flight.append(batch)
        if sort:
            in_flight.sort(key=_sequence_order)

    def replace(self, big: ProducerBatch, pieces: list[ProducerBatch]) -> None:
        """A split batch's pieces take its place (and its sequences)."""
        entry = self.partitions.get(big.tp)
        if entry is not None and big in entry.in_flight:
            entry.in_flight.remove(big)
            entry.in_flight.extend(p for p in pieces if p.has_sequence)
            entry.in_flight.sort(key=_sequence_order)
        self._reset_ids.discard(big.id)

    def _remove(self, batch: ProducerBatch) -> None:
        entry = self.partitions.get(batch.tp)
        if entry is not None and batch in entry.in_flight:
            entry.in_flight.remove(batch)
        self._reset_ids.discard(batch.id)

    def handle_completed(self, batch: ProducerBatch) -> None:
        """Kafka's ``handleCompletedBatch``: advance the last acknowledged sequence."""
        entry = self.partitions.get(batch.tp)
        if entry is not None and (batch.producer_id, batch.producer_epoch) == \
                (entry.producer_id, entry.producer_epoch):
            last = batch.base_sequence + batch.records_count - 1
            entry.last_acked = max(entry.last_acked, last)
        self._remove(batch)

    def handle_failed(self, batch: ProducerBatch, error: ErrorCode | None,
                      adjust_sequences: bool) -> None:
        """Kafka's ``handleFailedBatch`` for the idempotent producer: a batch failed for
        good.  ``OUT_OF_ORDER_SEQUENCE_NUMBER`` means a gap: bump this partition's epoch.
        ``UNKNOWN_PRODUCER_ID``: the broker lost our state; start this partition over.
        Otherwise bump only if the sequence could be reused (``adjust_sequences``: the
        batch still had retries left, so the broker surely did not keep it)."""
        self._remove(batch)
        tp = batch.tp
        if error is ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER:
            self.request_epoch_bump(tp)
        elif error is ErrorCode.UNKNOWN_PRODUCER_ID:
            self.partitions.pop(tp, None)
            self.unresolved.pop(tp, None)
        elif adjust_sequences:
            self.request_epoch_bump(tp)

    def mark_sequence_unresolved(self, batch: ProducerBatch) -> None:
        """Kafka's ``markSequenceUnresolved``: a batch that was retried expired; whether
        the broker holds it is unknown until the partition's other batches resolve."""
        nxt = batch.base_sequence + batch.records_count
        self.unresolved[batch.tp] = max(self.unresolved.get(batch.tp, nxt), nxt)

    def is_next_sequence(self, tp: TopicPartition, sequence: int) -> bool:
        entry = self.partitions.get(tp)
        return sequence - (entry.last_acked if entry is not None else -1) == 1

    def is_next_for_unresolved(self, tp: TopicPartition, sequence: int) -> bool:
        return self.unresolved.get(tp) == sequence

    def maybe_resolve_sequences(self) -> None:
        """Kafka's ``maybeResolveSequences``: an unresolved partition with nothing left
        outstanding is resolved if its acknowledgements reach its next sequence (the
        expired batch was written after all); otherwise it asks for an epoch bump."""
        if not self.unresolved:
            return
        for tp in sorted(self.unresolved):
            if self.has_in_flight(tp):
                continue
            entry = self._entry(tp)
            if not self.is_next_sequence(tp, entry.next_sequence):
                self.request_epoch_bump(tp)
            del self.unresolved[tp]

    def resolution_pending(self) -> bool:
        """Is there sequence work the next poll can do right away?"""
        return self.epoch_bump_required or any(
            not self.has_in_flight(tp) for tp in self.unresolved)
