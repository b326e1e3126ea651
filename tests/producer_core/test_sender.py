"""The sender, after Kafka's SenderTest: retries and their backoff, ordering, the
in-flight limit, idempotence sequences, NOT_LEADER handling with leader hints, request
and delivery timeouts, splits, acks.  Every stored batch is decoded by kafka-python."""

from __future__ import annotations

import itertools

import pytest

from producer_core import Simulation
from producer_core.errors import (
    DeliveryTimeoutError,
    NotEnoughReplicasError,
    RecordTooLargeError,
)
from producer_core.protocol import TopicPartition


def sim_with(config: dict, **kw) -> Simulation:
    kw.setdefault("topics", {"orders": 1})
    kw.setdefault("brokers", 3)
    kw.setdefault("replication_factor", 3)
    return Simulation(config=config, seed=kw.pop("seed", 11), **kw)


def events_of(sim: Simulation, *kinds: str) -> list:
    seen: list = []
    sim.events.subscribe(seen.append, kinds)
    return seen


def test_records_are_stored_with_producer_id_and_sequences(stored):
    sim = sim_with({"linger.ms": 0})
    futs = [sim.producer.send("orders", value=b"v%d" % i, partition=0) for i in range(5)]
    sim.producer.flush()
    recs = stored(sim, "orders", 0)
    assert [r.value for r in recs] == [b"v%d" % i for i in range(5)]
    assert [f.result().offset for f in futs] == [r.offset for r in recs]
    assert {r.producer_id for r in recs} == {sim.producer.sender.idem.producer_id}
    # Sequence numbers run on across batches: each batch starts where the last ended.
    batches = {}
    for r in recs:
        batches.setdefault(r.base_sequence, []).append(r)
    seqs = sorted(batches)
    assert seqs[0] == 0
    for a, b in itertools.pairwise(seqs):
        assert b == a + len(batches[a])


def test_retriable_errors_are_retried_until_success_without_duplicates(stored):
    sim = sim_with({"linger.ms": 0})
    retries = events_of(sim, "batch.retry")
    sim.producer.partitions_for("orders")
    leader = sim.cluster.leader("orders", 0)
    sim.cluster.fail_next(leader, 2, "NOT_ENOUGH_REPLICAS")
    fut = sim.producer.send("orders", value=b"only-once", partition=0)
    sim.producer.flush()
    assert fut.result().offset == 0
    assert [e.data["attempt"] for e in retries] == [1, 2]
    assert [r.value for r in stored(sim, "orders", 0)] == [b"only-once"]
    assert sim.producer.metrics()["record-retry-total"] == 2


def test_retry_backoff_grows_exponentially_with_jitter():  # KIP-580
    sim = sim_with({"linger.ms": 0, "retry.backoff.ms": 100, "retry.backoff.max.ms": 1000})
    retries = events_of(sim, "batch.retry")
    sim.producer.partitions_for("orders")
    sim.cluster.fail_next(sim.cluster.leader("orders", 0), 6, "NOT_ENOUGH_REPLICAS")
    sim.producer.send("orders", value=b"x", partition=0)
    sim.producer.flush()
    backoffs = [e.data["backoff_ms"] for e in retries]
    expected = [100, 200, 400, 800, 1000, 1000]
    assert len(backoffs) == 6
    for got, exp in zip(backoffs, expected):
        assert 0.8 * exp - 1 <= got <= 1.2 * exp
    assert len(set(backoffs)) > 1


def test_without_retries_the_broker_error_reaches_the_future():
    sim = sim_with({"linger.ms": 0, "enable.idempotence": False, "retries": 0})
    sim.producer.partitions_for("orders")
    sim.cluster.fail_next(sim.cluster.leader("orders", 0), 1, "NOT_ENOUGH_REPLICAS")
    fut = sim.producer.send("orders", value=b"x", partition=0)
    sim.producer.flush()
    assert isinstance(fut.exception(), NotEnoughReplicasError)
    assert sim.producer.metrics()["record-error-total"] == 1


def test_retries_keep_the_order_with_five_requests_in_flight(stored):
    sim = sim_with({"linger.ms": 0, "batch.size": 100,
                    "max.in.flight.requests.per.connection": 5})
    sim.producer.partitions_for("orders")
    leader = sim.cluster.leader("orders", 0)
    values = [b"m%03d" % i + b"." * 40 for i in range(40)]
    sim.cluster.fail_next(leader, 3, "NOT_LEADER_OR_FOLLOWER")
    futs = [sim.producer.send("orders", value=v, partition=0) for v in values]
    sim.producer.flush()
    assert all(f.exception() is None for f in futs)
    assert [r.value for r in stored(sim, "orders", 0)] == values
    assert sim.producer.client.max_in_flight_seen <= 5


def test_max_in_flight_one_mutes_the_partition():
    sim = sim_with({"linger.ms": 0, "batch.size": 100,
                    "max.in.flight.requests.per.connection": 1})
    muted_seen = []
    drained = events_of(sim, "batch.drained")
    sim.events.subscribe(lambda e: muted_seen.append(
        TopicPartition("orders", 0) in sim.producer.accumulator.muted), ["batch.drained"])
    for i in range(20):
        sim.producer.send("orders", value=b"x" * 60, partition=0)
    sim.producer.flush()
    assert len(drained) >= 10
    assert all(muted_seen)
    assert sim.producer.client.max_in_flight_seen == 1
    assert not sim.producer.accumulator.muted


def test_not_leader_with_a_leader_hint_moves_to_the_new_leader(stored):  # KIP-951
    sim = sim_with({"linger.ms": 0})
    sim.producer.partitions_for("orders")
    tp = TopicPartition("orders", 0)
    old = sim.cluster.leader("orders", 0)
    sim.producer.send("orders", value=b"before", partition=0).result()
    sim.cluster.elect_leader("orders", 0)
    new = sim.cluster.leader("orders", 0)
    assert new != old
    retries = events_of(sim, "batch.retry")
    fut = sim.producer.send("orders", value=b"after", partition=0)
    sim.producer.flush()
    assert fut.result().offset == 1
    assert [e.data["error"] for e in retries] == ["NOT_LEADER_OR_FOLLOWER"]
    assert sim.producer.metadata.leader_for(tp) == new
    assert [r.value for r in stored(sim, "orders", 0)] == [b"before", b"after"]


def test_a_cut_network_times_requests_out_then_retries_after_restore(stored):
    sim = sim_with({"linger.ms": 0, "request.timeout.ms": 1000,
                    "delivery.timeout.ms": 20_000})
    sim.producer.partitions_for("orders")
    failed = events_of(sim, "request.failed")
    leader = sim.cluster.leader("orders", 0)
    sim.cluster.cut_network(leader)
    t0 = sim.now_ms
    fut = sim.producer.send("orders", value=b"x", partition=0)
    sim.run_for(1500)
    assert not fut.done()
    assert failed and failed[0].data["error"] == "REQUEST_TIMED_OUT"
    assert failed[0].t_ms - t0 >= 1000
    sim.cluster.restore_network(leader)
    sim.producer.flush()
    assert fut.result().offset == 0
    assert [r.value for r in stored(sim, "orders", 0)] == [b"x"]


def test_delivery_timeout_expires_records_when_no_leader_comes_back():
    sim = sim_with({"linger.ms": 0, "request.timeout.ms": 1000,
                    "delivery.timeout.ms": 3000}, brokers=1, replication_factor=1)
    sim.producer.partitions_for("orders")
    sim.cluster.stop_broker(1)
    t0 = sim.now_ms
    fut = sim.producer.send("orders", value=b"x", partition=0)
    with pytest.raises(DeliveryTimeoutError, match=r"Expiring 1 record\(s\) for orders-0"):
        fut.result()
    assert 3000 <= sim.now_ms - t0 <= 3000 + 1000
    sim.run_for(2000)
    pool = sim.producer.pool
    assert pool.available_memory() == pool.total_memory


def test_memory_of_a_batch_expired_in_flight_is_freed_only_after_the_answer():
    # KAFKA-19012: the batch is still inside a request the network may yet deliver.
    sim = sim_with({"linger.ms": 0, "request.timeout.ms": 1000,
                    "delivery.timeout.ms": 1200, "retry.backoff.ms": 100})
    sim.producer.partitions_for("orders")
    leader = sim.cluster.leader("orders", 0)
    sim.cluster.cut_network(leader)
    fut = sim.producer.send("orders", value=b"x", partition=0)
    t0 = sim.now_ms
    expired = events_of(sim, "batch.expired")
    sim.run_until(t0 + 1250)  # first attempt timed out at ~1000, retry sent at ~1100
    assert expired and fut.done()
    assert isinstance(fut.exception(), DeliveryTimeoutError)
    pool = sim.producer.pool
    assert pool.available_memory() < pool.total_memory  # still in flight
    sim.run_until(t0 + 2300)  # the retry's request timed out: now it is released
    assert pool.available_memory() == pool.total_memory


def test_message_too_large_splits_a_multi_record_batch(stored):
    sim = sim_with({"linger.ms": 50, "batch.size": 16384})
    split = events_of(sim, "batch.split")
    sim.producer.partitions_for("orders")
    sim.cluster.fail_next(sim.cluster.leader("orders", 0), 1, "MESSAGE_TOO_LARGE")
    values = [b"%04d" % i + b"s" * 300 for i in range(40)]
    futs = [sim.producer.send("orders", value=v, partition=0) for v in values]
    sim.producer.flush()
    assert len(split) == 1
    assert all(f.exception() is None for f in futs)
    assert [r.value for r in stored(sim, "orders", 0)] == values
    assert [f.result().offset for f in futs] == list(range(40))
    assert sim.producer.metrics()["batch-split-total"] == 1


def test_message_too_large_on_a_single_record_fails_it():
    sim = sim_with({"linger.ms": 0})
    sim.producer.partitions_for("orders")
    sim.cluster.fail_next(sim.cluster.leader("orders", 0), 1, "MESSAGE_TOO_LARGE")
    fut = sim.producer.send("orders", value=b"x", partition=0)
    sim.producer.flush()
    assert isinstance(fut.exception(), RecordTooLargeError)


def test_acks_zero_gets_no_offsets_but_the_data_is_stored(stored):
    sim = sim_with({"acks": "0", "linger.ms": 0})
    futs = [sim.producer.send("orders", value=b"a%d" % i, partition=0) for i in range(3)]
    sim.producer.flush()
    assert [f.result().offset for f in futs] == [-1, -1, -1]
    sim.run_for(50)
    assert [r.value for r in stored(sim, "orders", 0)] == [b"a0", b"a1", b"a2"]
    assert sim.producer.sender.idem is None  # acks=0 switches default idempotence off


def test_acks_all_waits_for_enough_in_sync_replicas():
    sim = sim_with({"linger.ms": 0, "delivery.timeout.ms": 3000, "request.timeout.ms": 1000},
                   min_insync_replicas=3, election_delay_ms=100)
    sim.producer.partitions_for("orders")
    follower = next(b for b in sim.cluster.replicas("orders", 0)
                    if b != sim.cluster.leader("orders", 0))
    sim.cluster.stop_broker(follower)
    sim.run_for(2000)  # the ISR shrinks below min.insync.replicas
    fut = sim.producer.send("orders", value=b"x", partition=0)
    sim.producer.flush()
    err = fut.exception()
    assert err is not None
    assert type(err).__name__ in ("NotEnoughReplicasError", "KafkaTimeoutError")


def test_idempotent_retries_after_a_lost_response_do_not_duplicate(stored):
    # The request reaches the broker but the answer is lost (network cut after it was
    # sent): the retry carries the same sequence and the broker recognises it.
    sim = sim_with({"linger.ms": 0, "request.timeout.ms": 500,
                    "delivery.timeout.ms": 30_000})
    sim.producer.partitions_for("orders")
    leader = sim.cluster.leader("orders", 0)
    retries = events_of(sim, "batch.retry")
    fut = sim.producer.send("orders", value=b"once", partition=0)
    sim.scheduler.call_later(1, lambda: sim.cluster.cut_network(leader))
    sim.scheduler.call_later(800, lambda: sim.cluster.restore_network(leader))
    sim.producer.flush()
    assert fut.exception() is None
    assert len(retries) >= 1  # the first answer was lost: it was sent again
    assert [r.value for r in stored(sim, "orders", 0)] == [b"once"]
    assert fut.result().offset == 0


def test_request_counts_never_exceed_the_in_flight_limit_under_load():
    sim = sim_with({"linger.ms": 0, "batch.size": 200,
                    "max.in.flight.requests.per.connection": 2}, topics={"orders": 3})
    for i in range(300):
        sim.producer.send("orders", value=b"x" * 150, key=b"%d" % i)
    sim.producer.flush()
    assert sim.producer.client.max_in_flight_seen == 2
