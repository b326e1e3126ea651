"""Every embedded preset produces, in virtual time, the effect its lesson claims.

Each test runs the preset through the engine (Scenario → Simulation, seeded) for a short
stretch of virtual time and checks the symptom on the events, metrics and stored bytes.
"""

from __future__ import annotations

import lz4.frame
import pytest
from kafka.record.default_records import DefaultRecordBatch

from courseware.course.services.engine import (
    RunStats,
    attach,
    build_preset,
    cached_run,
    run_preset,
)
from courseware.course.services.replay import REPLAY_MS
from producer_core import presets


def run(preset: str, ms: int) -> RunStats:
    """One shared, memoised run per (preset, duration) — also used by the pages' baselines."""
    return cached_run(preset, ms)


def stored(st: RunStats) -> int:
    return sum(p["log_end_offset"] for p in st.snapshot["cluster"]["partitions"])


def test_linger_demo_closes_batches_on_linger():
    st = run("lesson-linger", 2000)
    total = sum(st.close_reasons.values())
    assert st.close_reasons["linger"] >= 0.4 * total, st.close_reasons
    assert st.close_reasons["full"] == 0
    assert st.metrics["batch-size-avg"] < 0.2 * 16384
    assert st.metrics["record-queue-time-avg"] >= 10  # records wait for linger.ms=20


def test_full_batches_demo_closes_batches_full():
    st = run("lesson-full-batches", 500)
    assert st.close_reasons["full"] > 5 * st.close_reasons["linger"], st.close_reasons
    assert st.metrics["batch-size-avg"] > 0.8 * 16384


def test_compression_demo_ratio_comes_from_real_lz4_bytes():
    sim, _ = build_preset("lesson-compression")
    attach(sim, 1000)
    sim.run_for(1000)
    metric = sim.producer.metrics()["compression-rate-avg"]
    assert metric < 0.6
    ratios = []
    for p in range(presets.load("lesson-compression")["cluster"]["topics"]["orders"]):
        for raw in sim.cluster.log("orders", p):
            batch = DefaultRecordBatch(bytearray(raw))   # kafka-python, an independent decoder
            assert batch.validate_crc()
            assert batch.compression_type == DefaultRecordBatch.CODEC_LZ4
            compressed = bytes(raw[61:])
            plain = lz4.frame.decompress(compressed)      # the real LZ4 frame format
            assert len(list(batch)) == batch.records_count if hasattr(batch, "records_count") else True
            ratios.append(len(compressed) / len(plain))
    assert len(ratios) > 20
    measured = sum(ratios) / len(ratios)
    assert measured == pytest.approx(metric, abs=0.08)


def test_random_data_does_not_compress():
    st = run("lesson-compression-random", 500)
    assert st.metrics["compression-rate-avg"] > 0.97


def test_buffer_demo_blocks_threads_then_fails_after_max_block_ms():
    st = run("lesson-buffer", 6000)
    app = st.snapshot["app"]
    assert st.pool_exhausted > 0 and app["buffer_exhausted"] > 0
    assert app["send_block_ms_max"] >= 2000          # max.block.ms of the preset
    assert app["blocked_threads"] > 0
    healthy = run_preset("lesson-buffer", 6000, config_overrides={"buffer.memory": 67108864})
    assert healthy.snapshot["app"]["buffer_exhausted"] == 0


def test_failover_demo_retries_and_loses_nothing():
    st = run("lesson-failover", 6000)
    app = st.snapshot["app"]
    assert st.retries > 0
    assert app["delivery_failed"] == 0 and app["failed_sends"] == 0
    assert app["acked"] <= stored(st) <= app["send_calls"]  # nothing lost, nothing doubled
    events = st.snapshot["timeline"]["events"]
    assert any("stopped" in e["text"] for e in events)


@pytest.mark.parametrize("preset, rate", [("lesson-flow", 300), ("lesson-metrics", 10000),
                                          ("lesson-spring", 50000)])
def test_steady_demos_deliver_their_offered_rate(preset, rate):
    st = run(preset, 1000)
    assert st.throughput > 0.85 * rate
    assert not st.errors and st.pool_exhausted == 0


def test_incident_exhausts_the_buffer_and_blocks_every_application_thread():
    # REPLAY_MS: the moment the incident page compares fixes against (one shared run).
    st = run("incident", REPLAY_MS)
    app, pool = st.snapshot["app"], st.snapshot["pool"]
    threads = presets.load("incident")["workload"][0]["threads"]
    assert pool["available"] < 16384                          # not one batch.size left
    assert app["blocked_threads"] == threads                  # every application thread waits
    assert st.longest_block_ms > 5_000                       # ...for seconds, not ms
    assert st.retries > 0                                     # the stale-metadata retry loop


def test_incident_fix_keeps_threads_unblocked():
    st = run("incident-fixed", REPLAY_MS)
    app = st.snapshot["app"]
    assert st.pool_exhausted == 0 and app["buffer_exhausted"] == 0
    assert app["blocked_threads"] == 0
    assert st.longest_block_ms <= presets.load("incident-fixed")["config"]["max.block.ms"]
    assert st.snapshot["pool"]["available"] > 0
    assert any("Expiring" in e for e in st.errors)  # stuck records fail fast instead


# ---- common mistakes: each pair shows a different symptom ------------------------------

def test_fire_and_forget_loses_records_silently_and_the_fix_does_not():
    before, after = run("mistake-fire-and-forget-before", 4000), run("mistake-fire-and-forget-after", 4000)
    lost_before = before.records_acked - stored(before)
    assert lost_before > 100 and not before.errors        # gone, with no error anywhere
    assert after.records_acked <= stored(after)
    assert after.retries > 0


def test_get_per_send_caps_throughput_at_one_record_per_round_trip():
    before, after = run("mistake-blocking-send-before", 1000), run("mistake-blocking-send-after", 1000)
    assert before.throughput < 0.1 * after.throughput
    assert before.metrics["records-per-request-avg"] < 3
    assert after.throughput > 0.9 * 20000


def test_tiny_batches_cap_throughput():
    before, after = run("mistake-batch-config-before", 500), run("mistake-batch-config-after", 500)
    assert before.throughput < 0.5 * after.throughput
    assert before.metrics["records-per-request-avg"] * 5 < after.metrics["records-per-request-avg"]


def test_small_buffer_makes_threads_wait():
    before, after = run("mistake-buffer-limits-before", 4000), run("mistake-buffer-limits-after", 4000)
    assert before.metrics["bufferpool-wait-time-ns-total"] > 0 and before.pool_waits > 0
    assert after.metrics["bufferpool-wait-time-ns-total"] == 0 and after.pool_waits == 0


def test_uncompressed_json_saturates_a_thin_link_and_zstd_fits():
    before, after = run("mistake-wrong-codec-before", 3000), run("mistake-wrong-codec-after", 3000)
    assert before.metrics["compression-rate-avg"] == 1.0
    assert after.metrics["compression-rate-avg"] < 0.4
    assert before.throughput < 0.8 * after.throughput
    assert before.metrics["record-queue-time-avg"] > 10 * after.metrics["record-queue-time-avg"]


def test_compressed_batches_carry_more_records_as_the_ratio_estimate_falls():
    sim, _ = build_preset("lesson-compression")
    full: list[int] = []
    sim.events.subscribe(lambda ev: full.append(ev.data["records"])
                         if ev.data["reason"] == "full" else None, kinds=["batch.closed"])
    sim.run_for(1500)
    assert len(full) > 60
    early, late = full[:20], full[-20:]
    assert sum(late) / len(late) > 1.3 * (sum(early) / len(early)), (early, late)


def test_failover_keeps_each_partition_in_sequence_order():
    sim, _ = build_preset("lesson-failover")
    sim.run_for(6000)
    checked = 0
    for p in range(6):
        expected = None
        for raw in sim.cluster.log("orders", p):
            batch = DefaultRecordBatch(bytearray(raw))
            assert batch.validate_crc()
            if expected is not None:
                assert batch.base_sequence == expected, f"orders-{p}: gap or duplicate"
            n = sum(1 for _ in batch)
            expected = batch.base_sequence + n
            checked += n
    assert checked > 20_000
