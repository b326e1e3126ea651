"""The shipped presets: valid scenarios that run, and the incident that really happens."""

from __future__ import annotations

import json

import pytest

from producer_core import presets
from producer_core.scenario import Scenario

LAB_PRESETS = ("kafka-defaults", "high-throughput", "low-latency", "incident", "compression")
REQUIRED = ("id", "title", "summary", "config", "cluster", "workload", "faults", "duration_ms")


def test_the_five_lab_presets_and_the_fix_exist():
    names = presets.names()
    for pid in (*LAB_PRESETS, "incident-fixed"):
        assert pid in names


@pytest.mark.parametrize("pid", presets.names())
def test_every_preset_is_a_valid_scenario_with_the_menu_fields(pid):
    data = presets.load(pid)
    for key in REQUIRED:
        assert key in data, f"{pid} lacks {key}"
    assert data["id"] == pid
    sc = Scenario.from_dict(data)
    assert sc.workload and sc.duration_ms > 0


@pytest.mark.parametrize("pid", ["kafka-defaults", "high-throughput", "low-latency",
                                 "compression"])
def test_lab_presets_run_and_deliver(pid):
    sim = Scenario.preset(pid).build()
    sim.run_until(1000)
    m = sim.producer.metrics()
    assert m["records-acked-total"] > 500
    assert m["record-error-total"] == 0
    snap = sim.snapshot()
    json.dumps(snap)
    assert snap["app"]["send_calls"] >= m["records-acked-total"]


def test_presets_show_their_point():
    def metrics(pid):
        sim = Scenario.preset(pid).build()
        sim.run_until(1000)
        return sim.producer.metrics()

    defaults, fast, tuned, zstd = (metrics(p) for p in
                                   ("kafka-defaults", "low-latency", "high-throughput",
                                    "compression"))
    assert fast["send-latency-avg"] < defaults["send-latency-avg"]
    assert tuned["records-per-request-avg"] > 5 * defaults["records-per-request-avg"]
    assert zstd["compression-rate-avg"] < 0.3 and defaults["compression-rate-avg"] == 1.0


# ---- the incident (source article) -------------------------------------------------------

def _pool_used_mb(sim) -> float:
    m = sim.producer.metrics()
    return (m["buffer-total-bytes"] - m["buffer-available-bytes"]) / 1e6


@pytest.fixture(scope="module")
def incident():
    """The incident preset run to just past max.block.ms after the buffer filled."""
    sc = Scenario.preset("incident")
    sim = sc.build()
    kinds = []
    sim.events.subscribe(lambda e: kinds.append(e.kind if e.kind != "batch.retry"
                                                else f"retry:{e.data['error']}"),
                         kinds=["broker.stopped", "leader.elected", "send.blocked",
                                "batch.retry"])
    w = sim.workloads[0]
    samples = {}
    for t in (4_000, 30_000, 62_000, 90_000, 121_000):
        sim.run_until(t)
        samples[t] = (_pool_used_mb(sim), w.stats())
    return sim, samples, kinds


def test_incident_buffer_fills_within_about_a_minute(incident):
    sim, samples, kinds = incident
    assert sim.config.get("buffer.memory") == 67108864
    assert samples[4_000][0] < 5  # healthy before the maintenance
    assert 20 < samples[30_000][0] < 50  # "buffer at 50%" half a minute in
    assert samples[62_000][0] > 66  # full: 64 MiB
    assert kinds.count("broker.stopped") == 1 and "leader.elected" in kinds


def test_incident_producer_keeps_retrying_the_old_leader(incident):
    _sim, _samples, kinds = incident
    # the article's loop: NOT_LEADER_OR_FOLLOWER, refresh (stale), retry; then refused
    assert kinds.index("leader.elected") < kinds.index("retry:NOT_LEADER_OR_FOLLOWER")
    assert kinds.index("broker.stopped") < kinds.index("retry:NETWORK_EXCEPTION")
    assert kinds.count("retry:NOT_LEADER_OR_FOLLOWER") > 10


def test_incident_blocks_every_application_thread(incident):
    _sim, samples, kinds = incident
    app = samples[90_000][1]
    assert app["blocked_threads"] == app["threads"] == 8
    assert "send.blocked" in kinds
    # while the threads are stuck, no send() returns: the API stops answering
    assert samples[90_000][1]["sends_returned"] == samples[62_000][1]["sends_returned"]


def test_incident_ends_in_buffer_exhausted_after_max_block_ms(incident):
    sim, samples, _ = incident
    app = samples[121_000][1]
    assert app["send_block_ms_max"] == 60_000  # max.block.ms
    assert app["buffer_exhausted"] >= 8
    assert app["errors"]["BufferExhaustedError"] == app["buffer_exhausted"]
    assert sim.producer.metrics()["buffer-exhausted-total"] >= 8


def test_incident_fixed_keeps_the_application_answering():
    sim = Scenario.preset("incident-fixed").build()
    w = sim.workloads[0]
    sim.run_until(50_000)
    mid = w.stats()
    sim.run_until(70_000)  # the incident's threads have been stuck for ~15 s by now
    app = w.stats()
    assert app["send_block_ms_max"] <= 1_000  # never blocks for minutes (or even 1 s)
    assert app["blocked_threads"] == 0 and app["buffer_exhausted"] == 0
    assert _pool_used_mb(sim) < 60  # delivery.timeout.ms frees the stuck batches' memory
    # records for the broken partitions fail fast and visibly; the rest get through
    assert app["errors"].get("KafkaTimeoutError", 0) > 1000
    assert app["acked"] - mid["acked"] > 20_000  # 2/3 of 2000 records/s for 20 s
