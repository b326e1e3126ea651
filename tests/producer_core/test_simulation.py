"""Simulation: driving time, pacing for the live lab, workloads, fault scripts, live
reconfiguration, seeded randomness, traces."""

from __future__ import annotations

import pytest

from producer_core import ProducerConfig, Simulation
from producer_core.errors import ConfigError


def test_run_for_and_run_until_move_virtual_time():
    sim = Simulation(seed=1)
    assert sim.now_ms == 0
    sim.run_for(50)
    assert sim.now_ms == 50
    sim.run_until(120)
    assert sim.now_ms == 120
    with pytest.raises(ValueError, match="in the past"):
        sim.run_until(10)
    with pytest.raises(ValueError, match=">= 0"):
        sim.run_for(-1)
    with pytest.raises(TypeError, match="milliseconds"):
        sim.run_for("soon")


def test_step_runs_one_entry_at_a_time():
    sim = Simulation(topics={"orders": 1}, seed=1)
    sim.producer.send_async("orders", b"x", on_return=lambda f, b: None)
    times = []
    for _ in range(5):
        assert sim.step()
        times.append(sim.now_ms)
    assert times == sorted(times)


def test_config_may_be_a_dict_or_a_producer_config_and_is_validated():
    a = Simulation(config={"linger.ms": 10}, seed=1)
    b = Simulation(config=ProducerConfig.from_dict({"linger.ms": 10}), seed=1)
    assert a.producer.config == b.producer.config
    assert Simulation(config={"batch.sise": 1}).config.unknown_keys == ("batch.sise",)
    with pytest.raises(ConfigError, match="batch.size"):
        Simulation(config={"batch.size": -1})
    with pytest.raises(TypeError, match="ProducerConfig or a dict"):
        Simulation(config=[("linger.ms", 1)])


def test_default_topics_and_cluster_shape():
    sim = Simulation()
    assert sim.cluster.topics() == {"orders": 6}
    assert len(sim.cluster.bootstrap_nodes()) == 3


def test_rng_is_derived_from_seed_and_name():
    a, b = Simulation(seed=5), Simulation(seed=5)
    assert a.rng("x").random() == b.rng("x").random()
    assert a.rng("x").random() != a.rng("y").random()
    assert Simulation(seed=6).rng("x").random() != a.rng("x").random()


def test_advance_moves_by_elapsed_times_speed():
    sim = Simulation(seed=1)
    out = sim.advance(100, 0.5, 10_000)
    assert out["reached"] and sim.now_ms == 50 and out["advanced_ms"] == 50
    assert out["effective_speed"] == pytest.approx(0.5)
    # Fractions carry over: 0.01x for 30 ms wall is 0.3 ms; after ten calls, 3 ms.
    for _ in range(10):
        sim.advance(30, 0.01, 10_000)
    assert sim.now_ms == 53


def test_advance_reports_when_the_step_budget_runs_out():
    sim = Simulation(config={"linger.ms": 0}, topics={"orders": 3}, seed=1)
    sim.add_workload({"topic": "orders", "threads": 2, "rate": 50_000, "data": "fixed",
                      "value_bytes": 50})
    out = sim.advance(1000, 1.0, 5)
    assert out["steps"] == 5 and not out["reached"]
    assert out["now_ms"] < 1000 and out["effective_speed"] < 1.0
    with pytest.raises(ValueError, match="speed"):
        sim.advance(10, -1, 5)


def test_workloads_produce_and_report_app_stats():
    sim = Simulation(topics={"orders": 3}, seed=1)
    w = sim.add_workload({"topic": "orders", "threads": 2, "rate": 2000, "records": 500,
                          "data": "json-orders"})
    sim.run_for(2000)
    assert w.stats()["send_calls"] == 500
    assert sim.producer.metrics()["records-acked-total"] == 500
    assert sim.snapshot()["app"]["send_calls"] == 500


def test_scheduled_faults_happen_at_their_time():
    sim = Simulation(topics={"orders": 3}, seed=1, election_delay_ms=100)
    sim.schedule_faults([{"at_ms": 100, "op": "stop_broker", "broker": 2},
                         {"at_ms": 300, "op": "start_broker", "broker": 2}])
    seen = []
    sim.events.subscribe(lambda e: seen.append((e.t_ms, e.kind)),
                         ["broker.stopped", "broker.started"])
    sim.run_for(400)
    assert seen == [(100, "broker.stopped"), (300, "broker.started")]
    assert [f["op"] for f in sim.fault_log] == ["stop_broker", "start_broker"]


def test_a_scripted_fault_that_cannot_apply_becomes_an_event():
    sim = Simulation(topics={"orders": 1}, brokers=1, replication_factor=1, seed=1)
    sim.schedule_faults([{"at_ms": 5, "op": "stop_broker", "broker": 1},
                         {"at_ms": 10, "op": "elect_leader", "topic": "orders",
                          "partition": 0}])
    sim.run_for(50)  # does not raise
    assert "refused" in sim.fault_log[-1]
    assert any("not applied" in e["text"] for e in sim.snapshot()["timeline"]["events"])


def test_reconfigure_starts_a_new_producer_and_the_old_one_finishes():
    sim = Simulation(config={"linger.ms": 1000}, topics={"orders": 2}, seed=1)
    w = sim.add_workload({"topic": "orders", "threads": 1, "rate": 1000, "data": "fixed",
                          "value_bytes": 20})
    sim.run_for(300)
    old = sim.producer
    queued = old.accumulator.has_undrained()
    new = sim.reconfigure({"linger.ms": 5, "compression.type": "lz4"})
    assert sim.producer is new is not old
    assert new.config.linger_ms == 5 and new.config.compression_type == "lz4"
    assert old.closed and queued
    assert w.producer is new
    sim.run_for(2000)
    assert not old.sender.running  # finished its batches and stopped
    assert old.pool.available_memory() == old.pool.total_memory
    assert new.metrics()["record-send-total"] > 0
    assert sim.snapshot()["producer"]["generation"] == 2


def test_reconfigure_with_a_bad_config_changes_nothing():
    sim = Simulation(seed=1)
    p = sim.producer
    with pytest.raises(ConfigError):
        sim.reconfigure({"linger.ms": -3})
    assert sim.producer is p and not p.closed


def test_trace_is_one_line_per_event_and_bounded():
    sim = Simulation(topics={"orders": 1}, seed=1)
    sim.enable_trace(limit=20)
    for i in range(30):
        sim.producer.send("orders", value=b"x%d" % i)
    sim.producer.flush()
    lines = sim.trace_lines()
    assert len(lines) == 20
    assert all(line.split()[0].isdigit() for line in lines)
    assert any("batch.completed" in line for line in lines)
    assert Simulation(seed=1).trace_lines() == []


def test_every_producer_event_kind_is_published_with_its_declared_fields():
    from producer_core.events import KINDS

    sim = Simulation(config={"linger.ms": 2, "batch.size": 2048, "buffer.memory": 65536,
                             "max.block.ms": 200, "request.timeout.ms": 400,
                             "delivery.timeout.ms": 1500},
                     topics={"orders": 2}, brokers=2, replication_factor=1, seed=8)
    seen = []
    sim.events.subscribe(seen.append)
    sim.producer.send("missing", value=b"x")  # metadata wait, then send.failed
    sim.producer.partitions_for("orders")
    leader0 = sim.cluster.leader("orders", 0)
    sim.cluster.fail_next(leader0, 1, "MESSAGE_TOO_LARGE")
    for i in range(40):
        sim.producer.send("orders", value=b"v" * 200, partition=0)
    sim.producer.flush()
    sim.cluster.fail_next(leader0, 1, "NOT_ENOUGH_REPLICAS")
    sim.producer.send("orders", value=b"r", partition=0)
    sim.producer.flush()
    sim.cluster.cut_network(leader0)
    returned = []
    for i in range(60):
        sim.producer.send_async("orders", b"z" * 1500, partition=0, thread=f"t{i}",
                                on_return=lambda f, b: returned.append(b))
    sim.run_for(3000)
    kinds = {e.kind for e in seen}
    mine = {"record.appended", "send.blocked", "send.unblocked", "send.failed",
            "batch.created", "batch.closed", "batch.drained", "batch.completed",
            "batch.retry", "batch.expired", "batch.split", "request.sent",
            "request.completed", "request.failed", "pool.allocate", "pool.free", "pool.wait",
            "pool.exhausted", "metadata.request", "metadata.update", "producer.init"}
    assert mine <= kinds, sorted(mine - kinds)
    for e in seen:
        assert set(e.data) == set(KINDS[e.kind]), e.kind
