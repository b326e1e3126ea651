"""The producer's exceptions, with Apache Kafka's meanings and vocabulary.

Kafka splits failures into *retriable* ones (the producer, or the application, may try
again: a leader moved, a request timed out) and fatal ones (the record is too large, the
configuration is wrong).  Every class here carries ``retriable`` with Kafka's answer, and
every message names the values that caused it, so a learner reading the trace can act.

Client-side errors are raised at the call (``ConfigError``, ``PartitionOutOfRangeError``,
``SerializationError``) or delivered through a send future (``BufferExhaustedError``,
``RecordTooLargeError``, ``KafkaTimeoutError`` — an expired batch's "Expiring N record(s)
…", as Kafka's ``TimeoutException`` — a ``BrokerError``).  Broker answers map
from :class:`producer_core.protocol.ErrorCode` with :func:`error_for`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from producer_core.protocol import ErrorCode

_MISSING = object()


class KafkaError(Exception):
    """Base class of every producer error.  ``retriable`` follows Kafka's classification."""

    retriable: ClassVar[bool] = False

    @property
    def message(self) -> str:
        return str(self)

    def __reduce__(self) -> Any:
        # Structured errors rebuild from their values (pickling for multi-process sweeps).
        init_args = self.__dict__.get("_init_args")
        if init_args is None:
            return super().__reduce__()
        return (type(self), init_args)


class ConfigError(KafkaError, ValueError):
    """A configuration Kafka would reject (Kafka's ``ConfigException``).

    ``ConfigError(key, value, rule)`` renders Kafka's wording
    ``Invalid value <value> for configuration <key>: <rule>``; ``ConfigError(message)``
    carries a free-form message (e.g. an unknown key with a suggestion).
    """

    def __init__(self, key: str, value: Any = _MISSING, rule: str | None = None) -> None:
        if value is _MISSING:
            self.key: str | None = None
            self.value: Any = None
            self.rule: str | None = None
            super().__init__(key)
            return
        self.key, self.value, self.rule = key, value, rule
        self._init_args = (key, value, rule)
        shown = _java_repr(value)
        text = f"Invalid value {shown} for configuration {key}"
        super().__init__(f"{text}: {rule}" if rule else text)


def _java_repr(value: Any) -> str:
    # Kafka prints values with Java's toString: true/false, null, plain strings.
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (list, tuple)):
        return ",".join(_java_repr(v) for v in value)
    return str(value)


class KafkaTimeoutError(KafkaError):
    """Something did not happen within its time limit (Kafka's ``TimeoutException``).

    Kafka files timeouts under retriable errors: the application may try the operation
    again later.
    """

    retriable = True

    def __init__(self, message_or_count: int | str = "", topic_partition: Any = None,
                 elapsed_ms: int | None = None) -> None:
        # KafkaTimeoutError(message), or (record count, topic-partition, elapsed ms) for a
        # batch that outlived delivery.timeout.ms (see :meth:`expiring`).
        self.record_count: int | None = None
        self.topic_partition = topic_partition
        self.elapsed_ms: int | None = None
        if isinstance(message_or_count, str):
            super().__init__(message_or_count)
            return
        self.record_count = message_or_count
        self.elapsed_ms = elapsed_ms
        self._init_args = (message_or_count, topic_partition, elapsed_ms)
        super().__init__(
            f"Expiring {message_or_count} record(s) for {topic_partition}:{elapsed_ms} ms "
            "has passed since batch creation")

    @classmethod
    def expiring(cls, record_count: int, topic_partition: Any,
                 elapsed_ms: int) -> KafkaTimeoutError:
        """Sender.sendProducerData's error for a batch past ``delivery.timeout.ms``:
        ``TimeoutException("Expiring N record(s) for topic-partition:X ms has passed since
        batch creation")``."""
        return cls(record_count, topic_partition, elapsed_ms)

    @classmethod
    def topic_not_present(cls, topic: str, max_block_ms: int) -> KafkaTimeoutError:
        """``send()`` waited ``max.block.ms`` for metadata of a topic nobody knows."""
        return cls(f"Topic {topic} not present in metadata after {max_block_ms} ms.")

    @classmethod
    def partition_not_present(
        cls, topic: str, partition: int, partition_count: int, max_block_ms: int
    ) -> KafkaTimeoutError:
        return cls(
            f"Partition {partition} of topic {topic} with partition count {partition_count} "
            f"is not present in metadata after {max_block_ms} ms."
        )


class BufferExhaustedError(KafkaTimeoutError):
    """``send()`` could not get memory from the buffer pool within ``max.block.ms``
    (Kafka's ``BufferExhaustedException``): the producer is producing faster than the
    brokers accept, or the brokers are unreachable."""

    def __init__(
        self,
        requested: int | str,
        total: int | None = None,
        available: int | None = None,
        max_block_ms: int | None = None,
        poolable_size: int | None = None,
    ) -> None:
        if isinstance(requested, str):
            self.requested = self.total = self.available = self.max_block_ms = None
            self.poolable_size = None
            super().__init__(requested)
            return
        self.requested, self.total, self.available = requested, total, available
        self.max_block_ms, self.poolable_size = max_block_ms, poolable_size
        self._init_args = (requested, total, available, max_block_ms, poolable_size)
        text = (
            f"Failed to allocate {requested} bytes within the configured max blocking time "
            f"{max_block_ms} ms (max.block.ms). Total memory: {total} bytes (buffer.memory). "
            f"Available memory: {available} bytes."
        )
        if poolable_size is not None:
            text += f" Poolable size: {poolable_size} bytes (batch.size)."
        super().__init__(text)


#: An expired batch fails with Kafka's own ``TimeoutException`` (``KafkaTimeoutError``
#: here) — Kafka has no separate delivery-timeout class.  This name stays as an alias for
#: code written against earlier versions; ``KafkaTimeoutError.expiring`` builds the error.
DeliveryTimeoutError = KafkaTimeoutError


class RecordTooLargeError(KafkaError):
    """A serialized record is larger than ``max.request.size`` or ``buffer.memory``
    (Kafka's ``RecordTooLargeException``); the size is Kafka's upper-bound estimate of the
    record in its own batch."""

    def __init__(
        self, size: int | str | None = None, limit: int | None = None,
        config: str = "max.request.size",
    ) -> None:
        if isinstance(size, str) or size is None:
            self.size = self.limit = None
            self.config = None
            super().__init__(size or "The record is too large")
            return
        self.size, self.limit, self.config = size, limit, config
        self._init_args = (size, limit, config)
        if config == "buffer.memory":
            text = (
                f"The message is {size} bytes when serialized which is larger than the total "
                f"memory buffer you have configured with the buffer.memory configuration "
                f"({limit} bytes)."
            )
        else:
            text = (
                f"The message is {size} bytes when serialized which is larger than {limit}, "
                f"which is the value of the {config} configuration."
            )
        super().__init__(text)


class SerializationError(KafkaError, TypeError):
    """A key or value could not be turned into bytes by its serializer.

    Kafka raises its ``SerializationException`` from ``send()`` (a ``ClassCastException``
    underneath when the type is wrong); in Python a wrong argument type is a ``TypeError``,
    so this is both: ``except TypeError`` and ``except SerializationError`` catch it."""


class PartitionOutOfRangeError(KafkaError, ValueError):
    """An explicit partition outside the topic's partitions (Kafka raises
    ``IllegalArgumentException`` at ``send()``)."""

    def __init__(self, partition: int | str, num_partitions: int | None = None,
                 topic: str | None = None) -> None:
        if isinstance(partition, str):
            self.partition = self.num_partitions = None
            self.topic = topic
            super().__init__(partition)
            return
        self.partition, self.num_partitions, self.topic = partition, num_partitions, topic
        self._init_args = (partition, num_partitions, topic)
        last = (num_partitions or 0) - 1
        text = f"Invalid partition given with record: {partition} is not in the range [0...{last}]."
        if topic is not None:
            text = text[:-1] + f" (topic {topic} has {num_partitions} partitions)."
        super().__init__(text)


class ProducerClosedError(KafkaError):
    """``send()``/``flush()`` after ``close()`` (Kafka's ``IllegalStateException``)."""

    def __init__(self, message: str = "Cannot perform operation after producer has been closed"):
        super().__init__(message)


class CorruptRecordError(KafkaError):
    """Bytes that are not a valid RecordBatch v2 (bad magic, CRC, lengths, varints)."""


# ---- broker errors ---------------------------------------------------------------------

class BrokerError(KafkaError):
    """An error a broker answered with, carrying its :class:`ErrorCode` as ``.error``.

    ``BrokerError(ErrorCode.X, "detail")`` or, on a subclass, ``Subclass("detail")``.
    ``retriable`` and ``invalidates_metadata`` come from the code, as in Kafka's
    ``Errors`` table.
    """

    code: ClassVar[ErrorCode] = ErrorCode.UNKNOWN_SERVER_ERROR
    default_message: ClassVar[str] = "The broker reported an unexpected error."

    def __init__(self, error: ErrorCode | str | None = None, message: str | None = None) -> None:
        if isinstance(error, str) and message is None:
            error, message = None, error
        self.error: ErrorCode = error if isinstance(error, ErrorCode) else self.code
        text = message or (
            self.default_message if type(self) is not BrokerError or error is None
            else f"The broker answered {self.error.name}."
        )
        super().__init__(f"{self.error.name}: {text}")
        self.detail = message
        self._init_args = (self.error, message)

    @property
    def retriable(self) -> bool:  # type: ignore[override]
        return self.error.retriable

    @property
    def invalidates_metadata(self) -> bool:
        return self.error.invalidates_metadata


class UnknownServerError(BrokerError):
    code = ErrorCode.UNKNOWN_SERVER_ERROR
    default_message = "The broker hit an unexpected error while handling the request."


class CorruptMessageError(BrokerError):
    code = ErrorCode.CORRUPT_MESSAGE
    default_message = "The broker found the batch corrupt (CRC or size mismatch)."


class UnknownTopicOrPartitionError(BrokerError):
    code = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
    default_message = "This broker does not host the topic-partition."


class LeaderNotAvailableError(BrokerError):
    code = ErrorCode.LEADER_NOT_AVAILABLE
    default_message = "The partition has no leader right now (an election is in progress)."


class NotLeaderOrFollowerError(BrokerError):
    code = ErrorCode.NOT_LEADER_OR_FOLLOWER
    default_message = (
        "This broker is not the partition's leader; refresh metadata and send to the new one."
    )


class RequestTimedOutError(BrokerError, KafkaTimeoutError):
    code = ErrorCode.REQUEST_TIMED_OUT
    default_message = "The broker did not get the required acknowledgements in time."


class MessageTooLargeError(BrokerError, RecordTooLargeError):
    code = ErrorCode.MESSAGE_TOO_LARGE
    default_message = "The batch is larger than the broker accepts (message.max.bytes)."

    size = limit = config = None


class NetworkError(BrokerError):
    code = ErrorCode.NETWORK_EXCEPTION
    default_message = "The connection to the broker was lost before the response arrived."


class RecordListTooLargeError(BrokerError):
    code = ErrorCode.RECORD_LIST_TOO_LARGE
    default_message = "The request's batches for one partition exceed the broker's limit."


class NotEnoughReplicasError(BrokerError):
    code = ErrorCode.NOT_ENOUGH_REPLICAS
    default_message = (
        "Fewer in-sync replicas than min.insync.replicas; the write was rejected (acks=all)."
    )


class NotEnoughReplicasAfterAppendError(BrokerError):
    code = ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND
    default_message = (
        "The leader appended the batch but the in-sync replicas fell below "
        "min.insync.replicas before it was acknowledged."
    )


class InvalidRequiredAcksError(BrokerError):
    code = ErrorCode.INVALID_REQUIRED_ACKS
    default_message = "The request asked for an acks value the broker does not support."


class OutOfOrderSequenceError(BrokerError):
    code = ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    default_message = "The broker received a sequence number that leaves a gap."


class DuplicateSequenceError(BrokerError):
    code = ErrorCode.DUPLICATE_SEQUENCE_NUMBER
    default_message = "The broker already has a batch with this sequence number."


class InvalidProducerEpochError(BrokerError):
    code = ErrorCode.INVALID_PRODUCER_EPOCH
    default_message = "The producer epoch is older than the one the broker knows (fenced)."


class KafkaStorageError(BrokerError):
    code = ErrorCode.KAFKA_STORAGE_ERROR
    default_message = "The broker's log directory for this partition is offline."


class UnknownProducerIdError(BrokerError):
    code = ErrorCode.UNKNOWN_PRODUCER_ID
    default_message = "The broker has no state for this producer id."


class InvalidRecordError(BrokerError):
    code = ErrorCode.INVALID_RECORD
    default_message = "The broker rejected a record in the batch as invalid."


_BY_CODE: dict[ErrorCode, type[BrokerError]] = {
    cls.code: cls
    for cls in (
        UnknownServerError, CorruptMessageError, UnknownTopicOrPartitionError,
        LeaderNotAvailableError, NotLeaderOrFollowerError, RequestTimedOutError,
        MessageTooLargeError, NetworkError, RecordListTooLargeError, NotEnoughReplicasError,
        NotEnoughReplicasAfterAppendError, InvalidRequiredAcksError, OutOfOrderSequenceError,
        DuplicateSequenceError, InvalidProducerEpochError, KafkaStorageError,
        UnknownProducerIdError, InvalidRecordError,
    )
}


def error_for(code: ErrorCode, message: str | None = None) -> BrokerError:
    """The exception Kafka's client raises for a broker error code (``Errors.exception()``).

    ``ErrorCode.NONE`` is not an error and is refused.
    """
    if not isinstance(code, ErrorCode):
        raise TypeError(f"error_for() needs an ErrorCode, got {type(code).__name__}")
    if code is ErrorCode.NONE:
        raise ValueError("ErrorCode.NONE is success, not an error")
    cls = _BY_CODE.get(code, BrokerError)
    return cls(code, message)


def broker_error_class(code: ErrorCode) -> type[BrokerError]:
    """The class :func:`error_for` uses for ``code``."""
    return _BY_CODE.get(code, BrokerError)


__all__ = [
    "KafkaError", "ConfigError", "KafkaTimeoutError", "BufferExhaustedError",
    "DeliveryTimeoutError", "RecordTooLargeError", "SerializationError",
    "PartitionOutOfRangeError", "ProducerClosedError", "CorruptRecordError", "BrokerError",
    "error_for", "broker_error_class",
] + [cls.__name__ for cls in _BY_CODE.values()]
