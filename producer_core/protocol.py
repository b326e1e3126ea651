"""The wire between the producer and the mock cluster: Kafka's requests, responses and
error codes, as plain data.  No sockets: ``MockCluster.network.send`` carries these
objects and delivers the response later in simulated time.

Error names and numeric codes are Apache Kafka's (``org.apache.kafka.common.protocol.Errors``),
so learners meet the real vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import NamedTuple


class TopicPartition(NamedTuple):
    topic: str
    partition: int

    def __str__(self) -> str:
        return f"{self.topic}-{self.partition}"


class ErrorCode(Enum):
    """(code, retriable, invalidates_metadata) — as Kafka classifies them."""

    UNKNOWN_SERVER_ERROR = (-1, False, False)
    NONE = (0, False, False)
    CORRUPT_MESSAGE = (2, True, False)
    UNKNOWN_TOPIC_OR_PARTITION = (3, True, True)
    LEADER_NOT_AVAILABLE = (5, True, True)
    NOT_LEADER_OR_FOLLOWER = (6, True, True)
    REQUEST_TIMED_OUT = (7, True, False)
    MESSAGE_TOO_LARGE = (10, False, False)
    NETWORK_EXCEPTION = (13, True, True)
    RECORD_LIST_TOO_LARGE = (18, False, False)
    NOT_ENOUGH_REPLICAS = (19, True, False)
    NOT_ENOUGH_REPLICAS_AFTER_APPEND = (20, True, False)
    INVALID_REQUIRED_ACKS = (21, False, False)
    OUT_OF_ORDER_SEQUENCE_NUMBER = (45, False, False)
    DUPLICATE_SEQUENCE_NUMBER = (46, False, False)
    INVALID_PRODUCER_EPOCH = (47, False, False)
    KAFKA_STORAGE_ERROR = (56, True, True)
    UNKNOWN_PRODUCER_ID = (59, False, False)
    INVALID_RECORD = (87, False, False)

    @property
    def code(self) -> int:
        return self.value[0]

    @property
    def retriable(self) -> bool:
        return self.value[1]

    @property
    def invalidates_metadata(self) -> bool:
        return self.value[2]

    @classmethod
    def by_name(cls, name: str) -> ErrorCode:
        try:
            return cls[name]
        except KeyError:
            raise ValueError(
                f"unknown Kafka error {name!r}; known: {', '.join(e.name for e in cls)}"
            ) from None


# ---- requests -----------------------------------------------------------------------

@dataclass(slots=True)
class ProduceRequest:
    """One request to one broker: at most one batch per partition (Kafka's rule)."""

    request_id: int
    acks: int  # 0, 1 or -1 (all)
    timeout_ms: int  # broker-side wait for acks=all (Kafka sends request.timeout.ms)
    batches: dict[TopicPartition, bytes]  # encoded RecordBatch v2, baseOffset 0
    size_bytes: int  # on the wire: batches plus per-request and per-partition overhead


@dataclass(slots=True)
class MetadataRequest:
    request_id: int
    topics: tuple[str, ...] | None  # None: all topics


@dataclass(slots=True)
class InitProducerIdRequest:
    request_id: int


# ---- responses ----------------------------------------------------------------------

class LeaderHint(NamedTuple):
    """KIP-951: a NOT_LEADER_OR_FOLLOWER answer may name the new leader."""

    leader_id: int
    leader_epoch: int


@dataclass(slots=True)
class PartitionResponse:
    error: ErrorCode = ErrorCode.NONE
    base_offset: int = -1
    log_append_time_ms: int = -1
    log_start_offset: int = 0
    error_message: str | None = None
    current_leader: LeaderHint | None = None


@dataclass(slots=True)
class ProduceResponse:
    request_id: int
    partitions: dict[TopicPartition, PartitionResponse]
    throttle_time_ms: int = 0


@dataclass(slots=True)
class PartitionMetadata:
    topic: str
    partition: int
    leader: int | None  # None while no leader is elected
    leader_epoch: int
    replicas: tuple[int, ...]
    isr: tuple[int, ...]
    error: ErrorCode = ErrorCode.NONE


@dataclass(slots=True)
class MetadataResponse:
    request_id: int
    brokers: tuple[int, ...]  # ids of live brokers
    controller_id: int | None
    topics: dict[str, list[PartitionMetadata]]  # topic -> partitions, ordered by partition
    topic_errors: dict[str, ErrorCode] = field(default_factory=dict)  # e.g. unknown topic


@dataclass(slots=True)
class InitProducerIdResponse:
    request_id: int
    producer_id: int
    producer_epoch: int
    error: ErrorCode = ErrorCode.NONE


@dataclass(slots=True)
class Disconnected:
    """The connection to the node dropped (broker stopped): every in-flight request on it
    completes with this, after the time it takes to notice."""

    request_id: int
    node: int
    reason: str = "connection refused"
