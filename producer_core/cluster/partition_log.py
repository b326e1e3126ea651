"""One partition's log on the mock cluster: validation, idempotent-producer state, offsets.

The broker reads each batch's header with the same RecordBatch v2 reader the rest of the
package uses (``records.batch_header``: size, batchLength, magic 2, codec id, CRC-32C) and
adds the broker's own rules on top (record count vs lastOffsetDelta, sequences, epochs).
The producer's *encoder* is checked independently by the tests, which decode every stored
batch with kafka-python as an oracle.

Simplification (documented in the UI): the replicas of a partition share this one log.
Followers are modelled only as *time* (when they acknowledge); a new leader therefore has
every batch the old leader appended, and there is no unclean-leader truncation.
"""

from __future__ import annotations

import struct
from collections import deque
from dataclasses import dataclass

from producer_core.errors import CorruptRecordError
from producer_core.protocol import ErrorCode
from producer_core.records import BatchHeader, batch_header, set_base_offset

_INT32_MAX = 2**31 - 1
_BASE_OFFSET = struct.Struct(">q")
IDEMPOTENT_WINDOW = 5  # the broker remembers the last 5 batches per producer and partition


class BatchRejected(Exception):
    """A batch the broker refuses; carries the Kafka error code."""

    def __init__(self, error: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.error = error


def parse_header(data: bytes) -> BatchHeader:
    """Decode and validate a RecordBatch v2 header the way a broker does.

    Kafka's rules: at least 61 bytes; ``magic`` 2; ``batchLength`` equals the bytes that
    follow it; the CRC-32C over attributes..end matches; the batch holds at least one
    record and ``lastOffsetDelta`` is ``recordsCount - 1``.  A broken frame or CRC is
    ``CORRUPT_MESSAGE``; an inconsistent record count is ``INVALID_RECORD``.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise BatchRejected(ErrorCode.CORRUPT_MESSAGE, f"batch is {type(data).__name__}, not bytes")
    try:
        h = batch_header(data)
    except CorruptRecordError as exc:
        raise BatchRejected(ErrorCode.CORRUPT_MESSAGE, str(exc)) from None
    if h.records_count < 1 or h.last_offset_delta != h.records_count - 1:
        raise BatchRejected(ErrorCode.INVALID_RECORD,
                            f"recordsCount {h.records_count} with lastOffsetDelta "
                            f"{h.last_offset_delta}")
    return h


@dataclass(slots=True)
class _BatchMeta:
    first_seq: int
    last_seq: int
    base_offset: int
    last_offset_delta: int


class _ProducerEntry:
    __slots__ = ("epoch", "recent")

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch
        self.recent: deque[_BatchMeta] = deque(maxlen=IDEMPOTENT_WINDOW)


class PartitionLog:
    """The stored batches of one partition and the per-producer sequence state."""

    __slots__ = (
        "_producers",
        "appends",
        "batches",
        "bytes_appended",
        "duplicates",
        "log_end_offset",
        "log_start_offset",
        "partition",
        "retention_batches",
        "topic",
    )

    def __init__(self, topic: str, partition: int) -> None:
        self.topic = topic
        self.partition = partition
        self.batches: deque[bytes] = deque()
        self.log_end_offset = 0
        self.log_start_offset = 0  # the first offset still retained
        self.bytes_appended = 0  # every stored batch's size, retained or not
        self.retention_batches: int | None = None  # None keeps every batch
        self._producers: dict[int, _ProducerEntry] = {}
        self.appends = 0
        self.duplicates = 0

    def trim(self, keep: int) -> None:
        """Drop the oldest batches beyond ``keep``, as retention would (offsets keep counting;
        the idempotence state lives in ``_producers`` and needs no old batch)."""
        batches = self.batches
        while len(batches) > keep:
            batches.popleft()
        # The first batch's baseOffset (its first 8 bytes): the stored batches were
        # validated on append, so the header needs no second check (nor its CRC).
        self.log_start_offset = (_BASE_OFFSET.unpack_from(batches[0])[0] if batches
                                 else self.log_end_offset)

    def check_sequence(self, h: BatchHeader) -> int | None:
        """Idempotence: return the original base offset for a duplicate, None for a new
        batch in sequence, or raise.

        Kafka's rules per (producer id, partition): a lower epoch than the broker knows is
        fenced (``INVALID_PRODUCER_EPOCH``); a new epoch (or a producer the partition has
        never seen) must start at sequence 0; a batch matching one of the last five the
        broker stored is a duplicate and is answered with the offset it got the first time;
        anything else must start exactly one after the last stored sequence, else
        ``OUT_OF_ORDER_SEQUENCE_NUMBER``.
        """
        if h.producer_id < 0:
            return None
        entry = self._producers.get(h.producer_id)
        if entry is None or h.producer_epoch > entry.epoch:
            if h.base_sequence != 0:
                raise BatchRejected(
                    ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
                    f"producer {h.producer_id} epoch {h.producer_epoch} is new to {self.topic}-"
                    f"{self.partition}: expected sequence 0, got {h.base_sequence}")
            return None
        if h.producer_epoch < entry.epoch:
            raise BatchRejected(ErrorCode.INVALID_PRODUCER_EPOCH,
                                f"epoch {h.producer_epoch} is older than {entry.epoch}")
        last_seq = h.last_sequence
        for meta in entry.recent:
            if meta.first_seq == h.base_sequence and meta.last_seq == last_seq:
                return meta.base_offset
        if entry.recent:
            expected = (entry.recent[-1].last_seq + 1) % (_INT32_MAX + 1)
            if h.base_sequence != expected:
                raise BatchRejected(
                    ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
                    f"producer {h.producer_id} on {self.topic}-{self.partition}: expected "
                    f"sequence {expected}, got {h.base_sequence}")
        return None

    def append(self, data: bytes, h: BatchHeader, leader_epoch: int) -> tuple[int, bool]:
        """Append a validated batch; returns ``(base_offset, duplicate)``.

        The broker assigns offsets: the batch's base offset is the log end offset, and the
        log end offset moves past the batch's last record.
        """
        original = self.check_sequence(h)
        if original is not None:
            self.duplicates += 1
            return original, True
        base = self.log_end_offset
        stored = set_base_offset(data, base, partition_leader_epoch=leader_epoch)
        self.batches.append(stored)
        self.bytes_appended += len(stored)
        self.log_end_offset = base + h.last_offset_delta + 1
        self.appends += 1
        if self.retention_batches is not None:
            self.trim(self.retention_batches)
        if h.producer_id >= 0:
            entry = self._producers.get(h.producer_id)
            if entry is None or h.producer_epoch > entry.epoch:
                entry = self._producers[h.producer_id] = _ProducerEntry(h.producer_epoch)
            entry.recent.append(_BatchMeta(h.base_sequence, h.last_sequence, base,
                                           h.last_offset_delta))
        return base, False
