"""Partitioning: murmur2 identical to Java (and to kafka-python's unsigned variant), the
KIP-794 uniform sticky partitioner with adaptive weights (scenarios after Kafka's
BuiltInPartitionerTest), and custom partitioners."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kafka.partitioner.default import DefaultPartitioner as KafkaPythonPartitioner
from kafka.partitioner.default import murmur2 as kafka_python_murmur2

from producer_core.errors import ConfigError, PartitionOutOfRangeError
from producer_core.partitioner import (
    BuiltInPartitioner,
    FunctionPartitioner,
    Partitioner,
    RoundRobinPartitioner,
    StickyPartitionInfo,
    check_custom_partition,
    load_partitioner,
    murmur2,
    partition_for_key,
    to_positive,
)


def test_murmur2_java_vectors():
    assert murmur2(b"21") == -973932308
    assert murmur2(b"foobar") == -790332482
    assert murmur2(b"abc") == 479470107
    assert murmur2(bytearray(b"abc")) == 479470107
    assert murmur2(b"") == murmur2(b"")  # defined for empty keys too


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_murmur2_is_kafka_pythons_value_as_signed_int(data):
    unsigned = kafka_python_murmur2(data)
    ours = murmur2(data)
    assert -(2**31) <= ours < 2**31
    assert ours & 0xFFFFFFFF == unsigned
    assert ours == (unsigned - 2**32 if unsigned >= 2**31 else unsigned)


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=1, max_size=32), st.integers(1, 500))
def test_partition_for_key_matches_kafka_python(key, n):
    class Topology:  # the shape of cluster kafka-python's partitioner reads
        def topics(self):
            return {"t"}

        def partitions_for_topic(self, topic):
            return set(range(n))

        def available_partitions_for_topic(self, topic):
            return set(range(n))

    expected = KafkaPythonPartitioner().partition("t", None, key, None, None, Topology())
    assert partition_for_key(key, n) == expected


def test_to_positive_clears_the_sign_bit():
    assert to_positive(-1) == 0x7FFFFFFF
    assert to_positive(-(2**31)) == 0  # abs() would overflow in Java; masking does not
    assert to_positive(5) == 5
    assert partition_for_key(b"21", 10) == to_positive(-973932308) % 10
    with pytest.raises(ValueError):
        partition_for_key(b"k", 0)


# ---- uniform sticky (KIP-794) -------------------------------------------------------

class ScriptedRandom(random.Random):
    """A Random whose 32-bit draws follow a script (then repeat its last value)."""

    def __init__(self, draws):
        super().__init__(0)
        self.draws = list(draws)

    def getrandbits(self, k):
        return self.draws.pop(0) if len(self.draws) > 1 else self.draws[0]


def test_sticks_until_batch_size_then_switches():
    p = BuiltInPartitioner("orders", 1000, ScriptedRandom([1, 2, 0]))
    first = p.peek_current_partition(3)
    assert first == 1  # draw 1 % 3
    assert p.peek_current_partition(3) == 1  # peeking does not move it
    assert not p.update_partition_info(1, 600, 3)
    assert p.peek_current_partition(3) == 1
    assert p.update_partition_info(1, 400, 3)  # 1000 bytes produced: switch
    assert p.peek_current_partition(3) == 2
    assert p.current.produced_bytes == 0


def test_switch_disabled_until_twice_the_batch_size():
    p = BuiltInPartitioner("orders", 1000, ScriptedRandom([0, 1]))
    assert p.peek_current_partition(4) == 0
    assert not p.update_partition_info(0, 1500, 4, enable_switch=False)
    assert p.peek_current_partition(4) == 0
    assert p.update_partition_info(0, 500, 4, enable_switch=False)  # 2000 = 2x
    assert p.peek_current_partition(4) == 1


def test_records_for_other_partitions_do_not_count():
    p = BuiltInPartitioner("orders", 100, ScriptedRandom([0, 1]))
    info = p.peek_current_partition_info(3)
    assert not p.update_partition_info(2, 500, 3)  # a keyed record on partition 2
    assert not p.update_partition_info(None, 500, 3)
    assert p.current is info and info.produced_bytes == 0
    assert p.update_partition_info(info, 100, 3)
    assert p.is_partition_changed(info)  # someone switched since info was peeked
    assert not p.is_partition_changed(p.current)
    assert not p.update_partition_info(info, 100, 3)  # a stale info changes nothing


def test_available_partitions_are_preferred():
    rng = random.Random(42)
    p = BuiltInPartitioner("orders", 10, rng)
    seen = Counter()
    for _ in range(300):
        part = p.peek_current_partition(6, available_partitions=[1, 4])
        seen[part] += 1
        p.update_partition_info(part, 10, 6, available_partitions=[1, 4])
    assert set(seen) == {1, 4}


def test_same_seed_same_choices():
    def run(seed):
        p = BuiltInPartitioner("t", 5, random.Random(seed))
        out = []
        for _ in range(50):
            part = p.peek_current_partition(12)
            out.append(part)
            p.update_partition_info(part, 5, 12)
        return out
    assert run(7) == run(7)
    assert run(7) != run(8)


def test_load_stats_build_kafkas_cumulative_frequency_table():
    p = BuiltInPartitioner("t", 100, random.Random(1))
    sizes, ids = [0, 3, 1], [0, 1, 2]
    p.update_partition_load_stats(sizes, ids, 3)
    assert p.load_stats == ([4, 5, 8], [0, 1, 2], 3)  # Kafka's own worked example
    assert p.load_stats_range_end() == 8
    assert sizes == [0, 3, 1]  # the caller's list is not modified


def test_weighted_draws_map_to_partitions_as_kafka_does():
    # draws r % 8: 0..3 -> partition index 0, 4 -> 1, 5..7 -> 2
    draws = list(range(8))
    p = BuiltInPartitioner("t", 1, ScriptedRandom(draws + [0]))
    p.update_partition_load_stats([0, 3, 1], [10, 11, 12], 3)
    chosen = [p.next_partition(13) for _ in range(8)]
    assert chosen == [10, 10, 10, 10, 11, 12, 12, 12]


def test_adaptive_choice_favours_short_queues():
    p = BuiltInPartitioner("t", 1, random.Random(3))
    p.update_partition_load_stats([0, 9, 0, 9], [0, 1, 2, 3], 4)  # weights 10, 1, 10, 1
    counts = Counter(p.next_partition(4) for _ in range(2200))
    assert counts[0] > 6 * counts[1] and counts[2] > 6 * counts[3]


def test_when_load_stats_are_not_used():
    p = BuiltInPartitioner("t", 1, random.Random(3))
    p.update_partition_load_stats([2, 2, 2], [0, 1, 2], 3)
    assert p.load_stats is None  # all equal, none excluded: uniform
    p.update_partition_load_stats([2, 2, 2], [0, 1, 2], 2)
    assert p.load_stats == ([1, 2], [0, 1], 2)  # equal, but a partition was excluded
    p.update_partition_load_stats([5], [0], 1)
    assert p.load_stats is None  # a single partition
    p.update_partition_load_stats([1, 2], [0, 1], 0)
    assert p.load_stats is None  # nothing available
    p.update_partition_load_stats(None, None, 0)
    assert p.load_stats is None
    with pytest.raises(ValueError, match="no load stats"):
        p.load_stats_range_end()


def test_bad_arguments():
    with pytest.raises(ValueError, match="stickyBatchSize|sticky_batch_size"):
        BuiltInPartitioner("t", 0, random.Random(1))
    with pytest.raises(TypeError, match="random.Random"):
        BuiltInPartitioner("t", 10, random)  # the module-level random is not allowed
    p = BuiltInPartitioner("t", 10, random.Random(1))
    with pytest.raises(ValueError):
        p.update_partition_load_stats([1, 2], [0], 2)
    with pytest.raises(ValueError):
        p.update_partition_load_stats([1, 2], [0, 1], 3)


# ---- custom partitioners ---------------------------------------------------------------

def test_round_robin_partitioner_cycles_per_topic():
    rr = load_partitioner("org.apache.kafka.clients.producer.RoundRobinPartitioner")
    assert isinstance(rr, RoundRobinPartitioner) and isinstance(rr, Partitioner)
    got = [rr.partition("a", b"same-key", b"same-key", None, None, 3) for _ in range(7)]
    assert got == [0, 1, 2, 0, 1, 2, 0]
    assert rr.partition("b", None, None, None, None, 3) == 0


def test_load_partitioner_specs():
    assert load_partitioner(None) is None
    assert isinstance(load_partitioner("producer_core.partitioner.RoundRobinPartitioner"),
                      RoundRobinPartitioner)
    assert isinstance(load_partitioner(RoundRobinPartitioner), RoundRobinPartitioner)
    inst = RoundRobinPartitioner()
    assert load_partitioner(inst) is inst

    def by_value_length(topic, key, key_bytes, value, value_bytes, n):
        return len(value_bytes) % n

    fp = load_partitioner(by_value_length)
    assert isinstance(fp, FunctionPartitioner)
    assert fp.partition("t", None, None, "abcd", b"abcd", 3) == 1


@pytest.mark.parametrize("spec, message", [
    ("org.apache.kafka.clients.producer.internals.DefaultPartitioner", "removed in Kafka 4.0"),
    ("org.apache.kafka.clients.producer.UniformStickyPartitioner", "removed in Kafka 4.0"),
    ("no.such.module.Partitioner", "cannot be found"),
    ("producer_core.partitioner.NoSuchThing", "cannot be found"),
    (42, "Expected a partitioner"),
    (StickyPartitionInfo, "no partition\\(\\) method"),
])
def test_load_partitioner_errors(spec, message):
    with pytest.raises(ConfigError, match=message):
        load_partitioner(spec)


def test_custom_partition_result_is_checked():
    assert check_custom_partition(2, 3, "orders") == 2
    with pytest.raises(PartitionOutOfRangeError, match=r"7 is not in the range \[0...5\]"):
        check_custom_partition(7, 6, "orders")
    with pytest.raises(PartitionOutOfRangeError):
        check_custom_partition(-1, 6, "orders")
    with pytest.raises(PartitionOutOfRangeError, match="must return an int"):
        check_custom_partition("1", 6, "orders")
