"""Metrics: Kafka's sampled statistics and the values a run produces."""

from __future__ import annotations

import json

from producer_core import Simulation
from producer_core.metrics import SampledStat, percentile


def test_sampled_stat_averages_and_maxes_over_the_live_windows():
    s = SampledStat()
    s.record(10, 0)
    s.record(30, 1000)
    assert s.avg(1000) == 20 and s.max(1000) == 30
    s.record(5, 31_000)  # second window
    assert s.avg(31_000) == 15 and s.max(31_000) == 30
    s.record(7, 61_000)  # third window replaces the first
    assert s.avg(61_000) == 6 and s.max(61_000) == 7
    assert s.avg(200_000) == 0.0  # everything expired
    assert s.total == 52 and s.total_count == 4


def test_rate_divides_by_at_least_one_full_window_as_kafka_does():
    s = SampledStat()
    for t in range(0, 1000, 10):
        s.record(1, t)
    # 100 events in 1 s, but Kafka's Rate counts the missing window: 100 / 31 s.
    assert abs(s.rate(1000, 0) - 100 / 31.0) < 1e-9
    assert abs(s.count_rate(1000, 0) - 100 / 31.0) < 1e-9


def test_percentile_is_nearest_rank():
    hist = {1: 50, 2: 45, 10: 4, 100: 1}
    assert percentile(hist, 100, 0.5) == 1
    assert percentile(hist, 100, 0.95) == 2
    assert percentile(hist, 100, 0.99) == 10
    assert percentile(hist, 100, 1.0) == 100
    assert percentile({}, 0, 0.5) == 0.0


def run(config: dict, n: int = 2000, value: bytes | None = None) -> Simulation:
    sim = Simulation(config=config, topics={"orders": 3, "users": 2}, seed=9)
    for i in range(n):
        v = value if value is not None else (b'{"order_id": %d, "status": "NEW"}' % i)
        sim.producer.send("orders" if i % 4 else "users", value=v, key=b"k%d" % (i % 50))
    sim.producer.flush()
    return sim


def test_record_counts_batch_sizes_and_per_topic_metrics():
    sim = run({"linger.ms": 5})
    m = sim.producer.metrics()
    assert m["record-send-total"] == 2000 and m["records-acked-total"] == 2000
    assert m["topic.orders.record-send-total"] == 1500
    assert m["topic.users.record-send-total"] == 500
    assert 61 < m["batch-size-avg"] <= m["batch-size-max"] <= 16384
    assert m["records-per-request-avg"] >= 1
    assert m["request-latency-avg"] > 0
    nested = sim.producer.topic_metrics()
    assert nested["orders"]["record-send-total"] == 1500
    json.dumps(m)  # JSON-safe


def test_compression_rate_is_compressed_over_uncompressed():
    plain = run({"compression.type": "none"}).producer.metrics()
    gz = run({"compression.type": "gzip"}).producer.metrics()
    assert plain["compression-rate-avg"] == 1.0
    assert 0 < gz["compression-rate-avg"] < 0.7


def test_send_latency_percentiles_are_ordered_and_grow_with_linger():
    fast = Simulation(config={"linger.ms": 0}, topics={"orders": 1}, seed=1)
    slow = Simulation(config={"linger.ms": 50}, topics={"orders": 1}, seed=1)
    for sim in (fast, slow):
        sim.producer.partitions_for("orders")
        for i in range(200):
            sim.scheduler.call_at(sim.now_ms + i * 3,
                                  lambda s=sim: s.producer.send("orders", value=b"x"))
        sim.run_for(2000)
    f, s = fast.producer.metrics(), slow.producer.metrics()
    for m in (f, s):
        assert m["send-latency-p50"] <= m["send-latency-p95"] <= m["send-latency-p99"] \
            <= m["send-latency-max"]
    assert s["send-latency-p50"] > f["send-latency-p50"] + 20
    assert s["record-queue-time-avg"] > f["record-queue-time-avg"]


def test_retry_and_error_counters():
    sim = Simulation(config={"linger.ms": 0, "enable.idempotence": False, "retries": 1},
                     topics={"orders": 1}, seed=1)
    sim.producer.partitions_for("orders")
    sim.cluster.fail_next(sim.cluster.leader("orders", 0), 2, "NOT_ENOUGH_REPLICAS")
    sim.producer.send("orders", value=b"x")
    sim.producer.flush()
    m = sim.producer.metrics()
    assert m["record-retry-total"] == 1
    assert m["record-error-total"] == 1
    assert m["topic.orders.record-error-total"] == 1


def test_percentiles_in_one_pass_agree_with_single_ones():
    from producer_core.metrics import percentiles

    hist = {3: 10, 1: 5, 40: 2, 7: 30, 1000: 1}
    total = sum(hist.values())
    qs = (0.5, 0.99, 0.01, 0.95, 1.0)
    assert percentiles(hist, total, qs) == [percentile(hist, total, q) for q in qs]


def test_record_size_metrics_are_kafkas_upper_bound_estimate():
    """record-size-avg/-max come from ProducerBatch.maxRecordSize, which Kafka sets to
    AbstractRecords.estimateSizeInBytesUpperBound of each appended record — 61 + 21 +
    key, value and headers — not the record's encoded length; the avg is over batches."""
    from producer_core.records import estimate_batch_size_upper_bound

    sim = Simulation(config={"linger.ms": 0}, topics={"t": 1}, seed=1)
    sim.producer.send("t", key=b"k" * 10, value=b"v" * 100, partition=0)
    sim.producer.flush()
    sim.producer.send("t", value=b"w" * 300, headers=[("h", b"12345")], partition=0)
    sim.producer.flush()
    small = estimate_batch_size_upper_bound(b"k" * 10, b"v" * 100)
    big = estimate_batch_size_upper_bound(None, b"w" * 300, [("h", b"12345")])
    assert small == 61 + 21 + (1 + 10) + (2 + 100) + 1  # key, value varints; 0 headers
    m = sim.producer.metrics()
    assert m["record-size-max"] == big
    assert m["record-size-avg"] == (small + big) / 2
