"""Scenarios as data: validation names the path; a built scenario replays exactly."""

from __future__ import annotations

import copy

import pytest

from producer_core.scenario import Scenario, ScenarioError

BASE = {
    "id": "t", "title": "test", "seed": 3,
    "config": {"linger.ms": 2},
    "cluster": {"brokers": 3, "topics": {"orders": 3}, "replication_factor": 3,
                "min_insync_replicas": 2, "election_delay_ms": 200,
                "network": {"rtt_ms": 2, "jitter": 0.1}},
    "workload": [{"topic": "orders", "threads": 2, "rate": 2000, "records": 400,
                  "data": "json-orders", "value_bytes": 200, "keys": "uniform:50"}],
    "faults": [{"at_ms": 100, "op": "slow_broker", "broker": 2, "extra_ms": 5}],
    "duration_ms": 2000,
}


def with_change(path: str, value):
    d = copy.deepcopy(BASE)
    node = d
    parts = path.split(".")
    for p in parts[:-1]:
        node = node[int(p)] if p.isdigit() else node[p]
    last = parts[-1]
    if value is KeyError:
        del node[last]
    else:
        node[int(last) if last.isdigit() else last] = value
    return d


@pytest.mark.parametrize("path, value, message", [
    ("workload.0.rate", -5, r"workload\[0\]\.rate: must be a positive number.*got -5"),
    ("workload.0.threads", 0, r"workload\[0\]\.threads"),
    ("workload.0.keys", "zipf", r"workload\[0\]\.keys: zipf needs a key count"),
    ("workload.0.keys", "hash:4", r"workload\[0\]\.keys: unknown key distribution"),
    ("workload.0.data", "xml", r"workload\[0\]\.data"),
    ("workload.0.colour", "red", r"workload\[0\]\.colour: unknown field"),
    ("workload.0.pattern", "wavy", r"workload\[0\]\.pattern"),
    ("workload.0.stop_ms", -1, r"workload\[0\]\.stop_ms"),
    ("faults.0.broker", 7, r"faults\[0\]\.broker: no broker 7"),
    ("faults.0.op", "melt", r"faults\[0\]\.op: unknown fault"),
    ("cluster.brokers", 0, r"cluster\.brokers"),
    ("cluster.replication_factor", 4, r"cluster\.replication_factor"),
    ("cluster.min_insync_replicas", 4, r"cluster\.min_insync_replicas"),
    ("cluster.topics", {}, r"cluster\.topics"),
    ("cluster.network", {"rtt_ms": -2}, r"cluster\.network\.rtt_ms"),
    ("cluster.racks", 2, r"cluster\.racks: unknown field"),
    ("config", {"linger.ms": -1}, r"config\.linger\.ms: .*linger\.ms"),
    ("cluster.auto_create_topics", "yes", r"cluster\.auto_create_topics: must be true or false"),
    ("duration_ms", 0, r"duration_ms"),
    ("seed", "x", r"seed"),
    ("surprise", 1, r"surprise: unknown field"),
])
def test_errors_name_the_path_value_and_rule(path, value, message):
    with pytest.raises(ScenarioError, match=message):
        Scenario.from_dict(with_change(path, value))


def test_a_workload_topic_the_cluster_lacks_is_auto_created_unless_turned_off():
    """Kafka's brokers default to auto.create.topics.enable=true (num.partitions 1)."""
    d = with_change("workload.0.topic", "payments")
    sim = Scenario.from_dict(d).run(until_ms=500)
    assert sim.cluster.topics()["payments"] == 1
    assert sim.producer.metrics()["record-send-total"] > 0
    d["cluster"]["auto_create_topics"] = False
    with pytest.raises(ScenarioError,
                       match=r"workload\[0\]\.topic: unknown topic 'payments'.*auto_create"):
        Scenario.from_dict(d)
    assert Scenario.from_dict(with_change("cluster.auto_create_topics", False)).to_dict()[
        "cluster"]["auto_create_topics"] is False


def test_unknown_config_keys_are_accepted_as_kafka_accepts_them():
    sc = Scenario.from_dict(with_change("config", {"batch.sise": 1, "linger.ms": 2}))
    sim = sc.build()
    assert sim.producer.config.unknown_keys == ("batch.sise",)
    assert sim.producer.config.batch_size == 16384


def test_round_trip_through_to_dict():
    sc = Scenario.from_dict(BASE)
    again = Scenario.from_dict(sc.to_dict())
    assert again.to_dict() == sc.to_dict()
    assert sc.to_dict()["workload"][0]["rate"] == 2000
    assert sc.to_dict()["cluster"]["network"] == {"rtt_ms": 2, "jitter": 0.1}


def test_a_single_workload_object_is_accepted():
    d = copy.deepcopy(BASE)
    d["workload"] = d["workload"][0]
    assert len(Scenario.from_dict(d).workload) == 1


def test_faults_are_sorted_by_time():
    d = copy.deepcopy(BASE)
    d["faults"] = [{"at_ms": 900, "op": "start_broker", "broker": 1},
                   {"at_ms": 100, "op": "stop_broker", "broker": 1}]
    assert [f["op"] for f in Scenario.from_dict(d).faults] == ["stop_broker", "start_broker"]


def test_with_config_validates_overrides():
    sc = Scenario.from_dict(BASE)
    assert sc.with_config({"batch.size": 32768}).config == {"linger.ms": 2, "batch.size": 32768}
    with pytest.raises(ScenarioError, match="batch.size"):
        sc.with_config({"batch.size": -1})


def test_bad_json_is_a_scenario_error():
    with pytest.raises(ScenarioError, match="not valid JSON"):
        Scenario.from_json("{nope")


def test_build_wires_config_cluster_workloads_and_faults():
    sim = Scenario.from_dict(BASE).build()
    assert sim.config.get("linger.ms") == 2
    assert sim.cluster.min_insync_replicas == 2 and sim.cluster.election_delay_ms == 200
    assert len(sim.workloads) == 1 and sim.workloads[0].spec.rate == 2000
    sim.run_until(99)
    assert sim.cluster.snapshot()["brokers"][1]["extra_latency_ms"] == 0
    sim.run_until(101)
    assert sim.cluster.snapshot()["brokers"][1]["extra_latency_ms"] == 5


def test_a_scenario_replays_byte_for_byte():
    def run(seed=None):
        sim = Scenario.from_dict(BASE).run(seed=seed, until_ms=1500)
        logs = [sim.cluster.log("orders", p) for p in range(3)]
        return logs, sim.producer.metrics()["record-send-total"], sim.workloads[0].stats()

    first, again = run(), run()
    assert first == again
    assert first[1] == 400 and sum(len(b) for b in first[0]) > 0
    assert run(seed=99)[0] != first[0]
