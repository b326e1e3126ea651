"""Properties over random configs, application threads and fault scripts (hypothesis).

The checks live in ``producer_core.invariants`` (shared with ``python -m
producer_core.check``): futures complete exactly once; with idempotence no record is lost,
duplicated or reordered in the logs; the pool returns to ``buffer.memory``; uncompressed
multi-record batches stay within ``batch.size``; in-flight requests stay within the
limit; nothing completes later than ``delivery.timeout.ms + request.timeout.ms``.
Here every stored batch is also decoded by kafka-python (the independent oracle).
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kafka.record.default_records import DefaultRecordBatch

from producer_core import Simulation
from producer_core.invariants import RunMonitor, random_scenario, run_scenario

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def oracle_check(sim) -> None:
    for topic, n in sim.cluster.topics().items():
        for p in range(n):
            offsets = []
            for data in sim.cluster.log(topic, p):
                b = DefaultRecordBatch(bytes(data))
                assert b.validate_crc()
                offsets += [r.offset for r in b]
            assert offsets == list(range(len(offsets)))  # dense, increasing offsets


@SETTINGS
@given(st.integers(min_value=0, max_value=10**9))
def test_random_runs_keep_every_invariant(seed):
    sim, mon = run_scenario(random_scenario(seed))
    assert mon.check() == []
    oracle_check(sim)


ERRORS = st.sampled_from(["NOT_LEADER_OR_FOLLOWER", "NOT_ENOUGH_REPLICAS",
                          "REQUEST_TIMED_OUT", "MESSAGE_TOO_LARGE", "NETWORK_EXCEPTION",
                          "LEADER_NOT_AVAILABLE"])


@st.composite
def scenarios(draw):
    brokers = draw(st.integers(1, 3))
    linger = draw(st.sampled_from([0, 2, 10]))
    rt = draw(st.sampled_from([300, 1000]))
    config = {
        "batch.size": draw(st.sampled_from([200, 1000, 16384])),
        "linger.ms": linger,
        "compression.type": draw(st.sampled_from(["none", "gzip", "lz4", "zstd", "snappy"])),
        "request.timeout.ms": rt,
        "delivery.timeout.ms": linger + rt + draw(st.sampled_from([0, 1000])),
        "max.in.flight.requests.per.connection": draw(st.integers(1, 5)),
        "buffer.memory": draw(st.sampled_from([20_000, 1 << 20])),
        "max.block.ms": draw(st.sampled_from([50, 1000])),
        "retry.backoff.ms": draw(st.sampled_from([10, 100])),
    }
    if draw(st.booleans()):
        config["acks"] = draw(st.sampled_from(["all", "1"]))
    faults = []
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, 500))
        b = draw(st.integers(1, brokers))
        kind = draw(st.sampled_from(["fail", "stop", "cut"]))
        if kind == "fail":
            faults.append({"at_ms": at, "op": "fail_next", "broker": b,
                           "count": draw(st.integers(1, 4)), "error": draw(ERRORS)})
        elif kind == "stop":
            faults += [{"at_ms": at, "op": "stop_broker", "broker": b},
                       {"at_ms": at + draw(st.integers(10, 1500)), "op": "start_broker",
                        "broker": b}]
        else:
            faults += [{"at_ms": at, "op": "cut_network", "broker": b},
                       {"at_ms": at + draw(st.integers(10, 1500)), "op": "restore_network",
                        "broker": b}]
    rf = draw(st.integers(1, brokers))
    return {"seed": draw(st.integers(0, 1000)), "config": config,
            "cluster": {"brokers": brokers, "topics": {"t0": draw(st.integers(1, 4))},
                        "replication_factor": rf, "min_insync_replicas": 1,
                        "election_delay_ms": draw(st.sampled_from([50, 500]))},
            "faults": faults,
            "app": {"threads": draw(st.integers(1, 3)), "records": draw(st.integers(1, 200)),
                    "interval_ms": draw(st.sampled_from([0, 1, 5])),
                    "value_bytes": draw(st.sampled_from([5, 300, 2000])),
                    "keys": draw(st.sampled_from([0, 4])), "explicit_partition": False,
                    "headers": draw(st.booleans()), "topics": ["t0"]}}


@SETTINGS
@given(scenarios())
def test_generated_configs_and_fault_scripts_keep_every_invariant(sc):
    sim, mon = run_scenario(sc)
    assert mon.check() == []
    oracle_check(sim)
    assert len(mon.records) == sc["app"]["records"]


def test_the_monitor_notices_duplicates_when_idempotence_is_off():
    # The checks must be able to fail.  Without idempotence a lost answer makes the retry
    # store the batch twice (Kafka's at-least-once): the log check reports it.
    sim = Simulation(config={"enable.idempotence": False, "linger.ms": 0,
                             "request.timeout.ms": 500}, topics={"t0": 1}, seed=3)
    mon = RunMonitor(sim)
    sim.producer.partitions_for("t0")
    leader = sim.cluster.leader("t0", 0)
    sim.producer.send("t0", value=b"twice?", partition=0)
    sim.scheduler.call_later(1, lambda: sim.cluster.cut_network(leader))
    sim.scheduler.call_later(700, lambda: sim.cluster.restore_network(leader))
    sim.producer.close()
    problems = mon._logs()
    assert any("stored 2 times" in p for p in problems)
    assert mon.check() == []  # the full check skips log checks without idempotence


def test_the_monitor_notices_an_uncompleted_future():
    sim = Simulation(config={"linger.ms": 0}, topics={"t0": 1}, brokers=1,
                     replication_factor=1, seed=3)
    mon = RunMonitor(sim)
    sim.producer.partitions_for("t0")
    sim.cluster.cut_network(1)
    sim.producer.send("t0", value=b"x")
    sim.run_for(10)
    assert any("never completed" in p for p in mon.check())
    sim.producer.close()
    assert mon.check() == []
