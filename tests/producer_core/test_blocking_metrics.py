"""Blocking while it happens (issue 11): with every application thread blocked on the
buffer pool, the pool's view counts the ongoing waits, and the Kafka metrics are what
Kafka computes — bufferpool-wait-ratio is a Rate of nanoseconds waited, which exceeds 1
when several threads wait."""

from __future__ import annotations

from producer_core import Simulation
from producer_core.metrics import METRIC_HELP


def blocked_lab() -> Simulation:
    # 32 KiB of memory, a stopped broker: nothing drains, 8 threads soon block in send().
    sim = Simulation(config={"buffer.memory": 32768, "batch.size": 16384, "linger.ms": 0,
                             "max.block.ms": 60000, "delivery.timeout.ms": 600000,
                             "request.timeout.ms": 30000},
                     topics={"t": 4}, replication_factor=1, brokers=1, seed=2)
    sim.producer.partitions_for("t")
    sim.run_for(50)
    sim.cluster.stop_broker(1)
    sim.add_workload({"topic": "t", "threads": 8, "rate": 8000, "value_bytes": 1000,
                      "data": "random"})
    return sim


def test_ongoing_waits_count_in_the_pool_view():
    sim = blocked_lab()
    sim.run_for(1000)
    assert sim.producer.pool.queued() == 8  # 8 of 8 threads blocked
    t_all = sim.now_ms
    sim.run_for(20_000)
    snap = sim.snapshot()
    pool = snap["pool"]
    assert pool["waiters"] == 8
    # every thread has been blocked at least the last 20 s: 8 × 20 s at least
    assert pool["blocked_ms_total"] >= 8 * (sim.now_ms - t_all)
    assert pool["longest_wait_ms"] >= sim.now_ms - t_all
    # Kafka's own total counts a wait when the thread wakes: these have not, yet.
    m = snap["metrics"]
    assert m["bufferpool-wait-time-ns-total"] < pool["blocked_ms_total"] * 1_000_000
    assert m["waiting-threads"] == 8


def test_bufferpool_wait_ratio_is_a_rate_that_exceeds_one_with_many_waiters():
    sim = blocked_lab()
    sim.run_for(62_000)  # the 8 first waits time out after max.block.ms (60 s)
    m = sim.producer.metrics()
    assert m["buffer-exhausted-total"] >= 8
    # 8 waits of ~60 s recorded within the last two 30 s samples: ~8 × 60 / 60 > 1
    assert m["bufferpool-wait-ratio"] > 1.5
    help_text = METRIC_HELP["bufferpool-wait-ratio"]
    assert "exceeds 1" in help_text and "Not a fraction" in help_text


def test_every_tile_metric_is_described():
    sim = Simulation(topics={"t": 1}, seed=1)
    m = sim.producer.metrics()
    for name in ("record-send-rate", "record-size-avg", "bufferpool-wait-ratio",
                 "bufferpool-wait-time-ns-total", "waiting-threads", "batch-size-avg",
                 "record-queue-time-avg", "request-latency-avg", "compression-rate-avg",
                 "buffer-available-bytes", "record-retry-rate", "record-error-rate",
                 "requests-in-flight", "record-send-total", "buffer-exhausted-total"):
        assert name in m and METRIC_HELP.get(name)
    assert "upper-bound" in METRIC_HELP["record-size-avg"]
