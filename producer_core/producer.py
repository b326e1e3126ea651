"""The producer an application talks to (Kafka's ``KafkaProducer``).

``send()`` does what ``KafkaProducer.send`` does, in Kafka's order:

1. refuse if the producer is closed (``ProducerClosedError``, raised at the call);
2. interceptors' ``on_send`` may replace the record;
3. serialize key and value (``SerializationError`` raised at the call);
4. wait for the topic's metadata — up to ``max.block.ms``; an unknown topic completes
   the future with ``KafkaTimeoutError("Topic X not present in metadata after N ms.")``;
   an explicit partition past the topic's partitions raises ``PartitionOutOfRangeError``
   at the call;
5. choose the partition: explicit, else a custom ``partitioner.class``, else
   ``murmur2(key)`` for keyed records (unless ``partitioner.ignore.keys``), else the
   built-in sticky partitioner inside the accumulator;
6. check the size: a record larger than ``max.request.size`` or ``buffer.memory``
   completes the future with ``RecordTooLargeError``;
7. append to the accumulator — waiting for buffer-pool memory for the rest of
   ``max.block.ms`` if needed (``BufferExhaustedError`` through the future);
8. wake the sender when a batch filled up or a new one started.

Blocking is simulated.  Called directly (learner code, tests), ``send()``, ``flush()``,
``close()`` and ``future.result()`` *drive* the simulation's scheduler until they can
return.  Workload threads use :meth:`Producer.send_async`, which never drives time: it
reports through ``on_return(future, blocked_ms)`` at the simulated instant ``send()``
would have returned.  From inside a simulation callback nothing may drive time: there
``send()`` returns a pending future instead of blocking, ``flush()`` raises (as Kafka
refuses a flush from a callback) and ``close()`` becomes ``close(0)`` (as Kafka does).

Simplified: serialization happens before the metadata wait (Kafka serializes after it;
only the moment of a serialization error differs); ``partitioner.availability.
timeout.ms`` is accepted but not modelled; a direct ``send()`` costs no simulated time
(the application's CPU per record is modelled by workload threads, see
:mod:`producer_core.workload` and :mod:`producer_core.timemodel`).
"""

from __future__ import annotations

from collections.abc import Callable
from random import Random
from typing import Any

from producer_core import errors
from producer_core.accumulator import RecordAccumulator
from producer_core.batch import FutureRecordMetadata
from producer_core.buffer_pool import BufferPool
from producer_core.compression import CompressionRatioEstimator
from producer_core.config import ProducerConfig
from producer_core.metadata import ProducerMetadata
from producer_core.metrics import ProducerMetrics
from producer_core.network_client import NetworkClient
from producer_core.partitioner import (
    BuiltInPartitioner,
    check_custom_partition,
    load_partitioner,
    murmur2,
    partition_for_key,
)
from producer_core.records import (
    RecordBatchBuilder,
    decode_batch,
    estimate_batch_size_upper_bound,
)
from producer_core.sender import Sender
from producer_core.types import ProducerRecord, RecordMetadata

ReturnCallback = Callable[[FutureRecordMetadata, int], None]
_MAX_TIMESTAMP_MS = 2**63 - 1  # Java's Long.MAX_VALUE


class _PendingSend:
    """A send() that is blocked (metadata or memory): the state of the waiting thread."""

    __slots__ = (
        "deadline_ms",
        "future",
        "headers",
        "kb",
        "key",
        "on_return",
        "partition",
        "record",
        "returned",
        "start_ms",
        "thread",
        "timer",
        "timestamp_ms",
        "topic",
        "value",
        "vb",
    )

    def __init__(self, **kw: Any) -> None:
        for k, v in kw.items():
            setattr(self, k, v)
        self.timer = None
        self.returned = False


# How often a background flush looks whether its batches completed (virtual ms).
FLUSH_POLL_MS = 1


class Producer:
    """A Kafka producer running inside a :class:`~producer_core.simulation.Simulation`.

    Normally built by the simulation (``sim.producer``); the constructor takes the
    simulation's scheduler, event bus, cluster and a function giving named seeded RNGs.
    """

    def __init__(self, config: ProducerConfig | dict | None = None, *, scheduler: Any,
                 events: Any, cluster: Any, rng: Callable[[str], Random],
                 client_id: str | None = None) -> None:
        if config is None:
            config = ProducerConfig()
        elif isinstance(config, dict):
            config = ProducerConfig.from_dict(config)
        elif not isinstance(config, ProducerConfig):
            raise TypeError(f"config must be a ProducerConfig or a dict of Kafka properties, "
                            f"not {type(config).__name__}")
        self.config = config
        self.client_id = client_id or config.client_id or "producer-1"
        self.scheduler = scheduler
        self._clock = scheduler.clock
        self.events = events
        self.cluster = cluster
        now = scheduler.now_ms
        from producer_core.interceptors import ProducerInterceptors
        from producer_core.serializers import get_serializer

        # The role only shapes error messages: a bad key must be called a key.
        self._key_ser = get_serializer(config.key_serializer, "key")
        self._value_ser = get_serializer(config.value_serializer, "value")
        self._key_passthrough = _is_bytes_serializer(self._key_ser)
        self._value_passthrough = _is_bytes_serializer(self._value_ser)
        self.interceptors = (ProducerInterceptors(list(config.interceptor_classes),
                                                  on_error=self._interceptor_failed)
                             if config.interceptor_classes else None)
        self.callback_errors_total = 0
        self.partitioner = load_partitioner(config.partitioner_class)
        self._ignore_keys = config.partitioner_ignore_keys
        # Kafka: batch.size 0 "disables batching", which KafkaProducer implements as a
        # batch size of 1 for the accumulator, the pool and the sticky partitioner.
        batch_size = max(1, config.batch_size)
        self.pool = BufferPool(config.buffer_memory, batch_size, scheduler, events)
        self._metrics = ProducerMetrics(now)
        self.pool.on_wait_time = self._metrics.pool_waited_piece
        self.metadata = ProducerMetadata(
            metadata_max_age_ms=config.metadata_max_age_ms,
            metadata_max_idle_ms=config.metadata_max_idle_ms,
            retry_backoff_ms=config.retry_backoff_ms,
            retry_backoff_max_ms=config.retry_backoff_max_ms,
            rng=rng("metadata"), events=events)
        self.client = NetworkClient(
            cluster, scheduler, max_in_flight=config.max_in_flight_requests_per_connection,
            request_timeout_ms=config.request_timeout_ms,
            reconnect_backoff_ms=config.reconnect_backoff_ms,
            reconnect_backoff_max_ms=config.reconnect_backoff_max_ms, rng=rng("network"))
        self.estimator = CompressionRatioEstimator()
        codec = config.compression_type
        level = config.compression_level
        part_rng = rng("partitioner")

        def builder() -> RecordBatchBuilder:
            return RecordBatchBuilder(codec, level)

        self.accumulator = RecordAccumulator(
            batch_size=batch_size, linger_ms=config.linger_ms,
            delivery_timeout_ms=config.delivery_timeout_ms, compression=codec,
            compression_level=level, pool=self.pool, builder_factory=builder,
            upper_bound_fn=estimate_batch_size_upper_bound, ratio_estimator=self.estimator,
            partitioner_factory=lambda topic: BuiltInPartitioner(topic, batch_size, part_rng),
            adaptive=config.partitioner_adaptive_partitioning_enable, events=events,
            driver=self)
        self.accumulator.metadata = self.metadata
        self.sender = Sender(config=config, accumulator=self.accumulator,
                             metadata=self.metadata, client=self.client, scheduler=scheduler,
                             events=events, metrics=self._metrics, rng=rng("retry"),
                             bootstrap=cluster.bootstrap_nodes, decode=decode_batch)
        # Observers see every future send() hands back: fn(future, key_bytes, value_bytes).
        # The invariant checks use them; empty (the normal case) they cost one test.
        self.send_observers: list[Callable[[FutureRecordMetadata, Any, Any], None]] = []
        self._metrics.pool = self.pool
        self._metrics.client = self.client
        self._metrics.metadata = self.metadata
        self.metadata.add_listener(self._on_metadata_update)
        self._meta_waiters: list[_PendingSend] = []
        self._blocked: list[_PendingSend] = []
        self._closed = False
        # Records this small cannot exceed max.request.size or buffer.memory (the upper
        # bound is 61 + 21 + 2 x 5 varint bytes + 1 + key + value): skip the size check.
        self._small_record = min(config.max_request_size, config.buffer_memory) - 100
        self.send_calls = 0
        self._linger_ms = config.linger_ms
        self._key_hash: dict[bytes, int] = {}  # key -> murmur2 & 0x7fffffff (positive)

    # -- the public API -----------------------------------------------------------------

    def send(self, topic: str, value: Any = None, key: Any = None, headers: Any = None,
             partition: int | None = None, timestamp_ms: int | None = None,
             callback: Callable[[Any, BaseException | None], None] | None = None
             ) -> FutureRecordMetadata:
        """Send one record; returns its future.  Blocks (drives simulated time) while
        metadata is missing or the buffer pool is exhausted, up to ``max.block.ms``."""
        if not (headers is None and partition is None and timestamp_ms is None
                and callback is None and self.interceptors is None and not self._closed
                and type(topic) is str and topic):
            return self._send_general(topic, value, key, headers, partition, timestamp_ms,
                                      callback)
        # A plain record (no headers, partition, timestamp or callback): the per-record
        # hot path, written out here rather than in a helper because a Python frame per
        # record is measurable (bench/send_bench.py).  Anything unusual — no metadata
        # yet, a custom partitioner, observers, a large record — takes _send_general.
        tmeta = self.metadata._topics.get(topic)
        if (tmeta is None or tmeta.partitions is None or self.partitioner is not None
                or self.send_observers):
            return self._send_general(topic, value, key, None, None, None, None)
        if key is None or (self._key_passthrough and type(key) is bytes):
            kb = key
        else:
            kb = _call_serializer(self._key_ser, topic, key, (), "key",
                                  self.config.key_serializer)
        if value is None or (self._value_passthrough and type(value) is bytes):
            vb = value
        else:
            vb = _call_serializer(self._value_ser, topic, value, (), "value",
                                  self.config.value_serializer)
        if (len(kb) if kb else 0) + (len(vb) if vb else 0) > self._small_record:
            return self._send_general(topic, value, key, None, None, None, None)
        self.send_calls += 1
        now = self._clock._now_ms
        tmeta.last_used_ms = now
        if kb is not None and not self._ignore_keys:
            h = self._key_hash.get(kb)
            if h is None:
                if len(self._key_hash) >= 65536:
                    self._key_hash.clear()
                h = self._key_hash[kb] = murmur2(kb) & 0x7FFFFFFF
            partition = h % len(tmeta.partitions)
        else:
            partition = -1
        acc = self.accumulator
        fut = acc.append(topic, partition, now, kb, vb, (), now)
        if fut is None:
            size = acc.needs_buffer
            if not self.pool.try_allocate(size):
                ps = self._pending(topic, key, value, kb, vb, (), partition, now, None, None,
                                   "app", now, None)
                self._wait_pool(ps, size)
                return self._await_blocked()
            fut = acc.append(topic, partition, now, kb, vb, (), now, None, size)
            if not acc.buffer_used:
                self.pool.deallocate(size)
        if acc.batch_is_full:
            due = self.sender._timer_due
            if due is None or due > now:
                self.sender.wakeup()
        elif acc.new_batch_created:
            self.sender.wakeup_at(now + self._linger_ms)
        return fut

    @property
    def plain_ok(self) -> bool:
        """True when :meth:`append_plain` may be used: no interceptors, custom partitioner
        or send observers, byte serializers, and the producer is open."""
        return (self.interceptors is None and self.partitioner is None and not self._closed
                and not self.send_observers and self._key_passthrough
                and self._value_passthrough)

    def append_plain(self, topic: str, kb: bytes | None,
                     vb: bytes | None) -> FutureRecordMetadata | None:
        """``send()``'s fast path for a workload thread's plain record of bytes.

        The caller checked :attr:`plain_ok` for the tick.  Returns the future when the
        record was appended and ``send()`` returned at once — the same append, partition
        and sender wake-up as :meth:`send`.  Returns None, having changed nothing a later
        ``send()`` would not redo identically, when the call needs the general path:
        no metadata yet, a large record, or the buffer pool cannot give a new batch its
        memory now (the thread then blocks in :meth:`send_async`).
        """
        tmeta = self.metadata._topics.get(topic)
        if tmeta is None or tmeta.partitions is None:
            return None
        if (len(kb) if kb else 0) + (len(vb) if vb else 0) > self._small_record:
            return None
        now = self._clock._now_ms
        if kb is not None and not self._ignore_keys:
            h = self._key_hash.get(kb)
            if h is None:
                if len(self._key_hash) >= 65536:
                    self._key_hash.clear()
                h = self._key_hash[kb] = murmur2(kb) & 0x7FFFFFFF
            partition = h % len(tmeta.partitions)
        else:
            partition = -1
        acc = self.accumulator
        fut = acc.append(topic, partition, now, kb, vb, (), now)
        if fut is None:
            size = acc.needs_buffer
            if not self.pool.try_allocate(size):
                return None  # blocks: send_async redoes the append and waits for memory
            fut = acc.append(topic, partition, now, kb, vb, (), now, None, size)
            if not acc.buffer_used:
                self.pool.deallocate(size)
        self.send_calls += 1
        tmeta.last_used_ms = now
        if acc.batch_is_full:
            due = self.sender._timer_due
            if due is None or due > now:
                self.sender.wakeup()
        elif acc.new_batch_created:
            self.sender.wakeup_at(now + self._linger_ms)
        return fut

    def _send_general(self, topic: Any, value: Any, key: Any, headers: Any, partition: Any,
                      timestamp_ms: Any, callback: Any) -> FutureRecordMetadata:
        """send() for any record: the future, after blocking if the call had to wait."""
        fut = self._send(topic, value, key, headers, partition, timestamp_ms, callback,
                         None, "app")
        if fut is not None:
            return fut
        return self._await_blocked()

    def _await_blocked(self) -> FutureRecordMetadata:
        """The send that just blocked: drive time until it returns (unless inside a
        simulation callback, where nothing may drive time)."""
        ps = self._blocked[-1]  # the send that just blocked
        if self.scheduler.depth == 0:
            self._drive_until(lambda: ps.returned, None, what="send()")
            # An explicit partition past the topic's partitions is a call-time error
            # whether the metadata was cached or had to be fetched first: raise it here,
            # as the warm path does, instead of hiding it in the future.
            # So is an allocation above buffer.memory (batch.size too big: Kafka's
            # BufferPool.allocate throws IllegalArgumentException out of send()).
            err = ps.future._error
            if isinstance(err, errors.PartitionOutOfRangeError) or type(err) is ValueError:
                raise err
        return ps.future  # inside a callback: not driven; it completes later

    def send_async(self, topic: str, value: Any = None, key: Any = None, headers: Any = None,
                   partition: int | None = None, timestamp_ms: int | None = None, *,
                   on_return: ReturnCallback, thread: str = "app",
                   callback: Callable[[Any, BaseException | None], None] | None = None
                   ) -> None:
        """``send()`` as an application thread performs it, without driving time.

        ``on_return(future, blocked_ms)`` runs at the simulated instant ``send()`` returns:
        at once in the common case, later if the call blocked on metadata or on the
        buffer pool (waiters are served first-in first-out).  Errors Kafka throws from
        ``send()`` raise here; errors it reports through the future complete the future.
        """
        if not callable(on_return):
            raise TypeError("on_return must be callable: on_return(future, blocked_ms)")
        fut = self._send(topic, value, key, headers, partition, timestamp_ms, callback,
                         on_return, thread)
        if fut is not None:
            on_return(fut, 0)

    def flush(self, timeout_ms: int | None = None) -> None:
        """Make every queued batch sendable at once and drive time until every record
        sent before this call has completed (Kafka's ``flush()``: no linger wait)."""
        if self.scheduler.depth > 0:
            raise errors.KafkaError(
                "flush() cannot be called from a producer callback or a simulation action "
                "(in Kafka it would deadlock the sender thread)")
        start = self.scheduler.now_ms
        targets = list(self.accumulator.incomplete.values())
        self.accumulator.begin_flush()
        self.sender.wakeup()
        try:
            idx = [0]

            def all_done() -> bool:
                i = idx[0]
                while i < len(targets) and targets[i].is_done:
                    i += 1
                idx[0] = i
                return i == len(targets)

            self._drive_until(all_done, timeout_ms, what="flush()")
        finally:
            self.accumulator.end_flush()
            self._metrics.flushed(self.scheduler.now_ms - start)

    def close(self, timeout_ms: int | None = None) -> None:
        """Kafka's ``close()``: stop accepting records, send everything queued and wait
        for the answers — up to ``timeout_ms`` (None: no limit).  What is still
        unfinished then is aborted ("Producer is closed forcefully.").  ``close(0)``
        aborts at once; from inside a callback the timeout is forced to 0, as in Kafka."""
        if timeout_ms is not None and (isinstance(timeout_ms, bool)
                                       or not isinstance(timeout_ms, int) or timeout_ms < 0):
            raise ValueError(f"The timeout cannot be negative or non-integer: {timeout_ms!r}")
        if self.scheduler.depth > 0:
            timeout_ms = 0
        first = not self._closed
        self._closed = True
        if first:
            self.pool.close()
            self._fail_blocked(errors.KafkaError("Producer closed while send in progress"))
        if timeout_ms != 0:
            self.sender.initiate_close()
            self._drive_until(lambda: not self.sender.running, timeout_ms, what="close()",
                              raise_on_timeout=False)
        if self.sender.running or self.accumulator.incomplete:
            self.sender.force_close(self.scheduler.now_ms)
            self._release_after_abort()
        if first and self.interceptors is not None:
            # Kafka closes the interceptors last, after every acknowledgement was heard.
            self.interceptors.close()

    def close_in_background(self, timeout_ms: int | None = None) -> None:
        """Start a graceful close without driving time (the lab's reconfigure and its
        close button): the producer finishes its queued and in-flight batches in simulated
        time.  With ``timeout_ms``, what is unfinished that long after is aborted, as
        Kafka's ``close(timeout)`` does when the wait runs out ("Producer is closed
        forcefully."); ``0`` aborts at once."""
        if timeout_ms is not None and (isinstance(timeout_ms, bool)
                                       or not isinstance(timeout_ms, int) or timeout_ms < 0):
            raise ValueError(f"The timeout cannot be negative or non-integer: {timeout_ms!r}")
        if self._closed:
            return
        self._closed = True
        self.pool.close()
        self._fail_blocked(errors.KafkaError("Producer closed while send in progress"))
        self.sender.initiate_close()
        if timeout_ms is not None:
            self.scheduler.call_later(timeout_ms, self._close_timed_out)

    def _close_timed_out(self) -> None:
        if self.sender.running or self.accumulator.incomplete:
            self.sender.force_close(self.scheduler.now_ms)
            self._release_after_abort()
        if self.interceptors is not None:
            self.interceptors.close()

    def flush_in_background(self, on_done: Callable[[int], Any] | None = None) -> int:
        """Kafka's ``flush()`` called from a thread that does not drive simulated time (the
        lab's flush button): every batch incomplete now becomes sendable at once — the
        accumulator closes them with reason "flush", without waiting for linger.ms — and
        stays so until all of them completed; then ``on_done(elapsed_ms)`` is called.
        Returns how many batches the flush waits for."""
        start = self.scheduler.now_ms
        targets = list(self.accumulator.incomplete.values())
        self.accumulator.begin_flush()
        self.sender.wakeup()
        idx = [0]

        def check() -> None:
            i = idx[0]
            while i < len(targets) and targets[i].is_done:
                i += 1
            idx[0] = i
            if i < len(targets):
                self.scheduler.call_later(FLUSH_POLL_MS, check)
                return
            self.accumulator.end_flush()
            elapsed = self.scheduler.now_ms - start
            self._metrics.flushed(elapsed)
            if on_done is not None:
                on_done(elapsed)

        check()
        return len(targets)

    @property
    def closed(self) -> bool:
        return self._closed

    def metrics(self) -> dict[str, Any]:
        """Kafka's ``producer-metrics`` by name, per-topic ``topic.<name>.<metric>`` keys and
        ``send-latency-p50/p95/p99`` (see :mod:`producer_core.metrics`)."""
        return self._metrics.snapshot(self.scheduler.now_ms)

    def topic_metrics(self) -> dict[str, dict[str, Any]]:
        return self._metrics.topic_metrics(self.scheduler.now_ms)

    def partitions_for(self, topic: str) -> list:
        """The topic's partitions (leader, replicas, ISR) — waiting for metadata up to
        ``max.block.ms`` like Kafka's ``partitionsFor``."""
        if not isinstance(topic, str) or not topic:
            raise TypeError(f"topic must be a non-empty str, got {topic!r}")
        if self._closed:
            raise errors.ProducerClosedError()
        now = self.scheduler.now_ms
        self.metadata.add_topic(topic, now)
        if self.metadata.partition_count(topic) is None:
            self.metadata.request_update()
            self.sender.wakeup()
            if self.scheduler.depth == 0:
                self._drive_until(lambda: self.metadata.partition_count(topic) is not None,
                                  self.config.max_block_ms, what="partitions_for()",
                                  raise_on_timeout=False)
        parts = self.metadata.partitions_for(topic)
        if parts is None:
            raise errors.KafkaTimeoutError.topic_not_present(topic, self.config.max_block_ms)
        return list(parts)

    # -- time driving -------------------------------------------------------------------

    def _drive_until(self, cond: Callable[[], bool], timeout_ms: int | None, *,
                     what: str, raise_on_timeout: bool = True) -> None:
        """Run the scheduler until ``cond()`` (a blocking call returns) or the timeout."""
        if cond():
            return
        sched = self.scheduler
        if sched.depth > 0:
            raise errors.KafkaError(
                f"cannot wait for {what} inside a simulation callback: it would block the "
                "simulated sender; use a callback or check future.done() instead")
        deadline = None if timeout_ms is None else sched.now_ms + max(0, int(timeout_ms))
        while not cond():
            nxt = sched.peek_ms()
            if deadline is not None and (nxt is None or nxt > deadline):
                sched.run_until(deadline)
                break
            if nxt is None:
                raise errors.KafkaError(
                    f"the simulation has nothing left to do but {what} is still waiting "
                    "(nothing can complete it)")
            sched.step()
        if not cond() and raise_on_timeout:
            raise errors.KafkaTimeoutError(
                f"{what} did not complete within {timeout_ms} ms of simulated time")

    # -- send internals -----------------------------------------------------------------

    def _check_args(self, topic: Any, headers: Any, partition: Any, timestamp_ms: Any,
                    callback: Any) -> tuple:
        if type(topic) is not str:
            raise TypeError(f"topic must be a str, not {type(topic).__name__}")
        if not topic:
            raise ValueError("topic must not be empty")
        if partition is not None:
            if isinstance(partition, bool) or not isinstance(partition, int):
                raise TypeError(f"partition must be an int or None, not "
                                f"{type(partition).__name__}")
            if partition < 0:
                raise errors.PartitionOutOfRangeError(
                    f"Invalid partition: {partition}. Partition number should always be "
                    "non-negative or null.")
        if timestamp_ms is not None:
            if isinstance(timestamp_ms, bool) or not isinstance(timestamp_ms, int):
                raise TypeError(f"timestamp_ms must be an int or None, not "
                                f"{type(timestamp_ms).__name__}")
            if timestamp_ms < 0:
                raise ValueError(f"Invalid timestamp: {timestamp_ms}. Timestamp should always "
                                 "be non-negative or null.")
            if timestamp_ms > _MAX_TIMESTAMP_MS:
                # Kafka's timestamp is a Java long; a larger one would only fail when the
                # sender encodes the batch, breaking every record that shares it.
                raise ValueError(f"Invalid timestamp: {timestamp_ms}. Timestamp must fit a "
                                 f"64-bit signed integer (at most {_MAX_TIMESTAMP_MS}).")
        if callback is not None and not callable(callback):
            raise TypeError(f"callback must be callable, not {type(callback).__name__}")
        if headers is None:
            return ()
        if isinstance(headers, dict):
            headers = list(headers.items())
        if isinstance(headers, (str, bytes)) or not hasattr(headers, "__iter__"):
            raise TypeError("headers must be a list of (str, bytes) pairs")
        out = []
        for h in headers:
            if not isinstance(h, (tuple, list)) or len(h) != 2:
                raise TypeError(f"each header must be a (str, bytes) pair, got {h!r}")
            hk, hv = h
            if type(hk) is not str:
                raise TypeError(f"header keys must be str, not {type(hk).__name__}")
            if hv is not None and not isinstance(hv, (bytes, bytearray)):
                raise TypeError(f"header {hk!r} value must be bytes or None, not "
                                f"{type(hv).__name__}")
            out.append((hk, None if hv is None else bytes(hv)))
        return tuple(out)

    def _send(self, topic: Any, value: Any, key: Any, headers: Any, partition: Any,
              timestamp_ms: Any, callback: Any, on_return: ReturnCallback | None,
              thread: str) -> FutureRecordMetadata | None:
        """The body of send(): returns the future, or None if the call blocked (then the
        pending send is ``self._blocked[-1]`` and ``on_return`` runs when it returns)."""
        if self._closed:
            raise errors.ProducerClosedError()
        if (headers is None and partition is None and timestamp_ms is None
                and callback is None and type(topic) is str and topic):
            headers = ()
        else:
            headers = self._check_args(topic, headers, partition, timestamp_ms, callback)
        if self.interceptors is None:
            return self._send_body(topic, value, key, headers, partition, timestamp_ms,
                                   callback, on_return, thread, None)
        record = ProducerRecord(topic, value, key, headers, partition, timestamp_ms)
        record = self.interceptors.on_send(record)
        try:
            return self._send_body(record.topic, record.value, record.key,
                                   tuple(record.headers), record.partition,
                                   record.timestamp_ms, callback, on_return, thread, record)
        except Exception as exc:
            # Kafka tells the interceptors about errors thrown from send() as well.
            self.interceptors.on_send_error(record, exc, record.topic, record.partition)
            raise

    def _send_body(self, topic: str, value: Any, key: Any, headers: tuple, partition: Any,
                   timestamp_ms: Any, callback: Any, on_return: ReturnCallback | None,
                   thread: str, record: Any) -> FutureRecordMetadata | None:
        if key is None or (self._key_passthrough and type(key) is bytes):
            kb = key
        else:
            kb = _call_serializer(self._key_ser, topic, key, headers, "key",
                                  self.config.key_serializer)
        if value is None or (self._value_passthrough and type(value) is bytes):
            vb = value
        else:
            vb = _call_serializer(self._value_ser, topic, value, headers, "value",
                                  self.config.value_serializer)
        self.send_calls += 1
        now = self._clock._now_ms
        tmeta = self.metadata._topics.get(topic)
        if tmeta is None or tmeta.partitions is None:
            ps = self._pending(topic, key, value, kb, vb, headers, partition, timestamp_ms,
                               callback, on_return, thread, now, record)
            self.metadata.add_topic(topic, now)
            self._wait_metadata(ps)
            return None
        tmeta.last_used_ms = now
        count = len(tmeta.partitions)
        if partition is not None:
            if partition >= count:
                raise errors.PartitionOutOfRangeError(partition, count, topic)
        elif self.partitioner is not None:
            partition = check_custom_partition(
                self.partitioner.partition(topic, key, kb, value, vb, count), count, topic)
        elif kb is not None and not self._ignore_keys:
            # murmur2 in Python costs microseconds; keys repeat, so remember the hash.
            h = self._key_hash.get(kb)
            if h is None:
                if len(self._key_hash) >= 65536:
                    self._key_hash.clear()
                h = self._key_hash[kb] = murmur2(kb) & 0x7FFFFFFF
            partition = h % count
        else:
            partition = -1
        if headers or ((len(kb) if kb else 0) + (len(vb) if vb else 0) > self._small_record):
            err = self._size_error(kb, vb, headers)
            if err is not None:
                return self._fail_now(topic, partition, callback, err, record)
        ts = now if timestamp_ms is None else timestamp_ms
        acc = self.accumulator
        fut = acc.append(topic, partition, ts, kb, vb, headers, now, self.metadata)
        if fut is None:
            size = acc.needs_buffer
            if not self.pool.try_allocate(size):
                ps = self._pending(topic, key, value, kb, vb, headers, partition, ts,
                                   callback, on_return, thread, now, record)
                self._wait_pool(ps, size)
                return None
            fut = acc.append(topic, partition, ts, kb, vb, headers, now, self.metadata, size)
            if not acc.buffer_used:
                self.pool.deallocate(size)
        # Kafka wakes the sender when a batch filled up or a new one started.
        if acc.batch_is_full:
            due = self.sender._timer_due
            if due is None or due > now:
                self.sender.wakeup()
        elif acc.new_batch_created:
            self.sender.wakeup_at(now + self._linger_ms)
        if callback is not None or self.interceptors is not None:
            self._add_callbacks(fut, callback, record)
        if self.send_observers:
            for obs in self.send_observers:
                obs(fut, kb, vb)
        return fut

    def _appended(self, acc: RecordAccumulator, now: int) -> None:
        """Kafka wakes the sender when a batch filled up or a new one started."""
        sender = self.sender
        if acc.batch_is_full:
            due = sender._timer_due
            if due is None or due > now:
                sender.wakeup()
        elif acc.new_batch_created:
            sender.wakeup_at(now + self._linger_ms)

    def _size_error(self, kb: bytes | None, vb: bytes | None,
                    headers: tuple) -> BaseException | None:
        """Kafka's ``ensureValidRecordSize`` on the record's upper-bound batch size."""
        size = estimate_batch_size_upper_bound(kb, vb, headers)
        cfg = self.config
        if size > cfg.max_request_size:
            return errors.RecordTooLargeError(size, cfg.max_request_size, "max.request.size")
        if size > cfg.buffer_memory:
            return errors.RecordTooLargeError(size, cfg.buffer_memory, "buffer.memory")
        return None

    def _fail_now(self, topic: str, partition: int, callback: Any, err: BaseException,
                  record: Any) -> FutureRecordMetadata:
        """Kafka's ``FutureFailure``: send() returns a future already failed with ``err``."""
        fut = FutureRecordMetadata.pending(topic, self)
        fut.partition = partition if partition is not None and partition >= 0 else -1
        if callback is not None or self.interceptors is not None:
            self._add_callbacks(fut, callback, record)
        fut.fail(err)
        now = self._clock._now_ms
        for obs in self.send_observers:
            obs(fut, None, None)
        self._metrics.send_error(now, topic)
        if self.events is not None:
            self.events.publish("send.failed", topic=topic, error=str(err))
        return fut

    def _pending(self, topic: str, key: Any, value: Any, kb: Any, vb: Any, headers: tuple,
                 partition: Any, timestamp_ms: Any, callback: Any, on_return: Any,
                 thread: str, now: int, record: Any) -> _PendingSend:
        ps = _PendingSend(topic=topic, key=key, value=value, kb=kb, vb=vb, headers=headers,
                          partition=partition, timestamp_ms=timestamp_ms,
                          future=FutureRecordMetadata.pending(topic, self),
                          on_return=on_return, thread=thread, start_ms=now,
                          deadline_ms=now + self.config.max_block_ms, record=record)
        if callback is not None or self.interceptors is not None:
            self._add_callbacks(ps.future, callback, record)
        self._blocked.append(ps)
        return ps

    def _add_callbacks(self, fut: FutureRecordMetadata, callback: Any, record: Any) -> None:
        if self.interceptors is not None:
            interceptors = self.interceptors
            fut.add_callback(lambda md, exc: interceptors.on_acknowledgement(md, exc))
        if callback is not None:
            fut.add_callback(callback)

    def _wait_metadata(self, ps: _PendingSend) -> None:
        """Kafka's ``waitOnMetadata``: ask for a refresh and wait up to ``max.block.ms``."""
        self.metadata.request_update_for_topic(ps.topic)
        self._meta_waiters.append(ps)
        self._publish_blocked(ps, 0)
        ps.timer = self.scheduler.call_at(ps.deadline_ms, lambda: self._metadata_timeout(ps),
                                          label="send.metadata_timeout")
        self.sender.wakeup()

    def _on_metadata_update(self) -> None:
        if not self._meta_waiters:
            return
        waiting, self._meta_waiters = self._meta_waiters, []
        for ps in waiting:
            if ps.returned:
                continue
            count = self.metadata.partition_count(ps.topic)
            if count is None:
                self._meta_waiters.append(ps)
                continue
            if ps.partition is not None and ps.partition >= count:
                ps.timer.cancel()
                self._return(ps, errors.PartitionOutOfRangeError(ps.partition, count, ps.topic))
                continue
            ps.timer.cancel()
            ps.timer = None
            self._after_metadata(ps, count)
        if self._meta_waiters:
            self.metadata.request_update()

    def _metadata_timeout(self, ps: _PendingSend) -> None:
        if ps.returned or ps not in self._meta_waiters:
            return
        self._meta_waiters.remove(ps)
        count = self.metadata.partition_count(ps.topic)
        if count is None:
            err = errors.KafkaTimeoutError.topic_not_present(ps.topic, self.config.max_block_ms)
        else:
            err = errors.KafkaTimeoutError.partition_not_present(
                ps.topic, ps.partition, count, self.config.max_block_ms)
        self._return(ps, err)

    def _after_metadata(self, ps: _PendingSend, count: int) -> None:
        """A send blocked on metadata continues: partition, size check, append."""
        partition = ps.partition
        topic = ps.topic
        try:
            if partition is None:
                if self.partitioner is not None:
                    partition = check_custom_partition(
                        self.partitioner.partition(topic, ps.key, ps.kb, ps.value, ps.vb, count),
                        count, topic)
                elif ps.kb is not None and not self._ignore_keys:
                    partition = partition_for_key(ps.kb, count)
                else:
                    partition = -1
        except Exception as exc:  # noqa: BLE001 - the call already returned to its thread
            # At the call Kafka would throw this from send(); the thread waited, so the
            # future carries it (a custom partitioner's bug must not stop the simulation).
            self._return(ps, exc if isinstance(exc, errors.KafkaError)
                         else errors.KafkaError(f"partitioner failed: {exc!r}"))
            return
        ps.partition = partition
        err = self._size_error(ps.kb, ps.vb, ps.headers)
        if err is not None:
            self._return(ps, err)
            return
        if ps.timestamp_ms is None:
            ps.timestamp_ms = self._clock._now_ms
        self._append(ps, 0)

    def _append(self, ps: _PendingSend, buffer_size: int) -> None:
        now = self._clock._now_ms
        acc = self.accumulator
        fut = acc.append(ps.topic, ps.partition, ps.timestamp_ms, ps.kb, ps.vb, ps.headers,
                         now, self.metadata, buffer_size, ps.future)
        if fut is None:
            size = acc.needs_buffer
            try:
                allocated = self.pool.try_allocate(size)
            except ValueError as exc:
                # batch.size above buffer.memory: Kafka's BufferPool.allocate throws, and
                # send() throws it in the application's thread.  This send was waiting (on
                # metadata) and resumes here, inside the simulation's time: it returns
                # with that error instead of breaking the step that resumed it.
                self._return(ps, exc)
                return
            if allocated:
                self._append(ps, size)
                return
            self._wait_pool(ps, size)
            return
        unused = buffer_size if buffer_size and not acc.buffer_used else 0
        self._appended(acc, now)
        self._return(ps, None)
        if unused:
            # Returned after this send() returns: freeing may wake the next waiter, whose
            # append must come after ours.
            self.pool.deallocate(unused)

    def _wait_pool(self, ps: _PendingSend, size: int) -> None:
        """Block the send on the buffer pool for what is left of ``max.block.ms``."""
        self._publish_blocked(ps, size)
        remaining = ps.deadline_ms - self._clock._now_ms
        self.pool.allocate_or_wait(size, remaining,
                                   lambda ok, err: self._pool_done(ps, size, ok, err))
        self.sender.wakeup()  # waiters make every batch sendable (memory pressure)

    def _pool_done(self, ps: _PendingSend, size: int, ok: bool,
                   err: BaseException | None) -> None:
        if ps.returned:
            if ok:
                self.pool.deallocate(size)
            return
        if not ok:
            self._metrics.pool_exhausted(self._clock._now_ms)
            self._return(ps, err)
            return
        # (The wait time itself is recorded by the pool, piece by piece as Kafka's
        # BufferPool records it: pool.on_wait_time -> metrics.pool_waited_piece.)
        self._append(ps, size)

    def _return(self, ps: _PendingSend, error: BaseException | None) -> None:
        """The blocked send() returns now: its future is attached to a batch, or failed
        with ``error``."""
        if ps.returned:
            return
        ps.returned = True
        now = self._clock._now_ms
        if ps in self._blocked:
            self._blocked.remove(ps)
        if self.events is not None:
            self.events.publish("send.unblocked", thread=ps.thread, waited_ms=now - ps.start_ms)
        fut = ps.future
        if error is not None:
            p = ps.partition
            fut.partition = p if isinstance(p, int) and p >= 0 else -1
            fut.fail(error)
            self._metrics.send_error(now, ps.topic)
            if self.events is not None:
                self.events.publish("send.failed", topic=ps.topic, error=str(error))
        for obs in self.send_observers:
            obs(fut, ps.kb, ps.vb)
        if ps.on_return is not None:
            ps.on_return(fut, now - ps.start_ms)

    def _publish_blocked(self, ps: _PendingSend, requested: int) -> None:
        if self.events is not None:
            self.events.publish("send.blocked", thread=ps.thread, topic=ps.topic,
                                requested=requested)

    def _fail_blocked(self, exc: BaseException) -> None:
        for ps in list(self._blocked):
            if ps.timer is not None:
                ps.timer.cancel()
            self._return(ps, exc)
        self._meta_waiters.clear()

    def _release_after_abort(self) -> None:
        # Batches aborted by a forced close that are no longer in flight give back memory.
        for b in list(self.accumulator.incomplete.values()):
            if b.is_done and not b.in_flight and not b.memory_released:
                self.accumulator.deallocate(b)

    def _callback_failed(self, fut: FutureRecordMetadata, exc: BaseException) -> None:
        """A user callback raised: counted and published, never propagated (Kafka logs
        "Error executing user-provided callback" and completes the other records)."""
        self.callback_errors_total += 1
        if self.events is not None:
            self.events.publish("callback.failed", topic=fut.topic, source="callback",
                                error=f"{type(exc).__name__}: {exc}")

    def _interceptor_failed(self, failure: Any) -> None:
        self.callback_errors_total += 1
        if self.events is not None:
            self.events.publish("callback.failed", topic=failure.get("topic"),
                                source=f"interceptor.{failure.get('method')}",
                                error=str(failure.get("error")))

    @property
    def blocked_sends(self) -> int:
        """Application threads currently inside a blocked ``send()``."""
        return len(self._blocked)

    def __repr__(self) -> str:
        return f"<Producer {self.client_id} {'closed' if self._closed else 'open'}>"


def _is_bytes_serializer(ser: Any) -> bool:
    return type(ser).__name__ in ("BytesSerializer", "ByteArraySerializer")


def _call_serializer(ser: Any, topic: str, data: Any, headers: tuple, what: str,
                     spec: Any) -> bytes | None:
    try:
        out = ser.serialize(topic, data, headers)
    except errors.SerializationError:
        raise
    except Exception as exc:
        raise errors.SerializationError(
            f"Can't convert {what} of class {type(data).__name__} with the serializer "
            f"specified in {what}.serializer ({spec!r}): {exc}") from exc
    if out is not None and not isinstance(out, (bytes, bytearray)):
        raise errors.SerializationError(
            f"the {what}.serializer returned {type(out).__name__}, expected bytes or None")
    return None if out is None else bytes(out)


__all__ = ["Producer", "RecordMetadata"]
