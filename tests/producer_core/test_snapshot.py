"""Simulation.snapshot(): the SEAMS §1 schema, JSON-safe and bounded."""

from __future__ import annotations

import json

from producer_core import Simulation

REASONS = {"full", "linger", "flush", "memory-pressure", "close", "backlog",
           "retry-backoff", "piggyback", None}


def busy_sim() -> Simulation:
    sim = Simulation(config={"linger.ms": 20, "batch.size": 4096}, topics={"orders": 4},
                     seed=4, election_delay_ms=200)
    sim.add_workload({"topic": "orders", "threads": 3, "rate": 20_000, "data": "json-orders"})
    sim.schedule_faults([{"at_ms": 300, "op": "stop_broker", "broker": 2},
                         {"at_ms": 900, "op": "start_broker", "broker": 2}])
    sim.run_for(1500)
    return sim


def test_top_level_keys_and_sections_follow_seams():
    snap = busy_sim().snapshot()
    for key in ("now_ms", "seed", "config", "notes", "partitions", "pool", "inflight",
                "cluster", "timeline", "metrics", "app"):
        assert key in snap, key
    assert snap["now_ms"] == 1500 and snap["seed"] == 4
    assert snap["config"]["linger.ms"] == 20 and "batch.size" in snap["config"]
    assert set(snap["pool"]) >= {"total", "available", "free_list_count", "free_list_bytes",
                                 "non_pooled_bytes", "used", "waiters", "blocked_ms_total",
                                 "exhausted_total"}
    assert set(snap["timeline"]) == {"batches", "arrivals", "events"}
    assert {"threads", "blocked_threads", "send_calls", "send_block_ms_avg",
            "send_block_ms_p99", "send_block_ms_max", "failed_sends",
            "rate_target"} <= set(snap["app"])
    assert {"send-latency-p50", "send-latency-p95", "send-latency-p99",
            "record-send-total"} <= set(snap["metrics"])
    assert {"brokers", "controller", "partitions", "min_insync_replicas",
            "election_delay_ms"} <= set(snap["cluster"])
    json.dumps(snap)


def test_partitions_are_ordered_with_bounded_queues():
    sim = Simulation(config={"linger.ms": 60_000, "batch.size": 200}, topics={"orders": 2,
                     "audit": 1}, seed=1)
    sim.producer.partitions_for("orders")
    for i in range(100):
        sim.producer.send("orders", value=b"x" * 150, partition=0)
    snap = sim.snapshot()
    keys = [(p["topic"], p["partition"]) for p in snap["partitions"]]
    assert keys == [("audit", 0), ("orders", 0), ("orders", 1)]
    p0 = snap["partitions"][1]
    assert len(p0["queue"]) == 8 and p0["more"] == 100 - 8
    assert p0["queued_records"] == 100
    head = p0["queue"][0]
    assert set(head) >= {"id", "records", "bytes", "capacity", "state", "age_ms", "attempts",
                         "close_reason"}
    assert head["state"] in ("open", "ready", "in_flight", "retrying")
    assert p0["leader"] == sim.cluster.leader("orders", 0)


def test_timeline_is_bounded_and_close_reasons_are_known():
    sim = busy_sim()
    sim.run_for(3000)
    snap = sim.snapshot()
    batches = snap["timeline"]["batches"]
    assert 0 < len(batches) <= 200
    assert len(snap["timeline"]["events"]) <= 100
    assert len(snap["timeline"]["arrivals"]) <= 400
    ids = [b["id"] for b in batches]
    assert ids == sorted(ids)
    for b in batches:
        assert b["close_reason"] in REASONS
        assert b["outcome"] in ("ok", "error", "expired", "split", None)
        if b["outcome"] == "ok":
            assert b["acked_ms"] >= b["sent_ms"] >= b["created_ms"]
    assert any(e["kind"] == "broker.stopped" for e in snap["timeline"]["events"])
    assert len(json.dumps(snap)) < 400_000


def test_inflight_lists_every_broker():
    sim = busy_sim()
    snap = sim.snapshot()
    assert [b["broker"] for b in snap["inflight"]] == [1, 2, 3]
    for b in snap["inflight"]:
        assert b["max"] == 5 and 0 <= b["count"] <= 5
        for r in b["requests"]:
            assert set(r) >= {"id", "batches", "records", "bytes", "sent_ms"}


def test_notes_explain_silent_config_changes():
    sim = Simulation(config={"acks": "1"}, seed=1)
    snap = sim.snapshot()
    assert snap["config"]["enable.idempotence"] is False
    assert any("idempotence" in n for n in snap["notes"])


def test_the_snapshot_is_a_copy():
    sim = busy_sim()
    snap = sim.snapshot()
    snap["config"]["linger.ms"] = 999
    snap["partitions"].clear()
    again = sim.snapshot()
    assert again["config"]["linger.ms"] == 20 and again["partitions"]


def test_queue_totals_are_exact_and_read_only_what_moved():
    # A slow broker at 100,000 records/s: thousands of batches queue up.  The snapshot's
    # per-partition totals, kept incrementally, equal the sums over every queued batch,
    # while reading far fewer batches per snapshot than the backlog holds.
    from producer_core.scenario import Scenario
    from producer_core.snapshot import QueueTotals, partitions_section

    sim = Scenario.preset("lesson-debug-degraded").build()
    totals = QueueTotals()
    calls = backlog = visited = 0
    for _ in range(80):
        sim.run_for(25)
        before = totals.visited
        kept = partitions_section(sim.producer, sim.cluster.topics(), sim.now_ms, totals)
        direct = partitions_section(sim.producer, sim.cluster.topics(), sim.now_ms)
        assert kept == direct
        queued = sum(p["more"] + len(p["queue"]) for p in direct)
        if queued > 2000:
            calls += 1
            backlog += queued
            visited += totals.visited - before
    assert calls > 10  # the backlog really built up
    assert visited < backlog / 4  # (a queue growing past 16 batches is summed once)
