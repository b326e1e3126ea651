"""The two values an application exchanges with the producer: the record it sends and the
metadata it gets back (Kafka's ``ProducerRecord`` and ``RecordMetadata``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

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

    def replace(self, **changes: Any) -> ProducerRecord:
        """A copy with some fields changed (interceptors return new records this way)."""
        fields = {
            "topic": self.topic, "value": self.value, "key": self.key,
            "headers": self.headers, "partition": self.partition,
            "timestamp_ms": self.timestamp_ms,
        }
        fields.update(changes)
        return ProducerRecord(**fields)


class RecordMetadata(NamedTuple):
    """The acknowledgement of one record: where it landed.

    The first four fields are DESIGN §4's ``RecordMetadata(topic, partition, offset,
    timestamp_ms)``.  With ``acks=0`` the offset is -1 (nobody told the producer).
    Sizes are -1 when unknown (Kafka reports -1 for a null key or value).
    """

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    serialized_key_size: int = -1
    serialized_value_size: int = -1

    def has_offset(self) -> bool:
        return self.offset >= 0

    def __str__(self) -> str:
        return f"{self.topic}-{self.partition}@{self.offset}"


__all__ = ["Header", "ProducerRecord", "RecordMetadata"]
