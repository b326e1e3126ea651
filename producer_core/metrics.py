"""The producer's metrics, under Kafka's ``producer-metrics`` names.

Kafka measures with *sampled* statistics: every rate, average and maximum covers the
last two samples of 30 s (``metrics.num.samples=2``, ``metrics.sample.window.ms=30000``),
and a rate divides by at least one full window — so during the first 30 s of a run
``record-send-rate`` reads lower than the true rate, exactly as Kafka's JMX does.
``*-total`` values are cumulative.  Where Kafka would report NaN or -Infinity (no data
yet) we report 0.0 so the result stays JSON-safe.

What is recorded when (as Kafka's ``SenderMetrics``): per drained batch at send time —
record-send (so retries count again), batch-size, compression-rate, record-queue-time
(drain time − creation time), record-size (the batch's largest record); per request —
records-per-request, request-latency; per retry/failure — record-retry / record-error.

Our additions, which Kafka lacks and learners ask for: ``send-latency-p50/p95/p99/max/
avg`` — per record, from append to acknowledgement, over the whole run (milliseconds);
per-topic metrics as flat keys ``topic.<name>.<metric>`` (Kafka's
``producer-topic-metrics`` group) — :meth:`ProducerMetrics.topic_metrics` gives them
nested.  Nothing here runs per record on the send path: record counts are taken per
batch.
"""

from __future__ import annotations

from typing import Any

SAMPLES = 2
WINDOW_MS = 30_000


class SampledStat:
    """Kafka's ``SampledStat``: ``SAMPLES`` windows of ``WINDOW_MS``; old ones expire."""

    __slots__ = ("_count", "_idx", "_max", "_start", "_sum", "total", "total_count")

    def __init__(self) -> None:
        self._start = [-(10**15)] * SAMPLES
        self._sum = [0.0] * SAMPLES
        self._count = [0] * SAMPLES
        self._max = [float("-inf")] * SAMPLES
        self._idx = 0
        self.total = 0.0
        self.total_count = 0

    def record(self, value: float, now_ms: int) -> None:
        i = self._idx
        if now_ms - self._start[i] >= WINDOW_MS:
            i = self._idx = (i + 1) % SAMPLES
            self._start[i] = now_ms
            self._sum[i] = 0.0
            self._count[i] = 0
            self._max[i] = float("-inf")
        self._sum[i] += value
        self._count[i] += 1
        if value > self._max[i]:  # noqa: PLR1730 (hot path: no call; max() keeps the first on ties too)
            self._max[i] = value
        self.total += value
        self.total_count += 1

    def _live(self, now_ms: int) -> list[int]:
        return [i for i in range(SAMPLES) if now_ms - self._start[i] < SAMPLES * WINDOW_MS]

    def avg(self, now_ms: int) -> float:
        live = self._live(now_ms)
        n = sum(self._count[i] for i in live)
        return sum(self._sum[i] for i in live) / n if n else 0.0

    def max(self, now_ms: int) -> float:
        live = [self._max[i] for i in self._live(now_ms) if self._count[i]]
        return float(max(live)) if live else 0.0

    def rate(self, now_ms: int, start_ms: int) -> float:
        """Kafka's ``Rate``: windowed sum per second, over at least one full window."""
        live = self._live(now_ms)
        value = sum(self._sum[i] for i in live)
        oldest = min((self._start[i] for i in live), default=now_ms)
        oldest = max(oldest, start_ms)
        elapsed = now_ms - oldest
        full = elapsed // WINDOW_MS
        if full < SAMPLES - 1:
            elapsed += (SAMPLES - 1 - full) * WINDOW_MS
        return value * 1000.0 / elapsed if elapsed > 0 else 0.0

    def count_rate(self, now_ms: int, start_ms: int) -> float:
        """Occurrences per second (Kafka's ``Rate`` over a ``WindowedCount``)."""
        live = self._live(now_ms)
        value = sum(self._count[i] for i in live)
        oldest = max(min((self._start[i] for i in live), default=now_ms), start_ms)
        elapsed = now_ms - oldest
        full = elapsed // WINDOW_MS
        if full < SAMPLES - 1:
            elapsed += (SAMPLES - 1 - full) * WINDOW_MS
        return value * 1000.0 / elapsed if elapsed > 0 else 0.0


class _TopicStats:
    __slots__ = ("bytes", "compression", "errors", "records", "retries")

    def __init__(self) -> None:
        self.records = SampledStat()
        self.bytes = SampledStat()
        self.retries = SampledStat()
        self.errors = SampledStat()
        self.compression = SampledStat()


def percentiles(hist: dict[int, int], total: int, qs: tuple[float, ...]) -> list[float]:
    """Several nearest-rank quantiles in one pass over the sorted histogram."""
    if total <= 0:
        return [0.0] * len(qs)
    ranks = [max(1, -(-int(q * total * 1000) // 1000)) for q in qs]
    out = [0.0] * len(qs)
    order = sorted(range(len(qs)), key=lambda i: ranks[i])
    k = 0
    seen = 0
    for value in sorted(hist):
        seen += hist[value]
        while k < len(order) and seen >= ranks[order[k]]:
            out[order[k]] = float(value)
            k += 1
        if k == len(order):
            break
    return out


def percentile(hist: dict[int, int], total: int, q: float) -> float:
    """The ``q`` quantile (0..1) of an integer-millisecond histogram (nearest rank)."""
    if total <= 0:
        return 0.0
    rank = max(1, -(-int(q * total * 1000) // 1000))  # ceil(q × total), float-safe
    seen = 0
    for value in sorted(hist):
        seen += hist[value]
        if seen >= rank:
            return float(value)
    return float(max(hist))


class ProducerMetrics:
    """Counters and sampled stats fed by the sender, the pool and the producer."""

    def __init__(self, start_ms: int = 0) -> None:
        self.start_ms = start_ms
        self.record_send = SampledStat()  # value: records per drained batch
        self.records_per_request = SampledStat()
        self.batch_size = SampledStat()
        self.compression_rate = SampledStat()
        self.queue_time = SampledStat()
        self.request_latency = SampledStat()
        self.record_retry = SampledStat()
        self.record_error = SampledStat()
        self.record_size = SampledStat()
        self.split = SampledStat()
        self.request = SampledStat()  # value: request bytes
        self.byte = SampledStat()
        self.buffer_exhausted = SampledStat()
        self.pool_wait = SampledStat()  # value: waited ms
        self.flush_time_ns_total = 0
        self.latency_hist: dict[int, int] = {}
        self.latency_count = 0
        self.latency_sum = 0
        self.records_acked = 0
        self.records_failed = 0
        self.batches_completed = 0
        self.topics: dict[str, _TopicStats] = {}
        # live gauges, wired by the producer
        self.pool: Any = None
        self.client: Any = None
        self.metadata: Any = None

    def _topic(self, topic: str) -> _TopicStats:
        t = self.topics.get(topic)
        if t is None:
            t = self.topics[topic] = _TopicStats()
        return t

    # -- recording (called by the sender and the producer) -------------------------------

    def request_sent(self, now: int, node: int, batches: list, size: int) -> None:
        records = 0
        record_send = self.record_send.record
        batch_size = self.batch_size.record
        compression_rate = self.compression_rate.record
        queue_time = self.queue_time.record
        record_size = self.record_size.record
        topics = self.topics
        for b in batches:
            n = b.records_count
            records += n
            record_send(n, now)
            est = b.size_in_bytes
            batch_size(est, now)
            unc = b.uncompressed_bytes
            comp = b.compressed_bytes
            ratio = comp / unc if unc and comp >= 0 else 1.0
            compression_rate(ratio, now)
            queue_time(b.drained_ms - b.created_ms, now)
            record_size(b.max_record_size, now)
            t = topics.get(b.topic)
            if t is None:
                t = self._topic(b.topic)
            t.records.record(n, now)
            t.bytes.record(est, now)
            t.compression.record(ratio, now)
        self.records_per_request.record(records, now)
        self.request.record(size, now)
        self.byte.record(size, now)

    def request_completed(self, now: int, node: int, latency_ms: int) -> None:
        self.request_latency.record(latency_ms, now)

    def batch_completed(self, now: int, batch: Any) -> None:
        self.batches_completed += 1
        self.records_acked += batch.records_count
        hist = self.latency_hist
        count = batch.records_count
        arr_t = batch.arr_t
        if len(arr_t) == 1:  # every record arrived in the same millisecond
            lat = now - arr_t[0]
            hist[lat] = hist.get(lat, 0) + count
            total = lat * count
        else:
            total = 0
            for t, n in zip(arr_t, batch.arr_n):
                lat = now - t
                hist[lat] = hist.get(lat, 0) + n
                total += lat * n
        self.latency_sum += total
        self.latency_count += count

    def batch_failed(self, now: int, batch: Any) -> None:
        self.records_failed += batch.records_count
        self.record_error.record(batch.records_count, now)
        self._topic(batch.topic).errors.record(batch.records_count, now)

    def batch_retried(self, now: int, batch: Any) -> None:
        self.record_retry.record(batch.records_count, now)
        self._topic(batch.topic).retries.record(batch.records_count, now)

    def batch_split(self, now: int) -> None:
        self.split.record(1, now)

    def send_error(self, now: int, topic: str) -> None:
        """A record that failed inside send() (never reached a batch)."""
        self.record_error.record(1, now)
        self._topic(topic).errors.record(1, now)

    def pool_exhausted(self, now: int) -> None:
        self.buffer_exhausted.record(1, now)

    def pool_waited_piece(self, waited_ms: int, now: int) -> None:
        """BufferPool's hook: one piece of a wait, recorded when the thread wakes up."""
        self.pool_wait.record(waited_ms, now)

    def flushed(self, elapsed_ms: int) -> None:
        self.flush_time_ns_total += elapsed_ms * 1_000_000

    # -- reading ------------------------------------------------------------------------

    def latency_percentile(self, q: float) -> float:
        return percentile(self.latency_hist, self.latency_count, q)

    def snapshot(self, now: int) -> dict[str, Any]:
        """Every metric by Kafka name (plus ``topic.<name>.*`` and send-latency-*)."""
        s0 = self.start_ms
        pool = self.pool
        p50, p95, p99 = percentiles(self.latency_hist, self.latency_count, (0.5, 0.95, 0.99))
        out: dict[str, Any] = {
            "record-send-rate": self.record_send.rate(now, s0),
            "record-send-total": int(self.record_send.total),
            "records-per-request-avg": self.records_per_request.avg(now),
            "batch-size-avg": self.batch_size.avg(now),
            "batch-size-max": self.batch_size.max(now),
            "compression-rate-avg": self.compression_rate.avg(now),
            "record-queue-time-avg": self.queue_time.avg(now),
            "record-queue-time-max": self.queue_time.max(now),
            "request-latency-avg": self.request_latency.avg(now),
            "request-latency-max": self.request_latency.max(now),
            "request-rate": self.request.count_rate(now, s0),
            "request-total": self.request.total_count,
            "request-size-avg": self.request.avg(now),
            "request-size-max": self.request.max(now),
            "outgoing-byte-rate": self.byte.rate(now, s0),
            "outgoing-byte-total": int(self.byte.total),
            "record-retry-rate": self.record_retry.rate(now, s0),
            "record-retry-total": int(self.record_retry.total),
            "record-error-rate": self.record_error.rate(now, s0),
            "record-error-total": int(self.record_error.total),
            "record-size-avg": self.record_size.avg(now),
            "record-size-max": self.record_size.max(now),
            "requests-in-flight": self.client.in_flight_count() if self.client else 0,
            "metadata-age": (self.metadata.age_ms(now) / 1000.0) if self.metadata else 0.0,
            "batch-split-rate": self.split.count_rate(now, s0),
            "batch-split-total": self.split.total_count,
            "waiting-threads": pool.queued() if pool else 0,
            "buffer-total-bytes": pool.total_memory if pool else 0,
            "buffer-available-bytes": pool.available_memory() if pool else 0,
            "bufferpool-wait-ratio": self.pool_wait.rate(now, s0) / 1000.0,
            "bufferpool-wait-time-ns-total": (pool.wait_time_ms_total * 1_000_000
                                              if pool else 0),
            "buffer-exhausted-rate": self.buffer_exhausted.count_rate(now, s0),
            "buffer-exhausted-total": pool.exhausted_total if pool else 0,
            "flush-time-ns-total": self.flush_time_ns_total,
            "send-latency-avg": (self.latency_sum / self.latency_count
                                 if self.latency_count else 0.0),
            "send-latency-p50": p50,
            "send-latency-p95": p95,
            "send-latency-p99": p99,
            "send-latency-max": float(max(self.latency_hist)) if self.latency_hist else 0.0,
            "records-acked-total": self.records_acked,
            "records-failed-total": self.records_failed,
        }
        for topic, stats in sorted(self.topics.items()):
            for name, value in self._topic_values(stats, now).items():
                out[f"topic.{topic}.{name}"] = value
        return out

    def _topic_values(self, t: _TopicStats, now: int) -> dict[str, Any]:
        s0 = self.start_ms
        return {
            "record-send-rate": t.records.rate(now, s0),
            "record-send-total": int(t.records.total),
            "byte-rate": t.bytes.rate(now, s0),
            "byte-total": int(t.bytes.total),
            "compression-rate": t.compression.avg(now),
            "record-retry-rate": t.retries.rate(now, s0),
            "record-retry-total": int(t.retries.total),
            "record-error-rate": t.errors.rate(now, s0),
            "record-error-total": int(t.errors.total),
        }

    def topic_metrics(self, now: int) -> dict[str, dict[str, Any]]:
        """Per-topic metrics nested by topic (Kafka's ``producer-topic-metrics``)."""
        return {topic: self._topic_values(t, now) for topic, t in sorted(self.topics.items())}


_RATE = ("Kafka's Rate: the sum over the last two 30 s samples divided by their span, at "
         "least one full window — so it reads low for the first 30 s of a run and after "
         "every reconfiguration (a new producer).")

#: What each metric really is, in Kafka's terms (the lab's tiles and the course show it).
METRIC_HELP: dict[str, str] = {
    "record-send-rate": "Records sent per second, counted when a batch is drained into a "
                        "request (a retried batch counts again). " + _RATE,
    "record-send-total": "Records sent, counted at drain time; retries count again.",
    "records-per-request-avg": "Average records per produce request (all partitions of "
                               "one request), over the last two 30 s samples.",
    "batch-size-avg": "Average size of the batches sent: the batch's estimated size in "
                      "bytes (header + records, compressed estimate), one value per batch "
                      "per request, over the last two 30 s samples.",
    "batch-size-max": "Largest batch sent (estimated bytes), over the last two 30 s samples.",
    "compression-rate-avg": "Average compressed ÷ uncompressed size of the batches sent "
                            "(1.0 without compression; lower is better).",
    "record-queue-time-avg": "Average time a batch waited in the accumulator, from its "
                             "creation to its drain into a request (ms).",
    "record-queue-time-max": "Longest such wait (ms), over the last two 30 s samples.",
    "request-latency-avg": "Average time from sending a produce request to its answer (ms).",
    "request-latency-max": "Longest request latency (ms), over the last two 30 s samples.",
    "record-retry-rate": "Records re-sent per second because their batch was retried. "
                         + _RATE,
    "record-error-rate": "Records failed per second (expired, refused or aborted). " + _RATE,
    "record-size-avg": "Average over the batches sent of each batch's largest record, sized "
                       "as Kafka's upper-bound estimate (61-byte batch header + 21 bytes of "
                       "record overhead + key, value and headers), not the encoded length.",
    "record-size-max": "Largest record sent, by the same upper-bound estimate (61 + 21 + "
                       "key, value and headers).",
    "requests-in-flight": "Produce requests sent and not yet answered, now.",
    "metadata-age": "Seconds since the last successful metadata update.",
    "batch-split-rate": "Batches split per second after MESSAGE_TOO_LARGE. " + _RATE,
    "waiting-threads": "Application threads blocked in send() waiting for buffer memory, "
                       "now.",
    "buffer-total-bytes": "buffer.memory: the pool's size.",
    "buffer-available-bytes": "Bytes of the pool not held by batches (free list + "
                              "unallocated), now.",
    "bufferpool-wait-ratio": "Kafka's Rate of the wait time in nanoseconds over its window "
                             "(two 30 s samples): the summed waits of every appender divided "
                             "by the window. Not a fraction of time: with several threads "
                             "blocked it exceeds 1 (8 blocked threads approach 8), and as "
                             "a wait is recorded only when the thread wakes up, a long block "
                             "lands in one piece.",
    "bufferpool-wait-time-ns-total": "Total time appenders waited for memory (ns), "
                                     "recorded when each waiting thread wakes up — an "
                                     "ongoing wait is not in it yet.",
    "buffer-exhausted-rate": "send() calls per second that gave up after max.block.ms "
                             "without memory (BufferExhaustedException). " + _RATE,
    "buffer-exhausted-total": "send() calls that failed with BufferExhaustedException.",
    "flush-time-ns-total": "Total time spent in flush() (ns).",
    "send-latency-p50": "Not a Kafka metric: median time from send() to acknowledgement "
                        "per record, over the whole run (ms).",
    "send-latency-p95": "Not a Kafka metric: 95th percentile of send() → ack (ms).",
    "send-latency-p99": "Not a Kafka metric: 99th percentile of send() → ack (ms).",
}

