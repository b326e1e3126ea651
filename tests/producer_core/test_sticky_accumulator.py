"""The built-in sticky partitioner inside the accumulator, after Kafka's RecordAccumulatorTest
(testStickyBatches, testUniformBuiltInPartitioner, testAdaptiveBuiltInPartitioner,
testBuiltInPartitionerFractionalBatches): a partition switch that was deferred while the
partition's last batch was open completes before the next append (``partitionChanged``),
so switches fall on batch boundaries.

The accumulator is driven directly with explicit times, as Kafka's tests drive theirs.
"""

from __future__ import annotations

import itertools
import random

from producer_core import Simulation
from producer_core.partitioner import BuiltInPartitioner
from producer_core.records import RECORD_BATCH_OVERHEAD, record_size_in_bytes


class SequentialRandom(random.Random):
    """Kafka's mockRandom: draws 0, 1, 2, ... (an AtomicInteger incremented per draw)."""

    def __init__(self) -> None:
        super().__init__(0)
        self.draws = 0

    def getrandbits(self, k: int) -> int:
        n = self.draws
        self.draws += 1
        return n


def env(config: dict, *, partitions: int = 3, rng: random.Random | None = None):
    sim = Simulation(config=config, brokers=3, topics={"t": partitions},
                     replication_factor=1, seed=3)
    sim.producer.partitions_for("t")
    sim.run_for(20)
    acc = sim.producer.accumulator
    if rng is not None:
        acc._topic("t").partitioner = BuiltInPartitioner(
            "t", sim.producer.config.batch_size, rng)
    return sim, acc, sim.producer.metadata, sim.producer.pool


def append(acc, md, pool, value: bytes, now: int, partition: int = -1) -> int:
    """KafkaProducer's two-step append (memory allocated when a new batch is needed);
    returns the partition the record went to."""
    fut = acc.append("t", partition, now, None, value, (), now, md)
    if fut is None:
        size = acc.needs_buffer
        assert pool.try_allocate(size)
        fut = acc.append("t", partition, now, None, value, (), now, md, size)
        if not acc.buffer_used:
            pool.deallocate(size)
    assert fut is not None
    return acc.last_partition if partition < 0 else partition


def queued(acc, p: int) -> list:
    return acc.queued_batches(acc_tp(p))


def acc_tp(p: int):
    from producer_core.protocol import TopicPartition
    return TopicPartition("t", p)


def nodes_for(sim, md, check):
    return sorted(check.ready_nodes)


def test_builtin_partitioner_fractional_batches():
    """testBuiltInPartitionerFractionalBatches: with a long linger, each round of 2/3 of a
    batch goes to one partition and is sent whole — never split across a switch."""
    batch_size, val_size = 512, 32
    sim, acc, md, pool = env({"batch.size": batch_size, "linger.ms": 10,
                              "buffer.memory": 1024 * 1024})
    value = bytes(val_size)
    now = sim.now_ms
    for _ in range(10):
        for _ in range(batch_size * 2 // 3 // val_size):
            append(acc, md, pool, value, now)
        now += 10  # the batch's linger passes
        check = acc.ready(md, now)
        assert len(check.ready_nodes) == 1, "should have 1 leader ready"
        drained = acc.drain(md, sorted(check.ready_nodes), 2**31 - 1, now,
                            partitions_for_node=sim.producer.sender.partitions_for_node)
        (batches,) = drained.values()
        assert len(batches) == 1, "should have 1 batch ready"
        size = len(batches[0].encode())
        assert batch_size / 2 < size < batch_size


def test_uniform_builtin_partitioner_switches_when_a_batch_completes():
    """testUniformBuiltInPartitioner: a large record past the sticky limit still goes to the
    current partition while its batch is open; the next one completes the switch."""
    rng = SequentialRandom()
    sim, acc, md, pool = env({"batch.size": 1024, "linger.ms": 0,
                              "buffer.memory": 1024 * 1024}, rng=rng)
    now = sim.now_ms
    large = bytes(1024)
    assert append(acc, md, pool, b"v" * 8, now) == 0  # first draw: 0 % 3
    assert rng.draws == 1
    assert append(acc, md, pool, large, now) == 0  # switch disabled: batch incomplete
    assert rng.draws == 1
    assert append(acc, md, pool, large, now) == 1  # previous batch complete: switch
    assert rng.draws == 2
    assert append(acc, md, pool, large, now) == 2
    assert rng.draws == 3
    assert append(acc, md, pool, large, now) == 0
    assert rng.draws == 4


def test_adaptive_builtin_partitioner_frequencies_are_reciprocal_to_queue_sizes():
    """testAdaptiveBuiltInPartitioner (without its latency part: partitioner.availability.
    timeout.ms is not modelled): queues of 1, 7 and 2 batches make partitions chosen in
    proportion 7 : 1 : 6."""
    batch_size = 128
    sim, acc, md, pool = env({"batch.size": batch_size, "linger.ms": 0,
                              "buffer.memory": 1024 * 1024}, rng=SequentialRandom())
    now = sim.now_ms
    large = bytes(batch_size)
    queue_sizes = [1, 7, 2]
    for p, n in enumerate(queue_sizes):
        for _ in range(n):
            append(acc, md, pool, large, now, partition=p)
        assert len(queued(acc, p)) == n
    acc.ready(md, now)  # builds the load stats
    append(acc, md, pool, large, now)  # primes the sticky counter past its limit
    part = acc._topic("t").partitioner
    cycles = 2
    iterations = part._load_stats[0][part._load_stats[2] - 1] * cycles
    freq = [0, 0, 0]
    for _ in range(iterations):
        freq[append(acc, md, pool, large, now)] += 1
    assert freq == [(8 - q) * cycles for q in queue_sizes]


def _expected_appends_no_key(batch_size: int, value_len: int) -> int:
    """RecordAccumulatorTest.expectedNumAppendsNoKey."""
    size, offset_delta = 0, 0
    while True:
        record = record_size_in_bytes(offset_delta, 0, None, bytes(value_len))
        if size + record > batch_size:
            return offset_delta
        offset_delta += 1
        size += record


def test_sticky_batches_fill_one_batch_per_partition():
    """testStickyBatches: while a partition's batch fills, records stay on it (one batch in
    the whole accumulator); the next batch goes to one partition as well, and each holds
    exactly as many records as fit."""
    batch_size = 1025
    value = b"x" * 10
    sim, acc, md, pool = env({"batch.size": batch_size + RECORD_BATCH_OVERHEAD,
                              "linger.ms": 10, "buffer.memory": 10 * batch_size})
    now = sim.now_ms
    expected = _expected_appends_no_key(batch_size, len(value))
    parts = [append(acc, md, pool, value, now) for _ in range(2 * expected)]
    assert parts[:expected] == [parts[0]] * expected
    assert parts[expected:] == [parts[expected]] * expected
    batches = [b for p in range(3) for b in queued(acc, p)]
    assert sorted(b.records_count for b in batches) == [expected, expected]
    assert all(b.is_full() or b.records_count == expected for b in batches)


def test_a_burst_switches_on_a_batch_boundary():
    """Issue 11: a burst of equal records makes runs of exactly one batch's worth per
    partition — no one-record straggler left on the old partition."""
    sim = Simulation(config={"batch.size": 1024, "linger.ms": 100}, topics={"t": 6},
                     replication_factor=1, seed=11)
    closed = []
    sim.events.subscribe(closed.append, ["batch.closed"])
    futs = [sim.producer.send("t", value=b"v" * 50) for _ in range(400)]
    sim.producer.flush()
    parts = [f.result().partition for f in futs]
    runs, n = [], 1
    for a, b in itertools.pairwise(parts):
        if a == b:
            n += 1
        else:
            runs.append(n)
            n = 1
    per_batch = sim.producer.accumulator.recent[0].records_count
    assert per_batch > 1
    # A partition keeps the sticky partition until batch.size bytes went to it, then
    # switches at the next batch boundary (Kafka's partitionChanged): every stay is a
    # whole number of full batches, and every batch closed as full holds the same count.
    assert len(runs) > 3
    assert [r % per_batch for r in runs] == [0] * len(runs)
    full = [e.data["records"] for e in closed if e.data["reason"] == "full"]
    assert set(full) == {per_batch}
