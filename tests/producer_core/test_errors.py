"""Errors with Kafka's meanings and messages, and the two value types."""

from __future__ import annotations

import pickle

import pytest

from producer_core.errors import (
    BrokerError,
    BufferExhaustedError,
    ConfigError,
    DeliveryTimeoutError,
    DuplicateSequenceError,
    KafkaError,
    KafkaTimeoutError,
    MessageTooLargeError,
    NetworkError,
    NotEnoughReplicasError,
    NotLeaderOrFollowerError,
    OutOfOrderSequenceError,
    PartitionOutOfRangeError,
    ProducerClosedError,
    RecordTooLargeError,
    RequestTimedOutError,
    broker_error_class,
    error_for,
)
from producer_core.protocol import ErrorCode, TopicPartition
from producer_core.types import ProducerRecord, RecordMetadata


@pytest.mark.parametrize("code, cls, retriable", [
    (ErrorCode.NOT_LEADER_OR_FOLLOWER, NotLeaderOrFollowerError, True),
    (ErrorCode.NOT_ENOUGH_REPLICAS, NotEnoughReplicasError, True),
    (ErrorCode.REQUEST_TIMED_OUT, RequestTimedOutError, True),
    (ErrorCode.NETWORK_EXCEPTION, NetworkError, True),
    (ErrorCode.MESSAGE_TOO_LARGE, MessageTooLargeError, False),
    (ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, OutOfOrderSequenceError, False),
    (ErrorCode.DUPLICATE_SEQUENCE_NUMBER, DuplicateSequenceError, False),
])
def test_error_for_maps_codes_to_classes(code, cls, retriable):
    err = error_for(code)
    assert type(err) is cls and broker_error_class(code) is cls
    assert err.error is code
    assert err.retriable is retriable
    assert str(err).startswith(code.name + ": ")
    assert isinstance(err, BrokerError) and isinstance(err, KafkaError)


def test_every_error_code_maps_and_keeps_its_classification():
    for code in ErrorCode:
        if code is ErrorCode.NONE:
            with pytest.raises(ValueError, match="success"):
                error_for(code)
            continue
        err = error_for(code, "detail")
        assert err.error is code
        assert err.retriable == code.retriable
        assert err.invalidates_metadata == code.invalidates_metadata
        assert str(err) == f"{code.name}: detail"
    with pytest.raises(TypeError):
        error_for("NOT_LEADER_OR_FOLLOWER")  # type: ignore[arg-type]


def test_broker_errors_fit_kafkas_client_hierarchy():
    # REQUEST_TIMED_OUT is a TimeoutException and MESSAGE_TOO_LARGE a
    # RecordTooLargeException in Kafka's client.
    assert isinstance(error_for(ErrorCode.REQUEST_TIMED_OUT), KafkaTimeoutError)
    assert isinstance(error_for(ErrorCode.MESSAGE_TOO_LARGE), RecordTooLargeError)
    assert NotLeaderOrFollowerError("moved").error is ErrorCode.NOT_LEADER_OR_FOLLOWER
    assert "moved" in str(NotLeaderOrFollowerError("moved"))
    assert BrokerError(ErrorCode.KAFKA_STORAGE_ERROR).retriable is True


def test_client_error_messages_name_the_values():
    e = BufferExhaustedError(16384, 33554432, 1024, 60000, poolable_size=16384)
    assert "Failed to allocate 16384 bytes within the configured max blocking time 60000 ms" \
        in str(e)
    assert "Total memory: 33554432 bytes" in str(e) and "Available memory: 1024 bytes" in str(e)
    assert (e.requested, e.total, e.available, e.max_block_ms) == (16384, 33554432, 1024, 60000)
    assert isinstance(e, KafkaTimeoutError) and e.retriable

    big = RecordTooLargeError(2_000_000, 1_048_576, "max.request.size")
    assert str(big) == ("The message is 2000000 bytes when serialized which is larger than "
                        "1048576, which is the value of the max.request.size configuration.")
    mem = RecordTooLargeError(40_000_000, 33554432, "buffer.memory")
    assert "buffer.memory" in str(mem) and "40000000" in str(mem)
    assert not big.retriable

    exp = DeliveryTimeoutError(12, TopicPartition("orders", 0), 120004)
    assert str(exp) == ("Expiring 12 record(s) for orders-0:120004 ms has passed since batch "
                        "creation")
    assert isinstance(exp, KafkaTimeoutError)

    oor = PartitionOutOfRangeError(7, 7)
    assert str(oor) == "Invalid partition given with record: 7 is not in the range [0...6]."
    assert isinstance(oor, ValueError)

    assert str(ProducerClosedError()) == "Cannot perform operation after producer has been closed"
    assert str(KafkaTimeoutError.topic_not_present("nope", 60000)) == \
        "Topic nope not present in metadata after 60000 ms."
    assert str(ConfigError("x.y", 3, "Value must be at least 5")) == \
        "Invalid value 3 for configuration x.y: Value must be at least 5"


def test_errors_survive_pickling_for_multiprocess_sweeps():
    for err in (error_for(ErrorCode.NOT_LEADER_OR_FOLLOWER, "moved"),
                error_for(ErrorCode.MESSAGE_TOO_LARGE), ConfigError("free text"),
                ConfigError("linger.ms", -1, "Value must be at least 0"),
                ProducerClosedError(), BufferExhaustedError(1, 2, 3, 4),
                DeliveryTimeoutError(3, TopicPartition("t", 1), 99),
                RecordTooLargeError(5, 4), PartitionOutOfRangeError(9, 3, "t")):
        again = pickle.loads(pickle.dumps(err))
        assert type(again) is type(err) and str(again) == str(err)
        assert again.__dict__ == err.__dict__


def test_record_metadata_is_the_four_tuple_of_design_4():
    md = RecordMetadata("orders", 2, 41, 1000, 3, 100)
    topic, partition, offset, ts = md  # unpacks as DESIGN §4 writes it
    assert (topic, partition, offset, ts) == ("orders", 2, 41, 1000)
    assert md == RecordMetadata("orders", 2, 41, 1000)
    assert (md.serialized_key_size, md.serialized_value_size) == (3, 100)
    assert md.to_dict()["serialized_value_size"] == 100
    assert str(md) == "orders-2@41"  # Kafka's RecordMetadata.toString()
    assert pickle.loads(pickle.dumps(md)).serialized_key_size == 3
    assert md._replace(offset=50).serialized_value_size == 100
    assert RecordMetadata("t", 0, -1, -1).has_offset() is False


def test_producer_record_defaults_and_replace():
    r = ProducerRecord("orders", b"v")
    assert (r.key, r.headers, r.partition, r.timestamp_ms) == (None, (), None, None)
    r2 = r.replace(key=b"k", partition=3)
    assert (r2.key, r2.partition, r2.value) == (b"k", 3, b"v") and r.key is None
    with pytest.raises(AttributeError):
        r.topic = "other"  # type: ignore[misc]


@pytest.mark.parametrize("kwargs, message", [
    ({"topic": ""}, "Topic cannot be null"),
    ({"topic": None}, "Topic cannot be null"),
    ({"topic": "t", "timestamp_ms": -1}, "Invalid timestamp: -1"),
    ({"topic": "t", "partition": -2}, "Invalid partition: -2"),
    ({"topic": "t", "partition": True}, "Invalid partition"),
])
def test_producer_record_rejects_what_kafka_rejects(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ProducerRecord(**kwargs)
