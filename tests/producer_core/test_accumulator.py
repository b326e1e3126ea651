"""RecordAccumulator, after Kafka's RecordAccumulatorTest: full batches, linger, partial
drain, round-robin drain, flush, expiry, muting, retry backoff, memory pressure, split.

The accumulator is driven directly with explicit times; the scheduler is not stepped, so
the sender never runs.
"""

from __future__ import annotations

from kafka.record.default_records import DefaultRecordBatch

from producer_core import Simulation
from producer_core.protocol import TopicPartition
from producer_core.records import decode_batch


def env(config: dict | None = None, *, brokers: int = 3, partitions: int = 3):
    sim = Simulation(config=config or {}, brokers=brokers, topics={"t": partitions},
                     replication_factor=1, seed=3)
    sim.producer.partitions_for("t")
    sim.run_for(20)
    p = sim.producer
    return sim, p.accumulator, p.metadata, p.pool


def append(acc, md, pool, partition: int, value: bytes, now: int, key=None):
    fut = acc.append("t", partition, now, key, value, (), now, md)
    if fut is None:
        size = acc.needs_buffer
        assert pool.try_allocate(size)
        fut = acc.append("t", partition, now, key, value, (), now, md, size)
        if not acc.buffer_used:
            pool.deallocate(size)
    return fut


def leader(md, p: int) -> int:
    return md.leader_for(TopicPartition("t", p))


def test_full_batch_makes_the_partition_ready_and_drains_as_one_batch():
    sim, acc, md, pool = env({"batch.size": 1024, "linger.ms": 10_000})
    now = sim.now_ms
    value = b"v" * 90
    appended = 0
    while not acc.batch_is_full:
        append(acc, md, pool, 0, value, now)
        appended += 1
    node = leader(md, 0)
    check = acc.ready(md, now)
    assert check.ready_nodes == {node}
    drained = acc.drain(md, [node], 1_048_576, now,
                        partitions_for_node=sim.producer.sender.partitions_for_node)
    (batch,) = drained[node]
    decoded = DefaultRecordBatch(batch.encode())
    assert decoded.validate_crc()
    records = list(decoded)
    # The batch closed when the next record did not fit, or reached batch.size: either
    # way it holds every record appended to it and stays within batch.size.
    assert len(records) == batch.records_count
    assert len(batch.encode()) <= 1024
    assert batch.close_reason in ("full", "backlog")


def test_a_record_larger_than_batch_size_gets_its_own_unpooled_batch():
    sim, acc, md, pool = env({"batch.size": 1024})
    now = sim.now_ms
    fut = acc.append("t", 1, now, None, b"x" * 5000, (), now, md)
    assert fut is None and acc.needs_buffer > 5000
    size = acc.needs_buffer
    assert pool.try_allocate(size)
    fut = acc.append("t", 1, now, None, b"x" * 5000, (), now, md, size)
    (batch,) = acc.queued_batches(TopicPartition("t", 1))
    assert batch.capacity == size and not batch.pooled
    assert pool.non_pooled_in_use == size
    # Sized by the upper bound: only a few spare bytes, so an ordinary record needs a
    # new batch (Kafka does not mark it full: it still lingers).
    assert acc.append("t", 1, now, None, b"y" * 100, (), now, md) is None
    assert batch.close_reason == "full"


def test_linger_delays_readiness_and_says_how_long():
    sim, acc, md, pool = env({"linger.ms": 10})
    now = sim.now_ms
    append(acc, md, pool, 0, b"v", now)
    check = acc.ready(md, now)
    assert check.ready_nodes == set()
    assert check.next_ready_check_delay_ms == 10
    assert acc.ready(md, now + 9).ready_nodes == set()
    later = acc.ready(md, now + 10)
    assert later.ready_nodes == {leader(md, 0)}
    (batch,) = acc.queued_batches(TopicPartition("t", 0))
    assert batch.close_reason == "linger"


def test_more_than_one_batch_queued_makes_the_head_sendable():
    sim, acc, md, pool = env({"batch.size": 256, "linger.ms": 10_000})
    now = sim.now_ms
    for _ in range(8):
        append(acc, md, pool, 0, b"v" * 60, now)
    assert len(acc.queued_batches(TopicPartition("t", 0))) > 1
    assert acc.ready(md, now).ready_nodes == {leader(md, 0)}


def test_partial_drain_respects_max_request_size_and_round_robins():
    # One broker leads all 4 partitions; each request may carry about one batch.
    sim, acc, md, pool = env({"batch.size": 1024, "linger.ms": 0}, brokers=1, partitions=4)
    now = sim.now_ms
    for p in range(4):
        for _ in range(8):
            append(acc, md, pool, p, b"v" * 100, now)
    parts = sim.producer.sender.partitions_for_node
    seen = []
    for _ in range(4):
        out = acc.drain(md, [1], 1100, now, partitions_for_node=parts)
        (batch,) = out[1]  # the size limit lets exactly one batch through
        seen.append(batch.partition)
    assert sorted(seen) == [0, 1, 2, 3]  # each partition got its turn


def test_an_oversized_batch_still_goes_alone():
    sim, acc, md, pool = env({"batch.size": 1024}, brokers=1, partitions=2)
    now = sim.now_ms
    append(acc, md, pool, 0, b"x" * 3000, now)
    append(acc, md, pool, 1, b"y" * 10, now)
    out = acc.drain(md, [1], 1000, now,
                    partitions_for_node=sim.producer.sender.partitions_for_node)
    assert len(out[1]) == 1


def test_drain_takes_one_batch_per_partition_per_request():
    sim, acc, md, pool = env({"batch.size": 256}, brokers=1, partitions=1)
    now = sim.now_ms
    for _ in range(10):
        append(acc, md, pool, 0, b"v" * 60, now)
    out = acc.drain(md, [1], 1_048_576, now,
                    partitions_for_node=sim.producer.sender.partitions_for_node)
    assert len(out[1]) == 1


def test_flush_makes_every_batch_ready():
    sim, acc, md, pool = env({"linger.ms": 60_000})
    now = sim.now_ms
    append(acc, md, pool, 0, b"v", now)
    assert acc.ready(md, now).ready_nodes == set()
    acc.begin_flush()
    assert acc.ready(md, now).ready_nodes == {leader(md, 0)}
    (batch,) = acc.queued_batches(TopicPartition("t", 0))
    assert batch.close_reason == "flush"
    acc.end_flush()


def test_close_makes_every_batch_ready():
    sim, acc, md, pool = env({"linger.ms": 60_000})
    now = sim.now_ms
    append(acc, md, pool, 2, b"v", now)
    acc.close()
    assert acc.ready(md, now).ready_nodes == {leader(md, 2)}


def test_threads_waiting_for_memory_make_batches_ready():
    sim, acc, md, pool = env({"linger.ms": 60_000, "buffer.memory": 32768,
                              "batch.size": 16384})
    now = sim.now_ms
    append(acc, md, pool, 0, b"v", now)
    append(acc, md, pool, 1, b"v", now)
    assert acc.ready(md, now).ready_nodes == set()
    pool.allocate_or_wait(16384, 1000, lambda ok, err: None)
    assert pool.queued() == 1
    check = acc.ready(md, now)
    assert check.ready_nodes == {leader(md, 0), leader(md, 1)}
    (batch,) = acc.queued_batches(TopicPartition("t", 0))
    assert batch.close_reason == "memory-pressure"


def test_expired_batches_leave_the_queue_after_delivery_timeout():
    sim, acc, md, pool = env({"delivery.timeout.ms": 40_000, "linger.ms": 5,
                              "request.timeout.ms": 30_000})
    t0 = sim.now_ms
    append(acc, md, pool, 0, b"v", t0)
    append(acc, md, pool, 1, b"v", t0 + 100)
    assert acc.expired_batches(t0 + 39_999) == []
    assert acc.next_batch_expiry_ms == t0 + 40_000
    (first,) = acc.expired_batches(t0 + 40_000)
    assert first.partition == 0
    assert [b.partition for b in acc.expired_batches(t0 + 40_100)] == [1]


def test_muted_partitions_are_neither_ready_nor_drained():
    sim, acc, md, pool = env({"linger.ms": 0}, brokers=1, partitions=2)
    now = sim.now_ms
    append(acc, md, pool, 0, b"v", now)
    append(acc, md, pool, 1, b"v", now)
    acc.muted.add(TopicPartition("t", 0))
    out = acc.drain(md, [1], 1_048_576, now,
                    partitions_for_node=sim.producer.sender.partitions_for_node)
    assert [b.partition for b in out[1]] == [1]
    assert acc.queued_batches(TopicPartition("t", 0))
    acc.muted.clear()
    assert acc.ready(md, now).ready_nodes == {1}


def test_a_retried_batch_waits_for_its_backoff():
    sim, acc, md, pool = env({"linger.ms": 0}, brokers=1, partitions=1)
    now = sim.now_ms
    append(acc, md, pool, 0, b"v", now)
    parts = sim.producer.sender.partitions_for_node
    (batch,) = acc.drain(md, [1], 1_048_576, now, partitions_for_node=parts)[1]
    epoch = md.leader_epochs[TopicPartition("t", 0)]
    acc.reenqueue(batch, now, 100, epoch)
    assert batch.attempts == 1 and batch.retry
    check = acc.ready(md, now + 50)
    assert check.ready_nodes == set() and check.next_ready_check_delay_ms == 50
    assert acc.drain(md, [1], 1_048_576, now + 50, partitions_for_node=parts) == {}
    assert acc.ready(md, now + 100).ready_nodes == {1}


def test_a_new_leader_ends_the_backoff_early():  # KIP-951
    sim, acc, md, pool = env({"linger.ms": 0}, brokers=2, partitions=1)
    now = sim.now_ms
    tp = TopicPartition("t", 0)
    append(acc, md, pool, 0, b"v", now)
    node = leader(md, 0)
    parts = sim.producer.sender.partitions_for_node
    (batch,) = acc.drain(md, [node], 1_048_576, now, partitions_for_node=parts)[node]
    acc.reenqueue(batch, now, 1000, md.leader_epochs[tp])
    other = 1 if node == 2 else 2
    assert md.update_leader_hint(tp, other, md.leader_epochs[tp] + 1, now)
    assert acc.ready(md, now + 1).ready_nodes == {other}


def test_reenqueue_keeps_sequence_order():
    sim, acc, md, pool = env({"linger.ms": 0}, brokers=1, partitions=1)
    now = sim.now_ms
    tp = TopicPartition("t", 0)
    parts = sim.producer.sender.partitions_for_node
    drained = []
    for i in range(3):
        append(acc, md, pool, 0, b"v%d" % i, now)
        (b,) = acc.drain(md, [1], 1_048_576, now, partitions_for_node=parts)[1]
        b.set_producer_state(9, 0, i)
        drained.append(b)
    for b in (drained[2], drained[0], drained[1]):
        acc.reenqueue(b, now, 0, 0)
    assert [b.base_sequence for b in acc.queued_batches(tp)] == [0, 1, 2]


def test_split_repacks_records_into_batch_size_pieces_and_moves_the_futures():
    sim, acc, md, pool = env({"batch.size": 16384, "linger.ms": 0})
    now = sim.now_ms
    futs = [append(acc, md, pool, 0, b"r%03d" % i + b"x" * 200, now) for i in range(60)]
    parts = sim.producer.sender.partitions_for_node
    node = leader(md, 0)
    (big,) = acc.drain(md, [node], 1_048_576, now, partitions_for_node=parts)[node]
    acc.batch_size = 4096  # as if the broker accepts only smaller batches
    pieces = acc.split_and_reenqueue(big, now, decode_batch)
    assert len(pieces) > 1
    assert sum(p.records_count for p in pieces) == 60
    assert all(len(p.encode()) <= 4096 for p in pieces)
    values = [r.value for p in pieces for r in DefaultRecordBatch(p.encode())]
    assert values == [b"r%03d" % i + b"x" * 200 for i in range(60)]
    assert all(p.created_ms == big.created_ms and p.alloc_size == 0 for p in pieces)
    assert acc.estimator.estimation("t", "none") >= 1.0
    # The original futures now follow the new batches.
    for i, p in enumerate(pieces):
        p.done(1000 * (i + 1), -1, None)
    assert futs[0].result().offset == 1000
    assert futs[-1].result().offset == 1000 * len(pieces) + pieces[-1].records_count - 1


def test_sticky_partitioner_fills_about_a_batch_then_switches():
    sim, acc, md, pool = env({"batch.size": 1024, "linger.ms": 60_000}, partitions=6)
    now = sim.now_ms
    parts = []
    for _ in range(60):
        append(acc, md, pool, -1, b"v" * 100, now)
        parts.append(acc.last_partition)
    runs = [parts[0]]
    for p in parts[1:]:
        if p != runs[-1]:
            runs.append(p)
    assert len(runs) > 2  # it switched several times
    # Each stay lasted about batch.size bytes of records (≈ 9 records of ~112 bytes).
    first_switch = parts.index(runs[1])
    assert 5 <= first_switch <= 20


def test_each_batch_is_closed_once_with_one_reason():
    sim = Simulation(config={"batch.size": 1000, "linger.ms": 20}, topics={"t": 2}, seed=1)
    seen = []
    sim.events.subscribe(seen.append, ["batch.closed", "batch.created"])
    for i in range(200):
        sim.scheduler.call_at(i // 4, lambda i=i: sim.producer.send("t", value=b"x" * 100,
                                                                    partition=i % 2))
    sim.run_for(200)
    sim.producer.flush()
    created = [e.data["batch_id"] for e in seen if e.kind == "batch.created"]
    closed = [e.data["batch_id"] for e in seen if e.kind == "batch.closed"]
    assert sorted(closed) == sorted(created)  # every batch closed exactly once
    reasons = {e.data["reason"] for e in seen if e.kind == "batch.closed"}
    assert "full" in reasons and reasons <= {"full", "linger", "flush", "backlog", "piggyback"}
