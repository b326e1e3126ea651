"""A live lab's broker keeps a window of each partition's log; batch runs keep everything."""

import pytest

from producer_core import ProducerConfig, Simulation
from producer_core.cluster.mock import ClusterConfigError
from producer_core.records import batch_header


def _run(retention):
    sim = Simulation(config=ProducerConfig.from_dict({"linger.ms": 0, "batch.size": 1024}),
                     brokers=3, topics={"orders": 1}, seed=7)
    if retention is not None:
        sim.cluster.set_log_retention(retention)
    for i in range(6000):
        sim.producer.send("orders", value=b"x" * 200, key=b"k")
        if i % 50 == 0:
            sim.run_for(1)
    sim.producer.flush()
    return sim


def test_retention_keeps_the_newest_batches_and_offsets_keep_counting():
    full, windowed = _run(None), _run(20)
    everything = full.cluster.log("orders", 0)
    kept = windowed.cluster.log("orders", 0)
    assert len(everything) > 100 and len(kept) == 20
    assert kept == everything[-20:]  # same bytes, same offsets: only older batches dropped
    assert windowed.cluster.log_end_offset("orders", 0) == full.cluster.log_end_offset("orders", 0)
    assert windowed.cluster.log_start_offset("orders", 0) == batch_header(kept[0]).base_offset > 0
    assert full.cluster.log_start_offset("orders", 0) == 0
    assert windowed.producer.metrics()["record-send-total"] == 6000


def test_idempotent_dedup_needs_no_old_batch():
    sim = _run(1)  # the tightest window: sequences are still checked from producer state
    assert len(sim.cluster.log("orders", 0)) == 1
    assert sim.producer.metrics()["record-error-total"] == 0


@pytest.mark.parametrize("bad", [0, -1, 1.5, "10", True])
def test_a_bad_retention_is_refused(bad):
    sim = Simulation(brokers=1, topics={"t": 1}, replication_factor=1, seed=1)
    with pytest.raises(ClusterConfigError):
        sim.cluster.set_log_retention(bad)
