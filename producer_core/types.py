"""The two values an application exchanges with the producer: the record it sends and the
metadata it gets back (Kafka's ``ProducerRecord`` and ``RecordMetadata``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Self

Header = tuple[str, bytes | None]


@dataclass(frozen=True, slots=True)
class ProducerRecord:
    """What ``send()`` is asked to deliver, before serialization.

    ``partition`` set means the application chose it (Kafka: an explicit partition wins
    over the key and the partitioner); ``timestamp_ms`` None means "now" (CreateTime).
    Headers are ``(str key, bytes value)`` pairs, in order; keys may repeat.
    """

    topic: str
    value: Any = None
    key: Any = None
    headers: Sequence[Header] = ()
    partition: int | None = None
    timestamp_ms: int | None = None

    def __post_init__(self) -> None:
        # Kafka's ProducerRecord constructor rejects these at once.
        if not isinstance(self.topic, str) or not self.topic:
            raise ValueError(f"Topic cannot be null or empty (got {self.topic!r}).")
        ts = self.timestamp_ms
        if ts is not None and (isinstance(ts, bool) or not isinstance(ts, int) or ts < 0):
            raise ValueError(f"Invalid timestamp: {ts!r}. Timestamp should always be "
                             "non-negative or null.")
        p = self.partition
        if p is not None and (isinstance(p, bool) or not isinstance(p, int) or p < 0):
            raise ValueError(f"Invalid partition: {p!r}. Partition number should always be "
                             "non-negative or null.")

    def replace(self, **changes: Any) -> ProducerRecord:
        """A copy with some fields changed (interceptors return new records this way)."""
        fields = {
            "topic": self.topic, "value": self.value, "key": self.key,
            "headers": self.headers, "partition": self.partition,
            "timestamp_ms": self.timestamp_ms,
        }
        fields.update(changes)
        return ProducerRecord(**fields)


class _Where(NamedTuple):
    topic: str
    partition: int
    offset: int
    timestamp_ms: int


class RecordMetadata(_Where):
    """The acknowledgement of one record: where it landed.

    A 4-tuple ``(topic, partition, offset, timestamp_ms)`` — DESIGN §4's
    ``RecordMetadata(topic, partition, offset, timestamp_ms)``, so it unpacks and compares
    as those four — that also carries Kafka's ``serialized_key_size`` and
    ``serialized_value_size`` as attributes (5th and 6th constructor arguments; -1 when
    unknown or null, as Kafka reports).  With ``acks=0`` the offset is -1 (nobody told
    the producer).
    """

    def __new__(cls, topic: str, partition: int, offset: int, timestamp_ms: int,
                serialized_key_size: int = -1, serialized_value_size: int = -1
                ) -> Self:
        self = _Where.__new__(cls, topic, partition, offset, timestamp_ms)
        self.serialized_key_size = serialized_key_size
        self.serialized_value_size = serialized_value_size
        return self

    def _replace(self, **changes: Any) -> RecordMetadata:
        fields = self.to_dict()
        fields.update(changes)
        return RecordMetadata(**fields)

    def has_offset(self) -> bool:
        return self.offset >= 0

    def to_dict(self) -> dict[str, Any]:
        """All six values, JSON-safe."""
        return {"topic": self.topic, "partition": self.partition, "offset": self.offset,
                "timestamp_ms": self.timestamp_ms,
                "serialized_key_size": self.serialized_key_size,
                "serialized_value_size": self.serialized_value_size}

    def __repr__(self) -> str:
        return (f"RecordMetadata(topic={self.topic!r}, partition={self.partition}, "
                f"offset={self.offset}, timestamp_ms={self.timestamp_ms}, "
                f"serialized_key_size={self.serialized_key_size}, "
                f"serialized_value_size={self.serialized_value_size})")

    def __str__(self) -> str:
        return f"{self.topic}-{self.partition}@{self.offset}"


__all__ = ["Header", "ProducerRecord", "RecordMetadata"]
