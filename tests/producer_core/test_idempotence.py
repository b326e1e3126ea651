"""Idempotence per partition, as Kafka 4.x's TransactionManager/TxnPartitionMap keep it.

A sequence gap (a retried batch expired, so the broker may or may not hold it) stops only
its own partition from draining new batches; once that partition's outstanding batches
have resolved the producer bumps its epoch once and re-numbers that partition from 0,
while every other partition keeps flowing and moves to the new epoch only when nothing
of the old one is outstanding there.  Every stored batch is decoded by kafka-python."""

from __future__ import annotations

import itertools

from kafka.record.default_records import DefaultRecordBatch

from producer_core import Simulation, presets
from producer_core.protocol import TopicPartition
from producer_core.scenario import Scenario


def decoded(sim, topic: str, partition: int) -> list[tuple[int, int, int, bytes]]:
    """``(producer_epoch, base_sequence + i, offset, value)`` per stored record, via
    kafka-python (CRC checked)."""
    out = []
    for data in sim.cluster.log(topic, partition):
        b = DefaultRecordBatch(bytes(data))
        assert b.validate_crc()
        for i, r in enumerate(b):
            out.append((b.producer_epoch, b.base_sequence + i, r.offset, r.value))
    return out


def assert_no_duplicates_or_reordering(recs, *, sent_order: list[bytes] | None = None,
                                       unique_values: bool = True):
    values = [v for _e, _s, _o, v in recs]
    if unique_values:
        assert len(values) == len(set(values)), "a record was stored twice"
    ids = [(e, s) for e, s, _o, _v in recs]
    assert len(ids) == len(set(ids)), "a (epoch, sequence) was stored twice"
    # Within one epoch sequences run on without a hole; epochs only go up.
    for (e1, s1, o1, _), (e2, s2, o2, _) in itertools.pairwise(recs):
        assert o2 == o1 + 1
        assert e2 >= e1
        if e2 == e1:
            assert s2 == s1 + 1
        else:
            assert s2 == 0, "a new epoch starts at sequence 0"
    if sent_order is not None:
        pos = {v: i for i, v in enumerate(sent_order)}
        idx = [pos[v] for v in values]
        assert idx == sorted(idx), "records stored out of send order"


def leaders_apart(sim: Simulation, topic: str) -> tuple[int, int]:
    parts = sim.cluster.partitions_for(topic)
    for a, b in itertools.combinations(parts, 2):
        if sim.cluster.leader(topic, a) != sim.cluster.leader(topic, b):
            return a, b
    raise AssertionError("every partition has the same leader")


def test_a_sequence_gap_on_one_partition_does_not_stall_another():
    cfg = {"linger.ms": 5, "request.timeout.ms": 400, "delivery.timeout.ms": 1500,
           "retry.backoff.ms": 50, "retry.backoff.max.ms": 200}
    # One replica each: one broker failing cannot fail the other partition's acks=all.
    sim = Simulation(config=cfg, brokers=3, topics={"orders": 3}, replication_factor=1,
                     seed=5)
    sim.producer.partitions_for("orders")
    sim.run_for(50)
    gap, healthy = leaders_apart(sim, "orders")
    idem = sim.producer.sender.idem
    epoch0 = idem.producer_epoch
    created: dict[int, int] = {}
    healthy_latency: list[int] = []
    bumps: list = []
    gap_retried_failures: list = []

    def watch(ev):
        d = ev.data
        if ev.kind == "batch.created":
            created[d["batch_id"]] = ev.t_ms
        elif ev.kind == "batch.completed" and d["partition"] == healthy:
            healthy_latency.append(ev.t_ms - created[d["batch_id"]])
        elif ev.kind == "producer.epoch_bumped":
            bumps.append(ev)
        elif ev.kind == "batch.expired" and d["partition"] == gap:
            gap_retried_failures.append(ev)

    sim.events.subscribe(watch)
    sent = {gap: [], healthy: []}
    futs: dict[int, list] = {gap: [], healthy: []}
    for i in range(600):  # 10 ms apart: 6 s of traffic to both partitions
        if i == 100:
            # The gap partition's leader refuses its next 25 requests with a retriable
            # error: its batches are retried until they expire, leaving an unresolved
            # sequence (the broker may hold an expired batch or not).
            sim.cluster.fail_next(sim.cluster.leader("orders", gap), 25,
                                  "NOT_ENOUGH_REPLICAS")
        for p in (gap, healthy):
            v = b"%d-%d" % (p, i)
            sent[p].append(v)
            futs[p].append(sim.producer.send("orders", value=v, partition=p))
        sim.run_for(10)
    sim.producer.flush()

    # The gap really happened and was closed by a bump of the epoch ...
    assert gap_retried_failures, "the scenario must expire batches on the gap partition"
    assert idem.producer_epoch > epoch0
    assert len(bumps) == idem.producer_epoch - epoch0
    # ... once per gap, never more often than batches of that partition expired.
    assert 1 <= len(bumps) <= len(gap_retried_failures)
    # The healthy partition kept acknowledging all along: no batch waited more than
    # linger.ms plus a few round trips (a producer-wide pause held some for 70 ms+).
    assert len(healthy_latency) > 100
    assert max(healthy_latency) < 30, max(healthy_latency)
    # The healthy partition never had a gap: all its records made it, in order.
    healthy_recs = decoded(sim, "orders", healthy)
    assert [v for *_x, v in healthy_recs] == sent[healthy]
    assert_no_duplicates_or_reordering(healthy_recs, sent_order=sent[healthy])
    # The gap partition lost only what expired; no duplicates, no reordering, and it
    # writes again after the outage (under the bumped epoch).
    gap_recs = decoded(sim, "orders", gap)
    assert_no_duplicates_or_reordering(gap_recs, sent_order=sent[gap])
    assert gap_recs[-1][3] == sent[gap][-1]
    assert gap_recs[-1][0] > epoch0
    # Every future completed; on the gap partition only records that timed out failed.
    assert all(f.done() for fs in futs.values() for f in fs)
    assert all(f.exception() is None for f in futs[healthy])
    failed = {type(f.exception()).__name__ for f in futs[gap] if f.exception() is not None}
    # (a batch whose last answer arrives past its delivery timeout fails with that error)
    assert failed <= {"KafkaTimeoutError", "NotEnoughReplicasError"}


def test_only_the_partitions_that_asked_are_renumbered():
    """After a bump, a partition with old-epoch batches outstanding keeps them (they are
    retried under the old epoch) and moves to the new epoch at sequence 0 only when it
    drains a new batch with nothing old outstanding."""
    sim = Simulation(config={"linger.ms": 0}, brokers=3, topics={"orders": 2},
                     replication_factor=3, seed=3)
    sim.producer.partitions_for("orders")
    sim.run_for(50)
    for p in (0, 1):
        for i in range(3):
            sim.producer.send("orders", value=b"a%d-%d" % (p, i), partition=p)
    sim.producer.flush()
    idem = sim.producer.sender.idem
    tp0, tp1 = TopicPartition("orders", 0), TopicPartition("orders", 1)
    epoch = idem.producer_epoch
    assert idem.partitions[tp0].next_sequence == 3
    idem.request_epoch_bump(tp0)
    sim.run_for(1)  # the next poll bumps the epoch
    assert idem.producer_epoch == epoch + 1
    assert idem.partitions[tp0].next_sequence == 0
    assert (idem.partitions[tp0].producer_epoch, idem.is_stale(tp0)) == (epoch + 1, False)
    # Partition 1 was not asked: it keeps its sequences until it drains a new batch.
    assert idem.partitions[tp1].next_sequence == 3 and idem.is_stale(tp1)
    for p in (0, 1):
        sim.producer.send("orders", value=b"b%d" % p, partition=p)
    sim.producer.flush()
    for p in (0, 1):
        recs = decoded(sim, "orders", p)
        assert [(e, s) for e, s, _o, _v in recs] == [(epoch, 0), (epoch, 1), (epoch, 2),
                                                     (epoch + 1, 0)]
        assert_no_duplicates_or_reordering(recs)


def test_incident_preset_keeps_healthy_partitions_flowing_and_bumps_only_per_gap():
    sim = Scenario.from_dict(presets.load("incident")).build()
    broken = {1, 4}  # led by broker 2 in the stale metadata
    created: dict[int, int] = {}
    healthy_worst: dict[int, int] = {}  # 10 s window -> worst create-to-ack latency
    healthy_acks: dict[int, int] = {}
    bumps: list[int] = []
    inits: list[int] = []
    broken_retried_expiries: list[int] = []
    retried: set[int] = set()

    def watch(ev):
        d = ev.data
        if ev.kind == "batch.created":
            created[d["batch_id"]] = ev.t_ms
        elif ev.kind == "batch.retry":
            retried.add(d["batch_id"])
        elif ev.kind == "batch.completed" and d["partition"] not in broken:
            w = ev.t_ms // 10_000
            healthy_worst[w] = max(healthy_worst.get(w, 0), ev.t_ms - created[d["batch_id"]])
            healthy_acks[w] = healthy_acks.get(w, 0) + 1
        elif ev.kind == "batch.expired" and d["batch_id"] in retried:
            assert d["partition"] in broken, "a healthy partition lost a batch"
            broken_retried_expiries.append(ev.t_ms)
        elif ev.kind == "producer.init":
            inits.append(ev.t_ms)
        elif ev.kind == "producer.epoch_bumped":
            bumps.append(ev.t_ms)

    sim.events.subscribe(watch)
    sim.run_for(300_000)
    # One InitProducerId round trip (epoch 0); every later epoch is a local bump, its own
    # event (Kafka's bumpIdempotentEpochAndResetIdIfNeeded sends no request).
    assert len(inits) == 1
    epoch_bumps = bumps
    assert sim.producer.sender.idem.producer_epoch == len(epoch_bumps)
    # Bumps happen only while batches of the broken partitions expire in retry, never
    # more often than such expiries, and stop once the outage is over.
    assert epoch_bumps
    assert len(epoch_bumps) <= len(broken_retried_expiries)
    assert min(epoch_bumps) >= min(broken_retried_expiries)
    # The last one closes the gap found when fresh metadata (185 s) reaches the real
    # leader (OUT_OF_ORDER_SEQUENCE_NUMBER right after an unresolved sequence).
    assert max(epoch_bumps) < 190_000
    # Healthy partitions: every batch acknowledged within a second of its creation, from
    # the first expiry to the end (the old global pause held them for 70 s).
    for w in range(12, 30):
        assert healthy_worst.get(w, 0) < 1_000, (w, healthy_worst.get(w))
    # and they acknowledge in every 10 s window in which the application could append.
    for w in range(12, 30):
        assert healthy_acks.get(w, 0) > 1_000, (w, healthy_acks.get(w))
    for p in range(6):
        # The generated order events repeat values: judge by epoch and sequence.
        assert_no_duplicates_or_reordering(decoded(sim, "orders", p), unique_values=False)
