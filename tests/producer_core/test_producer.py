"""The Producer (KafkaProducer): argument checks, partitioning, blocking on the pool,
flush/close, callbacks and interceptors, send_async for application threads."""

from __future__ import annotations

import pytest
from kafka.partitioner.default import murmur2 as kp_murmur2

from producer_core import Simulation
from producer_core.errors import (
    BufferExhaustedError,
    KafkaError,
    ProducerClosedError,
    RecordTooLargeError,
    SerializationError,
)


@pytest.fixture
def sim():
    s = Simulation(config={"linger.ms": 5}, topics={"orders": 6}, seed=5)
    s.producer.partitions_for("orders")
    return s


def test_wrong_argument_types_raise_at_the_call(sim):
    p = sim.producer
    with pytest.raises(TypeError, match="topic must be a str"):
        p.send(42, value=b"x")
    with pytest.raises(ValueError, match="topic must not be empty"):
        p.send("", value=b"x")
    with pytest.raises(TypeError, match="partition must be an int"):
        p.send("orders", value=b"x", partition="1")
    with pytest.raises(ValueError, match="Invalid timestamp"):
        p.send("orders", value=b"x", timestamp_ms=-5)
    with pytest.raises(TypeError, match="header keys must be str"):
        p.send("orders", value=b"x", headers=[(b"k", b"v")])
    with pytest.raises(TypeError, match="callback must be callable"):
        p.send("orders", value=b"x", callback=3)
    assert p.accumulator.incomplete == {}  # nothing was appended


def test_serialization_errors_raise_at_the_call(sim):
    with pytest.raises(SerializationError):
        sim.producer.send("orders", value="not bytes")


def test_string_and_json_serializers_are_used():
    sim = Simulation(config={"key.serializer": "string", "value.serializer": "json"},
                     topics={"orders": 1}, seed=1)
    fut = sim.producer.send("orders", value={"id": 1}, key="k1")
    sim.producer.flush()
    assert fut.result().serialized_key_size == 2
    from kafka.record.default_records import DefaultRecordBatch

    (batch,) = sim.cluster.log("orders", 0)
    (rec,) = list(DefaultRecordBatch(batch))
    assert rec.key == b"k1" and rec.value.startswith(b"{")


def test_send_after_close_raises(sim):
    sim.producer.close()
    with pytest.raises(ProducerClosedError, match="after producer has been closed"):
        sim.producer.send("orders", value=b"x")


def test_records_larger_than_max_request_size_fail_through_the_future():
    sim = Simulation(config={"max.request.size": 1000}, topics={"orders": 1}, seed=1)
    fut = sim.producer.send("orders", value=b"x" * 2000)
    assert fut.done()
    with pytest.raises(RecordTooLargeError, match="max.request.size"):
        fut.result()


def test_records_larger_than_buffer_memory_fail_through_the_future():
    sim = Simulation(config={"buffer.memory": 4096, "batch.size": 1024,
                             "max.request.size": 8000}, topics={"orders": 1}, seed=1)
    fut = sim.producer.send("orders", value=b"x" * 5000)
    with pytest.raises(RecordTooLargeError, match="buffer.memory"):
        fut.result()


def test_keyed_records_go_where_javas_murmur2_says(sim):
    futs = {k: sim.producer.send("orders", value=b"v", key=k) for k in
            (b"21", b"foobar", b"abc", b"customer-17", b"")}
    sim.producer.flush()
    for key, fut in futs.items():
        expected = (kp_murmur2(key) & 0x7FFFFFFF) % 6
        assert fut.result().partition == expected


def test_partitioner_ignore_keys_uses_the_sticky_partitioner():
    sim = Simulation(config={"partitioner.ignore.keys": True, "linger.ms": 1000},
                     topics={"orders": 6}, seed=2)
    futs = [sim.producer.send("orders", value=b"v", key=b"%d" % i) for i in range(20)]
    sim.producer.flush()
    assert len({f.result().partition for f in futs}) == 1  # stuck to one partition


def test_a_custom_partitioner_is_called_with_kafkas_arguments():
    seen = []

    def pick(topic, key, key_bytes, value, value_bytes, num_partitions):
        seen.append((topic, key_bytes, num_partitions))
        return num_partitions - 1

    sim = Simulation(config={"partitioner.class": pick}, topics={"orders": 4}, seed=2)
    fut = sim.producer.send("orders", value=b"v", key=b"k")
    sim.producer.flush()
    assert fut.result().partition == 3
    assert seen == [("orders", b"k", 4)]


def test_send_blocks_on_a_full_pool_then_fails_with_buffer_exhausted():
    sim = Simulation(config={"buffer.memory": 32768, "batch.size": 16384,
                             "max.block.ms": 300, "linger.ms": 0},
                     topics={"orders": 1}, brokers=1, replication_factor=1, seed=3)
    sim.producer.partitions_for("orders")
    sim.cluster.cut_network(1)  # nothing completes, nothing frees memory
    sim.producer.send("orders", value=b"a" * 15000)
    sim.producer.send("orders", value=b"b" * 15000)
    t0 = sim.now_ms
    fut = sim.producer.send("orders", value=b"c" * 15000)
    assert sim.now_ms - t0 == 300  # blocked for max.block.ms of simulated time
    err = fut.exception()
    assert isinstance(err, BufferExhaustedError)
    assert "Failed to allocate 16384 bytes" in str(err) and "32768" in str(err)
    m = sim.producer.metrics()
    assert m["buffer-exhausted-total"] == 1
    assert m["bufferpool-wait-time-ns-total"] == 300 * 1_000_000


def test_blocked_application_threads_resume_in_order_when_memory_frees():
    sim = Simulation(config={"buffer.memory": 32768, "batch.size": 16384,
                             "max.block.ms": 60_000, "linger.ms": 0},
                     topics={"orders": 1}, brokers=1, replication_factor=1, seed=3)
    sim.producer.partitions_for("orders")
    leader = 1
    sim.cluster.cut_network(leader)
    returned = []
    for name in ("t1", "t2", "t3", "t4"):
        sim.producer.send_async("orders", b"x" * 15000, thread=name,
                                on_return=lambda f, blocked, n=name: returned.append(
                                    (n, blocked)))
    assert [n for n, _ in returned] == ["t1", "t2"]  # two buffers, two sends returned
    assert sim.producer.metrics()["waiting-threads"] == 2
    sim.run_for(100)
    sim.cluster.restore_network(leader)
    sim.run_for(60_000)
    assert [n for n, _ in returned] == ["t1", "t2", "t3", "t4"]
    assert all(b > 0 for _, b in returned[2:])


def test_flush_sends_lingering_batches_at_once(sim):
    sim2 = Simulation(config={"linger.ms": 60_000}, topics={"orders": 2}, seed=1)
    futs = [sim2.producer.send("orders", value=b"v%d" % i) for i in range(10)]
    t0 = sim2.now_ms
    sim2.producer.flush()
    assert all(f.done() and f.exception() is None for f in futs)
    assert sim2.now_ms - t0 < 100  # nowhere near linger.ms
    assert sim2.producer.metrics()["flush-time-ns-total"] > 0


def test_callbacks_and_interceptors_run_exactly_once():
    acks = []

    class Counting:
        def on_send(self, record):
            return record.replace(headers=[*record.headers, ("seen", b"1")])

        def on_acknowledgement(self, metadata, exception):
            acks.append(("interceptor", metadata.offset))

        def close(self):
            pass

    sim = Simulation(config={"interceptor.classes": [Counting()]}, topics={"orders": 1},
                     seed=1)
    calls = []
    futs = [sim.producer.send("orders", value=b"v%d" % i,
                              callback=lambda md, exc: calls.append(md.offset))
            for i in range(5)]
    sim.producer.flush()
    sim.run_for(1000)
    assert sorted(calls) == [0, 1, 2, 3, 4]
    assert sorted(o for _, o in acks) == [0, 1, 2, 3, 4]
    late = []
    futs[0].add_callback(lambda md, exc: late.append(md.offset))
    assert late == [0]
    from kafka.record.default_records import DefaultRecordBatch

    recs = [r for b in sim.cluster.log("orders", 0) for r in DefaultRecordBatch(b)]
    assert all(("seen", b"1") in r.headers for r in recs)


def test_errors_reported_through_the_future_also_reach_the_callback():
    sim = Simulation(config={"max.request.size": 500}, topics={"orders": 1}, seed=1)
    got = []
    sim.producer.send("orders", value=b"x" * 1000,
                      callback=lambda md, exc: got.append((md.offset, type(exc).__name__)))
    assert got == [(-1, "RecordTooLargeError")]


def test_result_drives_time_like_javas_get(sim):
    fut = sim.producer.send("orders", value=b"x")
    assert not fut.done()
    md = fut.result()
    assert md.offset >= 0 and fut.done()


def test_result_with_a_timeout_raises_kafka_timeout():
    sim = Simulation(config={"linger.ms": 0}, topics={"orders": 1}, brokers=1,
                     replication_factor=1, seed=1)
    sim.producer.partitions_for("orders")
    sim.cluster.cut_network(1)
    fut = sim.producer.send("orders", value=b"x")
    with pytest.raises(KafkaError, match="did not complete within 50 ms"):
        fut.result(timeout_ms=50)


def test_flush_from_a_callback_is_refused_and_send_from_one_does_not_block(sim):
    outcomes = []

    def cb(md, exc):
        try:
            sim.producer.flush()
        except KafkaError as e:
            outcomes.append(str(e))
        outcomes.append(sim.producer.send("orders", value=b"from-callback"))

    sim.producer.send("orders", value=b"x", callback=cb)
    sim.producer.flush()
    assert "flush() cannot be called from a producer callback" in outcomes[0]
    follow_up = outcomes[1]
    sim.producer.flush()
    assert follow_up.result().offset >= 0


def test_close_waits_for_in_flight_work_and_close_zero_aborts():
    sim = Simulation(config={"linger.ms": 0}, topics={"orders": 1}, seed=1)
    fut = sim.producer.send("orders", value=b"x")
    sim.producer.close()
    assert fut.result().offset == 0
    assert not sim.producer.sender.running

    sim2 = Simulation(config={"linger.ms": 10_000}, topics={"orders": 1}, seed=1)
    sim2.producer.partitions_for("orders")
    fut2 = sim2.producer.send("orders", value=b"x")
    sim2.producer.close(0)
    with pytest.raises(KafkaError, match="Producer is closed forcefully"):
        fut2.result()
    assert sim2.producer.pool.available_memory() == sim2.producer.pool.total_memory


def test_close_with_a_timeout_aborts_what_is_left():
    sim = Simulation(config={"linger.ms": 0, "delivery.timeout.ms": 120_000},
                     topics={"orders": 1}, brokers=1, replication_factor=1, seed=1)
    sim.producer.partitions_for("orders")
    sim.cluster.cut_network(1)
    fut = sim.producer.send("orders", value=b"x")
    t0 = sim.now_ms
    sim.producer.close(timeout_ms=500)
    assert sim.now_ms - t0 == 500
    assert "closed forcefully" in str(fut.exception())
    with pytest.raises(ValueError, match="cannot be negative"):
        sim.producer.close(-1)


def test_metrics_carry_kafkas_names(sim):
    for i in range(50):
        sim.producer.send("orders", value=b"v" * 100, key=b"%d" % i)
    sim.producer.flush()
    m = sim.producer.metrics()
    for name in ("record-send-rate", "record-send-total", "records-per-request-avg",
                 "batch-size-avg", "batch-size-max", "compression-rate-avg",
                 "record-queue-time-avg", "record-queue-time-max", "request-latency-avg",
                 "request-latency-max", "record-retry-rate", "record-error-rate",
                 "record-size-avg", "record-size-max", "requests-in-flight", "metadata-age",
                 "batch-split-rate", "waiting-threads", "buffer-total-bytes",
                 "buffer-available-bytes", "bufferpool-wait-ratio",
                 "bufferpool-wait-time-ns-total", "buffer-exhausted-rate",
                 "buffer-exhausted-total", "flush-time-ns-total", "send-latency-p50",
                 "send-latency-p95", "send-latency-p99", "topic.orders.record-send-total"):
        assert name in m, name
    assert m["record-send-total"] == 50
    assert m["topic.orders.record-send-total"] == 50
    assert m["buffer-available-bytes"] == m["buffer-total-bytes"] == 33554432


def test_a_failing_callback_does_not_break_the_other_records(sim):
    failures = []
    sim.events.subscribe(failures.append, ["callback.failed"])
    good = []

    def bad(md, exc):
        raise RuntimeError("application bug")

    f1 = sim.producer.send("orders", value=b"a", partition=0, callback=bad)
    f2 = sim.producer.send("orders", value=b"b", partition=0,
                           callback=lambda md, exc: good.append(md.offset))
    sim.producer.flush()
    assert f1.result().offset + 1 == f2.result().offset == good[0]
    assert [e.data["source"] for e in failures] == ["callback"]
    assert "application bug" in failures[0].data["error"]
    assert sim.producer.callback_errors_total == 1


def test_interceptors_hear_about_errors_raised_at_the_call():
    heard = []

    class Listener:
        def on_send(self, record):
            return record

        def on_acknowledgement(self, metadata, exception):
            heard.append((metadata.topic, type(exception).__name__))

        def close(self):
            pass

    sim = Simulation(config={"interceptor.classes": [Listener()]}, topics={"orders": 1},
                     seed=1)
    with pytest.raises(SerializationError):
        sim.producer.send("orders", value=12345)
    assert heard == [("orders", "SerializationError")]


def test_closing_fails_threads_waiting_for_memory():
    sim = Simulation(config={"buffer.memory": 32768, "batch.size": 16384, "linger.ms": 0},
                     topics={"orders": 1}, brokers=1, replication_factor=1, seed=3)
    sim.producer.partitions_for("orders")
    sim.cluster.cut_network(1)
    returned = []
    for i in range(4):
        sim.producer.send_async("orders", b"x" * 15000, thread=f"t{i}",
                                on_return=lambda f, b: returned.append(f))
    assert len(returned) == 2 and sim.producer.pool.queued() == 2
    sim.producer.close(0)
    assert len(returned) == 4
    assert all("Producer closed while allocating memory" in str(f.exception())
               for f in returned[2:])
    pool = sim.producer.pool
    assert pool.queued() == 0


def test_with_strict_ordering_a_retried_batch_goes_before_the_next_one(stored):
    # max.in.flight=1 mutes the partition while its batch is in flight, and a retried
    # batch returns to the head of the queue: the next batch cannot overtake it.
    sim = Simulation(config={"linger.ms": 0, "max.in.flight.requests.per.connection": 1,
                             "request.timeout.ms": 1000, "delivery.timeout.ms": 10_000,
                             "enable.idempotence": False},
                     topics={"orders": 1}, brokers=1, replication_factor=1, seed=3)
    sim.producer.partitions_for("orders")
    sim.cluster.slow_broker(1, 3000)
    drained = []
    sim.events.subscribe(lambda e: drained.append((e.t_ms, e.data["batch_id"])),
                         ["batch.drained"])
    completed = {}
    sim.events.subscribe(lambda e: completed.setdefault(e.data["batch_id"], e.t_ms),
                         ["batch.completed"])
    first = sim.producer.send("orders", value=b"a")
    sim.run_for(1)
    second = sim.producer.send("orders", value=b"b")
    sim.run_for(900)
    assert [b for _, b in drained] == [1]  # the second batch waits behind the muted one
    sim.cluster.slow_broker(1, 0)
    sim.producer.flush()
    assert first.exception() is None and second.exception() is None
    assert [b for _, b in drained] == [1, 1, 2]
    assert drained[2][0] >= completed[1]
    assert [r.value for r in stored(sim, "orders", 0)][-2:] == [b"a", b"b"]


def test_a_callback_may_send_while_batches_expire():
    sim = Simulation(config={"linger.ms": 0, "request.timeout.ms": 500,
                             "delivery.timeout.ms": 600},
                     topics={"orders": 1}, brokers=1, replication_factor=1, seed=3)
    sim.producer.partitions_for("orders")
    sim.cluster.stop_broker(1)
    follow = []

    def on_done(md, exc):
        if exc is not None and not follow:
            follow.append(sim.producer.send("orders", value=b"again"))

    sim.producer.send("orders", value=b"first", callback=on_done)
    sim.run_for(2000)
    assert follow and follow[0].done()  # the follow-up also expired, cleanly
    assert sim.producer.pool.available_memory() == sim.producer.pool.total_memory
