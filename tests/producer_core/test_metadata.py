"""Producer metadata: waits for unknown topics, refresh timing, epochs, leader hints,
KIP-580 backoff."""

from __future__ import annotations

import itertools
import random

import pytest

from producer_core import Simulation
from producer_core.errors import KafkaTimeoutError, PartitionOutOfRangeError
from producer_core.metadata import ProducerMetadata, exponential_backoff
from producer_core.protocol import MetadataResponse, PartitionMetadata, TopicPartition


def md(**kw) -> ProducerMetadata:
    args = {"metadata_max_age_ms": 300_000, "metadata_max_idle_ms": 300_000,
            "retry_backoff_ms": 100, "retry_backoff_max_ms": 1000, "rng": random.Random(1)}
    args.update(kw)
    return ProducerMetadata(**args)


def response(leader: int, epoch: int, partitions: int = 2) -> MetadataResponse:
    parts = [PartitionMetadata("t", p, leader, epoch, (1, 2), (1, 2)) for p in range(partitions)]
    return MetadataResponse(1, (1, 2), 1, {"t": parts})


def test_unknown_topic_times_out_after_max_block_naming_the_topic():
    sim = Simulation(config={"max.block.ms": 2000}, topics={"orders": 2}, seed=1,
                     auto_create_topics=False)
    t0 = sim.now_ms
    fut = sim.producer.send("nope", value=b"x")
    assert fut.done()
    assert sim.now_ms - t0 == 2000  # send() blocked (drove time) for max.block.ms
    with pytest.raises(KafkaTimeoutError, match="Topic nope not present in metadata after 2000 ms."):
        fut.result()
    assert sim.producer.metrics()["record-error-total"] == 1


def test_send_async_to_an_unknown_topic_returns_after_max_block():
    sim = Simulation(config={"max.block.ms": 500}, topics={"orders": 2}, seed=1,
                     auto_create_topics=False)
    returned = []
    sim.producer.send_async("ghost", b"x", on_return=lambda f, blocked: returned.append(
        (blocked, type(f.exception()).__name__)))
    assert returned == []
    sim.run_for(600)
    assert returned == [(500, "KafkaTimeoutError")]


def test_a_misspelled_topic_is_auto_created_not_a_max_block_wait():
    """Kafka 4.x producer + broker defaults: the metadata request allows auto-creation,
    the broker creates the topic (num.partitions 1) and the send succeeds after a
    metadata retry — the 60 s block happens only with auto-creation off."""
    sim = Simulation(topics={"orders": 2}, seed=1)
    t0 = sim.now_ms
    fut = sim.producer.send("ordres", value=b"x")
    sim.producer.flush()
    assert fut.result().topic == "ordres" and fut.result().partition == 0
    assert sim.now_ms - t0 < 1000  # one metadata retry (retry.backoff.ms), not max.block.ms
    assert sim.cluster.topics() == {"orders": 2, "ordres": 1}
    snap = sim.snapshot()
    assert {p["topic"] for p in snap["cluster"]["partitions"]} == {"orders", "ordres"}
    texts = [e["text"] for e in snap["timeline"]["events"]]
    assert "topic ordres auto-created with 1 partition(s)" in texts


def test_an_explicit_partition_out_of_range_raises_at_the_call():
    sim = Simulation(topics={"orders": 2}, seed=1)
    sim.producer.partitions_for("orders")
    with pytest.raises(PartitionOutOfRangeError, match="Invalid partition given with record: 7"):
        sim.producer.send("orders", value=b"x", partition=7)
    with pytest.raises(PartitionOutOfRangeError, match="non-negative"):
        sim.producer.send("orders", value=b"x", partition=-1)


def test_metadata_refreshes_every_max_age():
    sim = Simulation(config={"metadata.max.age.ms": 1000}, topics={"orders": 1}, seed=1)
    requests = []
    sim.events.subscribe(requests.append, ["metadata.request"])
    sim.producer.send("orders", value=b"x").result()
    sim.run_for(5000)
    times = [e.t_ms for e in requests]
    assert len(times) >= 5
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(900 <= g <= 1100 for g in gaps)


def test_metadata_age_metric_is_in_seconds():
    sim = Simulation(config={"metadata.max.age.ms": 100_000}, topics={"orders": 1}, seed=1)
    sim.producer.send("orders", value=b"x").result()
    sim.run_for(3000)
    assert 2.9 <= sim.producer.metrics()["metadata-age"] <= 3.1


def test_older_leader_epochs_do_not_replace_newer_ones():
    m = md()
    m.add_topic("t", 0)
    m.update(response(leader=2, epoch=5), 10)
    m.update(response(leader=1, epoch=3), 20)  # a stale broker answers
    assert m.leader_for(TopicPartition("t", 0)) == 2
    m.update(response(leader=1, epoch=6), 30)
    assert m.leader_for(TopicPartition("t", 0)) == 1


def test_leader_hints_apply_only_when_newer():
    m = md()
    m.add_topic("t", 0)
    m.update(response(leader=1, epoch=4), 10)
    tp = TopicPartition("t", 1)
    assert not m.update_leader_hint(tp, 2, 4, 11)
    assert m.update_leader_hint(tp, 2, 5, 12)
    assert m.leader_for(tp) == 2
    assert m.available_partitions("t") == [0, 1]


def test_a_missing_topic_keeps_asking_with_backoff():
    m = md()
    m.add_topic("t", 0)
    m.update(MetadataResponse(1, (1,), 1, {}), 100)
    assert m.partition_count("t") is None
    assert m.need_update
    assert m.time_to_next_update(100) == 100  # retry.backoff.ms
    assert m.time_to_next_update(200) == 0


def test_unused_topics_are_forgotten_after_max_idle():
    m = md(metadata_max_idle_ms=1000)
    m.add_topic("t", 0)
    m.update(response(1, 1), 10)
    assert m.partition_count("t") == 2
    m.update(response(1, 1), 2000)
    assert m.partition_count("t") is None and m.topics() == ()


def test_failed_refreshes_back_off_exponentially():
    m = md()
    m.add_topic("t", 0)
    waits = []
    now = 0
    for _ in range(5):
        m.failed_update(now)
        waits.append(m.time_to_next_update(now))
    for got, exp in zip(waits, [100, 200, 400, 800, 1000]):
        assert 0.8 * exp - 1 <= got <= 1.2 * exp


def test_exponential_backoff_bounds():
    rng = random.Random(3)
    for attempts in range(12):
        exp = min(100 * 2 ** attempts, 1000)
        for _ in range(20):
            assert int(exp * 0.8) - 1 <= exponential_backoff(100, 1000, attempts, rng) \
                <= min(int(exp * 1.2), 1000)
    assert exponential_backoff(0, 1000, 3, rng) == 0


def test_partitions_for_returns_leaders_and_replicas():
    sim = Simulation(topics={"orders": 3}, replication_factor=2, seed=1)
    parts = sim.producer.partitions_for("orders")
    assert [p.partition for p in parts] == [0, 1, 2]
    for p in parts:
        assert p.leader == sim.cluster.leader("orders", p.partition)
        assert len(p.replicas) == 2
