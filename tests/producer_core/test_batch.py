"""ProducerBatch and the futures: appends, fullness, guarded completion, callbacks."""

from __future__ import annotations

import pytest
from kafka.record.default_records import DefaultRecordBatch

from producer_core.batch import BatchState, FinalState, FutureRecordMetadata, ProducerBatch
from producer_core.errors import DeliveryTimeoutError, KafkaError
from producer_core.protocol import TopicPartition
from producer_core.records import RecordBatchBuilder
from producer_core.types import RecordMetadata

TP = TopicPartition("orders", 2)


def new_batch(capacity: int = 1024, now: int = 0, codec: str = "none") -> ProducerBatch:
    return ProducerBatch(1, TP, RecordBatchBuilder(codec, None), capacity, True, now,
                         ratio=1.0, compressed=codec != "none")


def test_appends_until_the_estimate_says_no_room():
    b = new_batch(capacity=300)
    futs = []
    while True:
        f = b.try_append(1000, b"k", b"v" * 40, (), 5)
        if f is None:
            break
        futs.append(f)
    assert len(futs) == b.records_count > 1
    assert b.estimate <= 300
    data = b.encode()
    assert len(data) <= 300
    decoded = DefaultRecordBatch(data)
    assert decoded.validate_crc()
    assert [r.value for r in decoded] == [b"v" * 40] * len(futs)


def test_the_first_record_always_fits_even_when_larger_than_the_capacity():
    b = new_batch(capacity=100)
    assert b.try_append(0, None, b"x" * 500, (), 0) is not None
    assert b.is_full()
    assert b.try_append(0, None, b"y", (), 0) is None


def test_closed_batch_takes_nothing_and_keeps_its_first_reason():
    b = new_batch()
    b.try_append(0, None, b"a", (), 0)
    b.close_for_appends("full", 3)
    b.close_for_appends("linger", 4)
    assert b.close_reason == "full" and b.closed_ms == 3
    assert b.state is BatchState.READY
    assert b.try_append(0, None, b"b", (), 5) is None


def test_futures_report_offsets_from_the_shared_result():
    b = new_batch()
    futs = [b.try_append(10 + i, b"k%d" % i, b"v", (), 1) for i in range(3)]
    assert not any(f.done() for f in futs)
    assert b.done(500, -1, None)
    assert [f.result().offset for f in futs] == [500, 501, 502]
    md = futs[1].result()
    assert md == RecordMetadata("orders", 2, 501, 11, 2, 1)
    assert futs[0].exception() is None


def test_acks_zero_offsets_are_minus_one():
    b = new_batch()
    f = b.try_append(7, None, b"v", (), 1)
    b.done(-1, -1, None)
    assert f.result().offset == -1


def test_log_append_time_wins_over_create_time():
    b = new_batch()
    f = b.try_append(7, None, b"v", (), 1)
    b.done(0, 99, None)
    assert f.result().timestamp_ms == 99


def test_callbacks_run_once_in_record_order_and_late_callbacks_run_at_once():
    b = new_batch()
    calls = []
    futs = [b.try_append(0, None, b"%d" % i, (), 0) for i in range(3)]
    for i, f in enumerate(reversed(futs)):
        f.add_callback(lambda md, exc, i=i: calls.append(md.offset))
    b.done(10, -1, None)
    assert sorted(calls) == [10, 11, 12] and len(calls) == 3
    late = []
    futs[0].add_callback(lambda md, exc: late.append((md.offset, exc)))
    assert late == [(10, None)]


def test_a_succeeded_batch_must_not_succeed_again():
    b = new_batch()
    b.try_append(0, None, b"v", (), 0)
    assert b.done(0, -1, None)
    with pytest.raises(RuntimeError, match="already SUCCEEDED"):
        b.done(5, -1, None)


def test_a_late_answer_for_a_failed_batch_is_ignored():
    b = new_batch()
    f = b.try_append(0, None, b"v", (), 0)
    calls = []
    f.add_callback(lambda md, exc: calls.append(exc))
    err = DeliveryTimeoutError(1, TP, 120000)
    assert b.done(-1, -1, err)
    assert b.final_state is FinalState.FAILED and b.outcome == "expired"
    assert not b.done(42, -1, None)  # the response to the expired batch arrives later
    assert calls == [err]
    with pytest.raises(DeliveryTimeoutError, match="Expiring 1 record"):
        f.result()


def test_failure_callbacks_get_kafkas_empty_metadata():
    b = new_batch()
    f = b.try_append(0, None, b"v", (), 0)
    got = []
    f.add_callback(lambda md, exc: got.append((md, type(exc).__name__)))
    b.done(-1, -1, KafkaError("boom"))
    (md, name), = got
    assert name == "KafkaError"
    assert (md.topic, md.partition, md.offset) == ("orders", 2, -1)


def test_a_produce_result_completes_once():
    b = new_batch()
    b.try_append(0, None, b"v", (), 0)
    b.result.complete(1, -1)
    with pytest.raises(RuntimeError, match="already completed"):
        b.result.complete(2, -1)


def test_a_failed_future_cannot_fail_again():
    f = FutureRecordMetadata.failed("orders", KafkaError("x"))
    assert f.done()
    with pytest.raises(RuntimeError, match="already completed"):
        f.fail(KafkaError("y"))


def test_callbacks_must_be_callable():
    b = new_batch()
    f = b.try_append(0, None, b"v", (), 0)
    with pytest.raises(TypeError, match="callable"):
        f.add_callback("not a function")


def test_delivery_timeout_counts_from_creation():
    b = new_batch(now=100)
    assert not b.has_reached_delivery_timeout(1000, 1099)
    assert b.has_reached_delivery_timeout(1000, 1100)


def test_producer_state_goes_into_the_bytes():
    b = new_batch()
    for i in range(4):
        b.try_append(1000 + i, b"k", b"v%d" % i, [("h", b"1")], 0)
    b.set_producer_state(4242, 3, 17)
    d = DefaultRecordBatch(b.encode())
    assert d.validate_crc()
    assert (d.producer_id, d.producer_epoch, d.base_sequence) == (4242, 3, 17)
    recs = list(d)
    assert [r.timestamp for r in recs] == [1000, 1001, 1002, 1003]
    assert recs[2].headers == [("h", b"1")]


def test_arrivals_are_run_length_encoded():
    b = new_batch()
    for t in (1, 1, 1, 4, 4, 9):
        b.try_append(0, None, b"v", (), t)
    assert (b.arr_t, b.arr_n) == ([1, 4, 9], [3, 2, 1])


def test_compressed_estimate_uses_ratio_times_kafkas_factor():
    b = ProducerBatch(1, TP, RecordBatchBuilder("gzip", None), 16384, True, 0, ratio=0.5,
                      compressed=True)
    b.try_append(0, None, b"x" * 1000, (), 0)
    assert b.estimate == 61 + int(b.uncompressed_bytes * 0.5 * 1.05)
