"""A batch of records for one partition, and the futures its records hand back.

Kafka's ``ProducerBatch``, ``ProduceRequestResult`` and ``FutureRecordMetadata``:

* A :class:`ProducerBatch` collects records for one topic-partition in a RecordBatch v2
  builder until it is closed (full, linger elapsed, flush, ...), is drained into a
  ProduceRequest, and finally completes exactly once: ``SUCCEEDED``, ``FAILED`` or
  ``ABORTED`` (:class:`FinalState`).  Kafka's rule: a batch that already succeeded must
  never be completed again (that raises); a late answer for a batch that already failed
  (for example it expired while in flight) is ignored.
* A :class:`ProduceRequestResult` is the batch's shared outcome; every record's
  :class:`FutureRecordMetadata` reads its offset (``base_offset + index``) from it.
* Futures complete once; callbacks run once, in record order, after the batch's outcome
  is known.  ``result()`` on an unfinished future drives simulated time, like Java's
  ``Future.get()`` blocks the calling thread.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any

from producer_core.compression import COMPRESSION_RATE_ESTIMATION_FACTOR as ESTIMATION_FACTOR
from producer_core.protocol import TopicPartition
from producer_core.records import (
    _NO_CHUNK,
    _NULL,
    _TABLE_SIZE,
    _ZZ,
    RECORD_BATCH_OVERHEAD,
    estimate_batch_size_upper_bound,
    record_size_in_bytes,
    size_of_varint,
)
from producer_core.records import encode_varint as _encode_varint

_ZZN = _TABLE_SIZE
_join = b"".join

# Bytes a zigzag varint takes for small non-negative values (lengths, deltas).
_SZN = 1 << 15
_SZ = bytes(1 if i < 64 else 2 if i < 8192 else 3 for i in range(_SZN))

NO_SEQUENCE = -1
NO_PRODUCER_ID = -1


class FinalState(Enum):
    """How a batch ended (Kafka's ``ProducerBatch.FinalState``)."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ABORTED = "aborted"


class BatchState(Enum):
    """Where a batch is in its life, as the lab shows it (SEAMS §1 ``state``)."""

    OPEN = "open"  # accepting appends
    READY = "ready"  # closed for appends (or sendable), waiting to be drained
    IN_FLIGHT = "in_flight"  # inside a ProduceRequest with no answer yet
    RETRYING = "retrying"  # re-enqueued after a retriable error, backing off
    DONE = "done"  # final state reached


Callback = Callable[[Any, "BaseException | None"], None]


class ProduceRequestResult:
    """The outcome shared by every record of one batch (Kafka's ``ProduceRequestResult``).

    ``complete()`` may be called once; a second call raises ``RuntimeError`` — Kafka's
    guard that a result is never overwritten once readers may have seen it.
    """

    __slots__ = (
        "_waiting",
        "base_offset",
        "completed",
        "driver",
        "error",
        "log_append_time_ms",
        "record_errors",
        "tp",
    )

    def __init__(self, tp: TopicPartition, driver: Any = None) -> None:
        self.tp = tp
        self.base_offset = -1
        self.log_append_time_ms = -1
        self.error: BaseException | None = None
        # index -> error for a partial failure (INVALID_RECORD names single records)
        self.record_errors: dict[int, BaseException] | None = None
        self.completed = False
        self._waiting: list[FutureRecordMetadata] | None = None
        self.driver = driver  # the producer: lets result() move simulated time

    def complete(self, base_offset: int, log_append_time_ms: int = -1,
                 error: BaseException | None = None,
                 record_errors: dict[int, BaseException] | None = None) -> None:
        if self.completed:
            raise RuntimeError(f"the produce result for {self.tp} was already completed")
        self.base_offset = base_offset
        self.log_append_time_ms = log_append_time_ms
        self.error = error
        self.record_errors = record_errors
        self.completed = True
        waiting, self._waiting = self._waiting, None
        if waiting:
            for fut in waiting:
                fut._fire()

    def _wait(self, fut: FutureRecordMetadata) -> None:
        if self._waiting is None:
            self._waiting = [fut]
        else:
            self._waiting.append(fut)


# FutureRecordMetadata slots a hot-path future leaves unset, and what they read as.
_LAZY_DEFAULTS = {"_callbacks": None, "_fired": False, "_error": None, "_driver": None}
_new_object = object.__new__


class FutureRecordMetadata:
    """What ``send()`` returns: ``RecordMetadata`` or the error, once the batch is done.

    Callbacks take ``(metadata, exception)`` like Kafka's ``Callback.onCompletion``: on
    success ``exception`` is None; on failure ``metadata`` names the topic and partition
    with offset -1 (Kafka's "empty" metadata).  Each callback runs
    exactly once; one added after completion runs at once.
    """

    __slots__ = (
        "_callbacks",
        "_driver",
        "_error",
        "_fired",
        "_index",
        "_result",
        "key_size",
        "partition",
        "timestamp_ms",
        "topic",
        "value_size",
    )

    def __init__(self, result: ProduceRequestResult | None, index: int, topic: str,
                 partition: int, timestamp_ms: int, key_size: int, value_size: int) -> None:
        self._result = result
        self._index = index
        self.topic = topic
        self.partition = partition
        self.timestamp_ms = timestamp_ms
        self.key_size = key_size
        self.value_size = value_size
        self._callbacks: list[Callback] | None = None
        self._fired = False
        self._error: BaseException | None = None  # failed before reaching a batch
        self._driver: Any = None

    def __getattr__(self, name: str) -> Any:
        # Only called for a slot that was never set: futures made on the per-record hot
        # path (ProducerBatch.try_append) skip __init__ and set just the per-record
        # fields; the rest have these defaults, and topic/partition are the batch's.
        if name in _LAZY_DEFAULTS:
            return _LAZY_DEFAULTS[name]
        if name == "topic" or name == "partition":
            try:
                tp = object.__getattribute__(self, "_result").tp
            except AttributeError:
                pass
            else:
                return tp.topic if name == "topic" else tp.partition
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    # -- construction helpers ---------------------------------------------------------

    @classmethod
    def pending(cls, topic: str, driver: Any = None) -> FutureRecordMetadata:
        """A future whose record has not reached a batch yet (the send is blocked)."""
        fut = cls(None, 0, topic, -1, -1, -1, -1)
        fut._driver = driver
        return fut

    @classmethod
    def failed(cls, topic: str, error: BaseException, partition: int = -1,
               driver: Any = None) -> FutureRecordMetadata:
        """Kafka's ``FutureFailure``: send() reports this error through the future."""
        fut = cls(None, 0, topic, partition, -1, -1, -1)
        fut._driver = driver
        fut.fail(error)
        return fut

    def fail(self, error: BaseException) -> None:
        """Complete a future that never reached a batch with ``error`` (exactly once)."""
        if self.done():
            raise RuntimeError(f"future for a record to {self.topic} was already completed")
        self._error = error
        self._fire()

    def attach(self, result: ProduceRequestResult, index: int, partition: int,
               timestamp_ms: int, key_size: int, value_size: int) -> None:
        """Point a pending future (or a split record's future) at its batch's result."""
        self._result = result
        self._index = index
        self.partition = partition
        self.timestamp_ms = timestamp_ms
        self.key_size = key_size
        self.value_size = value_size
        if self._callbacks and not self._fired:
            if result.completed:
                self._fire()
            else:
                result._wait(self)

    # -- the Future API -----------------------------------------------------------------

    def done(self) -> bool:
        if self._error is not None:
            return True
        r = self._result
        return r is not None and r.completed

    def exception(self, timeout_ms: int | None = None) -> BaseException | None:
        """The error, or None on success; drives simulated time while not done."""
        if not self.done():
            self._drive(timeout_ms)
        return self._outcome_error()

    def _outcome_error(self) -> BaseException | None:
        if self._error is not None:
            return self._error
        r = self._result
        if r.record_errors and self._index in r.record_errors:
            return r.record_errors[self._index]
        return r.error

    def result(self, timeout_ms: int | None = None):
        """``RecordMetadata`` on success, else raise the error (Java's ``get()``).

        If not done, simulated time runs until it is (or ``timeout_ms`` of simulated time
        passes: ``KafkaTimeoutError``).
        """
        exc = self.exception(timeout_ms)
        if exc is not None:
            raise exc
        return self._metadata()

    get = result

    def add_callback(self, callback: Callback) -> FutureRecordMetadata:
        """Run ``callback(metadata, exception)`` once the record completes (now if done)."""
        if not callable(callback):
            raise TypeError(f"callback must be callable, got {type(callback).__name__}")
        if self._fired:
            self._call(callback)
            return self
        if self._callbacks is None:
            self._callbacks = [callback]
            if self._result is not None:
                self._result._wait(self)
        else:
            self._callbacks.append(callback)
        return self

    def _metadata(self):
        from producer_core.types import RecordMetadata

        r = self._result
        offset = -1 if r.base_offset == -1 else r.base_offset + self._index
        ts = r.log_append_time_ms if r.log_append_time_ms != -1 else self.timestamp_ms
        return RecordMetadata(self.topic, self.partition, offset, ts,
                              self.key_size, self.value_size)

    def _call(self, callback: Callback) -> None:
        exc = self._outcome_error()
        if exc is None:
            callback(self._metadata(), None)
        else:
            # Kafka (since 3.1) hands the callback an "empty" metadata naming the
            # topic-partition, with -1 everywhere else, rather than null.
            from producer_core.types import RecordMetadata

            callback(RecordMetadata(self.topic, self.partition, -1, -1, -1, -1), exc)

    def _fire(self) -> None:
        if self._fired:
            raise RuntimeError(f"callbacks for a record to {self.topic} already ran")
        self._fired = True
        cbs, self._callbacks = self._callbacks, None
        if cbs:
            for cb in cbs:
                try:
                    self._call(cb)
                except Exception as exc:  # noqa: BLE001 - Kafka logs it and goes on
                    # A failing user callback must not break the sender or the other
                    # records of the batch (Kafka: "Error executing user-provided callback").
                    driver = self._driver or (self._result.driver if self._result else None)
                    if driver is not None:
                        driver._callback_failed(self, exc)

    def _drive(self, timeout_ms: int | None) -> None:
        driver = self._driver
        if driver is None and self._result is not None:
            driver = self._result.driver
        if driver is None:
            raise RuntimeError("this future is not attached to a simulation")
        driver._drive_until(self.done, timeout_ms, what=f"a record sent to {self.topic}")

    def __repr__(self) -> str:
        state = "done" if self.done() else "pending"
        return f"<FutureRecordMetadata {self.topic}-{self.partition} {state}>"


class ProducerBatch:
    """Records for one partition, from first append to final outcome (Kafka's
    ``ProducerBatch``).  The records are encoded as they arrive; ``encode()`` produces
    the RecordBatch v2 bytes with the producer id, epoch and base sequence set at drain.
    """

    __slots__ = (
        "_closed",
        "_encoded",
        "_sealed",
        "acked_ms",
        "alloc_size",
        "arr_i",
        "arr_t",
        "attempts",
        "base_sequence",
        "base_ts",
        "builder",
        "capacity",
        "close_reason",
        "closed_ms",
        "compressed",
        "compressed_bytes",
        "created_ms",
        "drained_ms",
        "error_name",
        "estimate",
        "final_state",
        "futures",
        "id",
        "in_flight",
        "last_append_ms",
        "last_attempt_ms",
        "leader_epoch",
        "max_record_size",
        "memory_released",
        "outcome",
        "partition",
        "pooled",
        "producer_epoch",
        "producer_id",
        "ratio",
        "request_id",
        "result",
        "retry",
        "retry_backoff_ms",
        "send_count",
        "sent_ms",
        "split_from",
        "state",
        "topic",
        "tp",
    )

    def __init__(self, batch_id: int, tp: TopicPartition, builder: Any, capacity: int,
                 pooled: bool, now_ms: int, ratio: float = 1.0, compressed: bool = False,
                 driver: Any = None) -> None:
        self.id = batch_id
        self.topic = tp.topic
        self.partition = tp.partition
        self.tp = tp
        self.builder = builder
        self.capacity = capacity
        self.pooled = pooled
        self.created_ms = now_ms
        self.last_append_ms = now_ms
        self.last_attempt_ms = now_ms
        self.drained_ms = -1
        self.attempts = 0
        self.retry = False
        self.futures: list[FutureRecordMetadata] = []
        # Arrival times of the records, run-length encoded: records arr_i[k] up to (not
        # including) arr_i[k+1] arrived at arr_t[k] (counts per run: :attr:`arr_n`).
        self.arr_t: list[int] = []
        self.arr_i: list[int] = []
        self.max_record_size = 0
        self.result = ProduceRequestResult(tp, driver)
        self.final_state: FinalState | None = None
        self.state = BatchState.OPEN
        self.close_reason: str | None = None
        self.closed_ms = -1
        self.producer_id = NO_PRODUCER_ID
        self.producer_epoch = -1
        self.base_sequence = NO_SEQUENCE
        self._encoded: bytes | None = None
        self.in_flight = False
        self.memory_released = False
        self.sent_ms = -1
        self.acked_ms = -1
        self.outcome: str | None = None
        self.error_name: str | None = None
        self.compressed_bytes = -1
        self._closed = False  # closed for appends
        self._sealed = False  # records section finalised (compressed)
        self.estimate = 0  # estimated encoded size (61 + records × ratio × factor)
        self.split_from: int | None = None
        # Kafka fixes the batch's compression-ratio estimate when the batch is created.
        self.ratio = ratio
        self.compressed = compressed
        self.estimate = RECORD_BATCH_OVERHEAD
        self.request_id = -1
        self.base_ts = 0
        self.send_count = 0  # times drained into a request
        self.alloc_size = capacity  # bytes taken from the buffer pool (0: outside it)
        self.retry_backoff_ms = 0  # KIP-580 backoff drawn when re-enqueued
        self.leader_epoch = -1  # leader epoch at the last attempt (KIP-951)

    # -- appending ----------------------------------------------------------------------

    def try_append(self, timestamp_ms: int, key: bytes | None, value: bytes | None,
                   headers: Any, now_ms: int, future: FutureRecordMetadata | None = None
                   ) -> FutureRecordMetadata | None:
        """Append if the record fits, returning its future; None means "no room".

        Kafka's ``MemoryRecordsBuilder.hasRoomFor``: the first record always fits;
        otherwise the estimated size so far plus this record's size must stay within the
        batch's capacity.  A closed batch takes nothing.
        """
        if self._closed:
            return None
        b = self.builder
        n = b._count  # (records_count)
        klen = -1 if key is None else len(key)
        vlen = -1 if value is None else len(value)
        # (34 + klen + vlen first: for small records that sum is a cached small int)
        if n and (headers or self.estimate + (34 + klen + vlen) > self.capacity):
            # Near the limit: Kafka's DefaultRecord.sizeInBytes, the exact size this record
            # would take.  (Further from it, 34 bytes bound the varints and attributes;
            # a null key or value counts -1 here and takes 1 byte.  That bound knows
            # nothing of headers, so a record with headers is always sized exactly.)
            d = timestamp_ms - self.base_ts
            if headers:
                rsize = record_size_in_bytes(n, d, key, value, headers)
            else:
                body = (2 + (_SZ[d] if 0 <= d < _SZN else size_of_varint(d))
                        + (_SZ[n] if n < _SZN else size_of_varint(n))
                        + (1 if klen < 0 else
                           (_SZ[klen] if klen < _SZN else size_of_varint(klen)) + klen)
                        + (1 if vlen < 0 else
                           (_SZ[vlen] if vlen < _SZN else size_of_varint(vlen)) + vlen))
                rsize = body + (_SZ[body] if body < _SZN else size_of_varint(body))
            if self.capacity < self.estimate + rsize:
                return None
        elif not n:
            self.base_ts = timestamp_ms
        if headers or b._closed or type(timestamp_ms) is not int:
            appended = b.append(timestamp_ms, key, value, headers)
            unc = b._uncompressed
        else:
            # RecordBatchBuilder.append inlined for the common record (no headers): the
            # per-record hot path, one Python frame fewer.  Same bytes, same state; any
            # surprise (a key or value that is not bytes) goes through b.append, which
            # raises its clear error before changing anything.
            count = n
            delta = timestamp_ms - b._base_ts if count else 0
            try:
                body = _join((
                    b"\x00",
                    _ZZ[delta] if 0 <= delta < _ZZN else _encode_varint(delta),
                    _ZZ[count] if count < _ZZN else _encode_varint(count),
                    _NULL if klen < 0 else (_ZZ[klen] if klen < _ZZN else _encode_varint(klen)),
                    b"" if klen < 0 else key,
                    _NULL if vlen < 0 else (_ZZ[vlen] if vlen < _ZZN else _encode_varint(vlen)),
                    b"" if vlen < 0 else value,
                    b"\x00",  # header count 0
                ))
            except TypeError:
                body = None
            if body is None:
                appended = b.append(timestamp_ms, key, value, headers)
                unc = b._uncompressed
            else:
                if not count:
                    b._base_ts = b._max_ts = timestamp_ms
                elif timestamp_ms > b._max_ts:
                    b._max_ts = timestamp_ms
                blen = len(body)
                prefix = _ZZ[blen] if blen < _ZZN else _encode_varint(blen)
                buf = b._buf
                buf += prefix
                buf += body
                appended = len(prefix) + blen
                unc = b._uncompressed + appended
                b._uncompressed = unc
                b._count = count + 1
                if b._chunk != _NO_CHUNK:  # a compressing builder: count toward its block
                    pending = b._pending_bytes + appended
                    if pending >= b._chunk:
                        b._feed()
                    else:
                        b._pending_bytes = pending
        if self.compressed:
            self.estimate = RECORD_BATCH_OVERHEAD + int(unc * self.ratio * ESTIMATION_FACTOR)
        else:
            self.estimate = RECORD_BATCH_OVERHEAD + unc
        # Kafka's ProducerBatch.maxRecordSize (record-size-avg/-max): the largest record's
        # *upper-bound* size, AbstractRecords.estimateSizeInBytesUpperBound = 61 (batch
        # header) + 21 (DefaultRecord.MAX_RECORD_OVERHEAD) + key, value and headers — not
        # the encoded length.  (83 = 61 + 21 + the one-byte header count of no headers.)
        if headers:
            ub = estimate_batch_size_upper_bound(key, value, headers)
        else:
            ub = (83 + (1 if klen < 0 else
                        (_SZ[klen] if klen < _SZN else size_of_varint(klen)) + klen)
                  + (1 if vlen < 0 else
                     (_SZ[vlen] if vlen < _SZN else size_of_varint(vlen)) + vlen))
        if ub > self.max_record_size:  # noqa: PLR1730 (hot path: no call)
            self.max_record_size = ub
        if now_ms != self.last_append_ms or not n:  # a new run of arrivals
            self.arr_t.append(now_ms)
            self.arr_i.append(n)
            self.last_append_ms = now_ms
        if future is None:
            # Built without __init__ (one Python frame fewer per record): the slots left
            # unset read as their defaults, see FutureRecordMetadata.__getattr__.
            future = _new_object(FutureRecordMetadata)
            future._result = self.result
            future._index = n
            future.timestamp_ms = timestamp_ms
            future.key_size = klen
            future.value_size = vlen
        else:
            future.attach(self.result, n, self.partition, timestamp_ms, klen, vlen)
        self.futures.append(future)
        return future

    # The builder counts the records and their bytes; the batch reads them from there
    # rather than keeping copies up to date on every append.
    @property
    def records_count(self) -> int:
        return self.builder._count

    @property
    def uncompressed_bytes(self) -> int:
        """Size of the records section before compression."""
        return self.builder._uncompressed

    @property
    def arr_n(self) -> list[int]:
        """Records per arrival run: ``arr_n[k]`` records arrived at ``arr_t[k]``."""
        ends = self.arr_i[1:]
        ends.append(self.records_count)
        return [e - i for i, e in zip(self.arr_i, ends)]

    def is_full(self) -> bool:
        """Kafka's ``isFull``: closed, or holding records with no room left by estimate."""
        return self._closed or (self.records_count > 0 and self.capacity <= self.estimate)

    @property
    def estimated_size(self) -> int:
        """Kafka's ``estimatedSizeInBytes``: 61 + records × ratio estimate (× 1.05)."""
        return self.estimate

    @property
    def closed_for_appends(self) -> bool:
        return self._closed

    def close_for_appends(self, reason: str, now_ms: int) -> bool:
        """Stop accepting records; remember why (SEAMS §1 ``close_reason``).  True if the
        batch was open until now."""
        if self._closed:
            return False
        if not self._closed:
            self._closed = True
            if self.close_reason is None:
                self.close_reason = reason
                self.closed_ms = now_ms
            if self.state is BatchState.OPEN:
                self.state = BatchState.READY
        return True

    def mark_sendable(self, reason: str, now_ms: int) -> None:
        """The accumulator found the batch ready: record the reason once."""
        if self.close_reason is None:
            self.close_reason = reason
            self.closed_ms = now_ms
            if self.state is BatchState.OPEN:
                self.state = BatchState.READY

    def seal(self) -> None:
        """Finalise the records section (compress it) — Kafka closes a batch at drain."""
        if not self._sealed:
            self._closed = True
            self._sealed = True
            self.builder.close()
            self.compressed_bytes = self.builder.compressed_bytes

    # -- producer state and bytes -------------------------------------------------------

    @property
    def has_sequence(self) -> bool:
        return self.base_sequence != NO_SEQUENCE

    def set_producer_state(self, producer_id: int, producer_epoch: int,
                           base_sequence: int) -> None:
        self.producer_id = producer_id
        self.producer_epoch = producer_epoch
        self.base_sequence = base_sequence
        self._encoded = None

    def encode(self) -> bytes:
        """The RecordBatch v2 bytes (base offset 0; the broker assigns offsets)."""
        if self._encoded is None:
            self.seal()
            self._encoded = self.builder.build(producer_id=self.producer_id,
                                               producer_epoch=self.producer_epoch,
                                               base_sequence=self.base_sequence)
        return self._encoded

    @property
    def size_in_bytes(self) -> int:
        """Encoded size when known, else the estimate (for drain's request-size limit)."""
        if self._encoded is not None:
            return len(self._encoded)
        if self._sealed:
            return 61 + self.compressed_bytes
        return self.estimate

    # -- timing -------------------------------------------------------------------------

    def has_reached_delivery_timeout(self, delivery_timeout_ms: int, now_ms: int) -> bool:
        """Kafka: a batch expires once ``delivery.timeout.ms`` passed since its creation."""
        return delivery_timeout_ms <= now_ms - self.created_ms

    def reenqueued(self, now_ms: int) -> None:
        """Back in the queue after a retriable error: count the attempt, start backoff."""
        self.attempts += 1
        self.last_attempt_ms = now_ms
        self.last_append_ms = now_ms
        self.retry = True
        self.state = BatchState.RETRYING

    # -- completion ---------------------------------------------------------------------

    def done(self, base_offset: int, log_append_time_ms: int, error: BaseException | None,
             record_errors: dict[int, BaseException] | None = None,
             final_state: FinalState | None = None) -> bool:
        """Complete the batch once.  Returns False for an ignored late completion.

        Kafka's rule: a second SUCCEEDED on a SUCCEEDED batch is a bug and raises; a
        completion after a failure or abort (e.g. the response to a batch that expired
        in flight) is ignored, so callbacks never run twice.
        """
        if final_state is None:
            final_state = FinalState.SUCCEEDED if error is None else FinalState.FAILED
        if self.final_state is not None:
            if self.final_state is FinalState.SUCCEEDED and final_state is FinalState.SUCCEEDED:
                raise RuntimeError(
                    f"batch {self.id} for {self.tp} already SUCCEEDED; it must not succeed again")
            return False
        self.final_state = final_state
        self.state = BatchState.DONE
        self.outcome = "ok" if error is None else (
            "expired" if _is_timeout(error) else "error")
        if error is not None:
            self.error_name = type(error).__name__
        self.result.complete(base_offset, log_append_time_ms, error, record_errors)
        return True

    @property
    def is_done(self) -> bool:
        return self.final_state is not None

    def __repr__(self) -> str:
        return (f"<ProducerBatch {self.id} {self.tp} records={self.records_count} "
                f"state={self.state.value}>")


def _is_timeout(error: BaseException) -> bool:
    return type(error).__name__ == "KafkaTimeoutError"
