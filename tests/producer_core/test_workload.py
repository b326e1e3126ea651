"""Application threads: rates, CPU cost, key distributions, blocking as the app feels it."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from kafka.record.default_records import DefaultRecordBatch

from producer_core import timemodel
from producer_core.simulation import Simulation
from producer_core.workload import WorkloadError, WorkloadSpec


def sim_with(config=None, **kw) -> Simulation:
    kw.setdefault("topics", {"orders": 3})
    kw.setdefault("seed", 7)
    return Simulation(config=config, **kw)


def run_until_done(sim: Simulation, w, limit_ms: int = 60_000) -> None:
    while not w.done and sim.now_ms < limit_ms:
        sim.run_for(50)
    assert w.done, w.stats()
    sim.producer.flush()


def stored_records(sim: Simulation, topic: str = "orders") -> list:
    out = []
    for p in sim.cluster.partitions_for(topic):
        for raw in sim.cluster.log(topic, p):
            batch = DefaultRecordBatch(raw)
            assert batch.validate_crc()
            out.extend(batch)
    return out


def test_steady_rate_spreads_records_over_time():
    sim = sim_with()
    appended = []
    sim.events.subscribe(lambda e: appended.append(e.t_ms), kinds=["record.appended"])
    w = sim.add_workload({"topic": "orders", "threads": 2, "rate": 1000, "records": 1000,
                          "data": "json-orders", "value_bytes": 200})
    run_until_done(sim, w)
    assert w.send_calls == 1000 and w.acked == 1000
    # 1000 records at 1000/s take about a second of virtual time
    assert 950 <= max(appended) - min(appended) <= 1050
    per_100ms = Counter(t // 100 for t in appended)
    assert all(80 <= n <= 120 for n in per_100ms.values())
    assert len(stored_records(sim)) == 1000


def test_flat_out_is_limited_by_modelled_cpu():
    sim = sim_with()
    w = sim.add_workload({"topic": "orders", "records": 20_000, "data": "fixed",
                          "value_bytes": 100})
    run_until_done(sim, w)
    cost_us = timemodel.send_cpu_us(100)
    # one thread can do at most 1e6 / cost records per virtual second
    assert w.stats()["send_calls"] == 20_000
    appended_ms = sim.producer.metrics()["record-send-total"]
    assert appended_ms == 20_000
    assert sim.now_ms >= 20_000 * cost_us / 1000 - 1


def test_compression_costs_the_application_thread_time():
    def time_to_send(codec):
        sim = sim_with({"compression.type": codec})
        w = sim.add_workload({"topic": "orders", "records": 5_000, "data": "json-orders",
                              "value_bytes": 1000})
        last = []
        sim.events.subscribe(lambda e: last.append(e.t_ms), kinds=["record.appended"])
        run_until_done(sim, w)
        return max(last)

    assert time_to_send("gzip") > time_to_send("lz4") >= time_to_send("none")


def test_bursty_sends_nothing_in_off_windows():
    sim = sim_with()
    times = []
    sim.events.subscribe(lambda e: times.append(e.t_ms), kinds=["record.appended"])
    w = sim.add_workload({"topic": "orders", "rate": 5000, "pattern": "bursty",
                          "burst": {"on_ms": 100, "off_ms": 300}, "stop_ms": 2000})
    sim.run_until(2100)
    assert w.done and times
    assert all(t % 400 <= 100 for t in times)
    # about 5000/s x 0.1 s per burst, 5 bursts
    assert 2000 <= len(times) <= 3000


@pytest.mark.parametrize("keys, check", [
    ("uniform:4", lambda c: set(c) == {b"key-0", b"key-1", b"key-2", b"key-3"}
     and min(c.values()) > 150),
    ("zipf:50", lambda c: c.most_common(1)[0][0] == b"key-0"
     and c[b"key-0"] > 5 * c.get(b"key-20", 0)),
    ("none", lambda c: set(c) == {None}),
])
def test_key_distributions(keys, check):
    sim = sim_with()
    w = sim.add_workload({"topic": "orders", "records": 1000, "keys": keys, "data": "text",
                          "value_bytes": 30})
    run_until_done(sim, w)
    counts = Counter(r.key for r in stored_records(sim))
    assert check(counts), counts.most_common(5)


def test_sequential_keys_land_on_their_murmur2_partitions():
    from kafka.partitioner.default import murmur2

    sim = sim_with()
    w = sim.add_workload({"topic": "orders", "records": 300, "keys": "sequential",
                          "data": "random", "value_bytes": 20})
    run_until_done(sim, w)
    for p in range(3):
        for raw in sim.cluster.log("orders", p):
            for r in DefaultRecordBatch(raw):
                assert (murmur2(r.key) & 0x7FFFFFFF) % 3 == p
    keys = sorted(int(r.key[4:]) for r in stored_records(sim))
    assert keys == list(range(1, 301))


def test_json_values_are_stored_intact():
    sim = sim_with()
    w = sim.add_workload({"topic": "orders", "records": 50, "data": "json-users",
                          "value_bytes": 300})
    run_until_done(sim, w)
    docs = [json.loads(r.value) for r in stored_records(sim)]
    assert len(docs) == 50 and all("user_id" in d for d in docs)


def test_full_buffer_blocks_threads_until_max_block_ms_then_fails():
    sim = sim_with({"buffer.memory": 65536, "batch.size": 16384, "max.block.ms": 500,
                    "delivery.timeout.ms": 120_000})
    w = sim.add_workload({"topic": "orders", "threads": 3, "rate": 2000, "stop_ms": 3000,
                          "data": "random", "value_bytes": 500, "keys": "uniform:30"})
    sim.run_until(50)  # metadata known, records flowing
    for broker in (1, 2, 3):
        sim.cluster.cut_network(broker)
    sim.run_until(1000)
    st = w.stats()
    assert st["blocked_threads"] == 3
    sim.run_until(3000)
    st = w.stats()
    assert st["buffer_exhausted"] >= 3
    assert st["send_block_ms_max"] == 500
    assert st["errors"].get("BufferExhaustedError", 0) == st["buffer_exhausted"]
    assert st["failed_sends"] >= st["buffer_exhausted"]
    assert sim.producer.metrics()["buffer-exhausted-total"] >= 3


def test_set_rate_changes_the_pace_live():
    sim = sim_with()
    w = sim.add_workload({"topic": "orders", "rate": 500, "data": "fixed", "value_bytes": 50})
    sim.run_until(1000)
    first = w.send_calls
    w.set_rate(5000)
    sim.run_until(2000)
    second = w.send_calls - first
    assert 450 <= first <= 550
    assert 4500 <= second <= 5500
    with pytest.raises(WorkloadError, match="rate"):
        w.set_rate(-1)


def test_start_and_stop_ms():
    sim = sim_with()
    times = []
    sim.events.subscribe(lambda e: times.append(e.t_ms), kinds=["record.appended"])
    w = sim.add_workload({"topic": "orders", "rate": 1000, "start_ms": 300, "stop_ms": 800,
                          "data": "fixed", "value_bytes": 10})
    sim.run_until(1500)
    assert w.done
    assert min(times) >= 300 and max(times) < 800
    assert 450 <= len(times) <= 550


def test_stats_have_the_snapshot_fields_and_are_json_safe():
    sim = sim_with()
    w = sim.add_workload({"topic": "orders", "threads": 4, "rate": 4000, "records": 400})
    run_until_done(sim, w)
    st = w.stats()
    json.dumps(st)
    for key in ("threads", "blocked_threads", "send_calls", "send_block_ms_avg",
                "send_block_ms_p99", "send_block_ms_max", "failed_sends", "rate_target"):
        assert key in st
    assert st["threads"] == 4 and st["send_calls"] == 400 and st["rate_target"] == 4000


def test_same_seed_same_bytes():
    def run(seed):
        sim = sim_with(seed=seed)
        w = sim.add_workload({"topic": "orders", "threads": 3, "rate": 3000, "records": 600,
                              "keys": "zipf:20", "data": "json-orders", "value_bytes": 300})
        run_until_done(sim, w)
        return [sim.cluster.log("orders", p) for p in range(3)]

    assert run(5) == run(5)
    assert run(5) != run(6)


@pytest.mark.parametrize("spec, field", [
    ({"topic": "orders", "threads": 0}, "threads"),
    ({"topic": "orders", "rate": 0}, "rate"),
    ({"topic": "orders", "burst": {"on_ms": 0}}, "burst.on_ms"),
    ({"topic": "orders", "value_bytes": -1}, "value_bytes"),
    ({"topic": "orders", "records": 1.5}, "records"),
    ({"topic": "orders", "start_ms": 10, "stop_ms": 5}, "stop_ms"),
    ({"threads": 2}, "topic"),
])
def test_bad_specs_name_the_field(spec, field):
    with pytest.raises(WorkloadError, match=field):
        WorkloadSpec.from_dict(spec)


def test_unknown_topic_is_refused_at_attach_without_auto_creation():
    sim = Simulation(topics={"orders": 3}, seed=1, auto_create_topics=False)
    with pytest.raises(WorkloadError, match="unknown topic 'ordres'"):
        sim.add_workload({"topic": "ordres"})


def test_a_workload_to_a_new_topic_auto_creates_it():
    sim = Simulation(topics={"orders": 3}, seed=1)
    sim.add_workload({"topic": "ordres", "rate": 1000, "records": 50})
    sim.run_for(2000)
    assert sim.cluster.topics()["ordres"] == 1
    assert sim.producer.metrics()["record-send-total"] == 50
