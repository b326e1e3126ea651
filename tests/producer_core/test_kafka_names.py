"""Kafka's names and paths (issue 11, "Kafka's names"): the expiry error is Kafka's
TimeoutException text, a local epoch bump is its own event, split batches start untried,
and an answer that arrives at the delivery timeout takes Sender.completeBatch's path."""

from __future__ import annotations

from producer_core import Simulation
from producer_core.errors import KafkaTimeoutError, RequestTimedOutError
from producer_core.protocol import TopicPartition


def _sim(config: dict, **kw) -> Simulation:
    sim = Simulation(config=config, topics={"t": 1}, replication_factor=1, seed=1, **kw)
    sim.producer.partitions_for("t")
    sim.run_for(100)
    return sim


def test_an_expired_batch_fails_with_kafkas_timeout_exception():
    """Sender.sendProducerData: new TimeoutException("Expiring N record(s) for tp:X ms has
    passed since batch creation") — Kafka has no delivery-timeout class of its own."""
    sim = _sim({"linger.ms": 0, "request.timeout.ms": 1000, "delivery.timeout.ms": 1500})
    sim.cluster.stop_broker(sim.cluster.leader("t", 0))
    futs = [sim.producer.send("t", value=b"x", partition=0) for _ in range(3)]
    sim.run_for(3000)
    err = futs[0].exception()
    assert type(err) is KafkaTimeoutError
    assert str(err) == "Expiring 3 record(s) for t-0:1500 ms has passed since batch creation"
    assert (err.record_count, err.topic_partition, err.elapsed_ms) == (
        3, TopicPartition("t", 0), 1500)
    assert sim.producer.metrics()["record-error-total"] == 3


def test_a_local_epoch_bump_is_its_own_event_without_init_producer_id():
    """TransactionManager.bumpIdempotentEpochAndResetIdIfNeeded bumps the epoch locally:
    no InitProducerId request, so no second "producer.init" and no new producer id."""
    sim = _sim({})
    seen = []
    sim.events.subscribe(seen.append, ["producer.init", "producer.epoch_bumped"])
    sim.producer.send("t", value=b"a", partition=0)
    sim.producer.flush()
    idem = sim.producer.sender.idem
    pid, epoch, next_pid = idem.producer_id, idem.producer_epoch, sim.cluster._next_pid
    idem.request_epoch_bump(TopicPartition("t", 0))
    sim.run_for(1)
    assert [e.kind for e in seen] == ["producer.epoch_bumped"]
    bump = seen[0].data
    assert (bump["producer_id"], bump["epoch"]) == (pid, epoch + 1)
    assert "t-0" in bump["reason"]
    assert sim.cluster._next_pid == next_pid  # the broker handed out no producer id
    texts = [e["text"] for e in sim.snapshot()["timeline"]["events"]]
    assert any("epoch bumped locally" in t for t in texts)


def test_split_batches_start_with_no_attempts():
    """RecordAccumulator.splitAndReenqueue: "We treat the newly split batches as if they
    are not even tried" — their first send is attempt 1, and a split is not a retry."""
    sim = _sim({"linger.ms": 50, "batch.size": 4096})
    leader = sim.cluster.leader("t", 0)
    # First a retriable error (the batch is retried: attempts 1), then, for the retry,
    # MESSAGE_TOO_LARGE (the retried batch is split).
    sim.cluster.fail_next(leader, 1, "NOT_ENOUGH_REPLICAS")
    sim.scheduler.call_at(sim.now_ms + 60,
                          lambda: sim.cluster.fail_next(leader, 1, "MESSAGE_TOO_LARGE"))
    drained, split = [], []
    sim.events.subscribe(drained.append, ["batch.drained"])
    sim.events.subscribe(split.append, ["batch.split"])
    for i in range(20):
        sim.producer.send("t", value=b"%03d" % i * 30, partition=0)
    sim.run_for(1000)  # (flush() may return before the split pieces complete, as Kafka's
    (ev,) = split      # awaitFlushCompletion waits only for the batches it saw at the start)
    pieces = set(ev.data["into"])
    attempts = {e.data["batch_id"]: e.data["attempt"] for e in drained}
    assert attempts[ev.data["batch_id"]] == 2  # the retried big batch
    assert pieces and {attempts[p] for p in pieces} == {1}
    assert sim.producer.metrics()["record-retry-total"] == 20  # the one real retry


def test_a_retriable_answer_at_the_delivery_timeout_fails_the_batch_with_that_error():
    """Sender.completeBatch: canRetry is false once the batch reached delivery.timeout.ms,
    so failBatch with the answer's own error (here the request timeout, processed in the
    same poll as the deadline, before the expiry pass) — and, as the batch had retries
    left, adjustSequenceNumbers: the partition's epoch is bumped at once."""
    sim = _sim({"linger.ms": 0, "request.timeout.ms": 30000, "delivery.timeout.ms": 30000})
    leader = sim.cluster.leader("t", 0)
    sim.cluster.slow_broker(leader, 30000)
    seen = []
    sim.events.subscribe(seen.append, ["batch.failed", "batch.expired",
                                       "producer.epoch_bumped"])
    fut = sim.producer.send("t", value=b"x", partition=0)
    t0 = sim.now_ms
    sim.run_for(31000)
    err = fut.exception()
    assert isinstance(err, RequestTimedOutError)
    assert "Disconnected from node" in str(err)
    kinds = [(e.kind, e.t_ms - t0) for e in seen]
    assert kinds[0] == ("batch.failed", 30000)
    assert ("producer.epoch_bumped", 30000) in kinds
    assert not [k for k, _ in kinds if k == "batch.expired"]
