"""Serializers: how keys and values become bytes before partitioning and batching.

Kafka's producer serializes the key and the value (``key.serializer``/``value.serializer``)
right after the interceptors' ``on_send`` and before the partitioner, so the partitioner
and the batch see bytes.  A wrong type is the application's error and is raised at
``send()`` as a :class:`~producer_core.errors.SerializationError` naming the type, the
serializer, the role and the topic.

``get_serializer(spec)`` understands short names (``bytes``, ``string``, ``json``,
``int``, ``long``, ``double``, ``uuid``...), Kafka class names
(``org.apache.kafka.common.serialization.StringSerializer``), Spring's and Confluent's
JSON serializer names, a serializer instance or class, or a plain callable.
"""

from __future__ import annotations

import inspect
import json
import struct
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from producer_core.errors import SerializationError

Headers = Sequence[tuple[str, bytes | None]]


@runtime_checkable
class Serializer(Protocol):
    """Kafka's ``Serializer<T>``: ``serialize(topic, data, headers) -> bytes | None``."""

    def serialize(self, topic: str, data: Any, headers: Headers | None = None
                  ) -> bytes | None: ...


class BaseSerializer:
    """Common behaviour: ``None`` stays ``None`` (a null key, or a tombstone value)."""

    name = "Serializer"
    kafka_class = ""
    accepts: tuple[type, ...] = ()

    def __init__(self, role: str = "value") -> None:
        self.role = role

    def serialize(self, topic: str, data: Any, headers: Headers | None = None
                  ) -> bytes | None:
        if data is None:
            return None
        if not isinstance(data, self.accepts) or isinstance(data, bool) and bool not in \
                self.accepts:
            raise self.wrong_type(topic, data)
        return self._encode(topic, data)

    def _encode(self, topic: str, data: Any) -> bytes:
        raise NotImplementedError

    def wrong_type(self, topic: str, data: Any) -> SerializationError:
        return SerializationError(
            f"Can't convert {self.role} of type {type(data).__name__} to bytes with "
            f"{self.name} ({self.role}.serializer) for topic {topic}")

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"{self.name}(role={self.role!r})"


class ByteArraySerializer(BaseSerializer):
    name = "ByteArraySerializer"
    kafka_class = "org.apache.kafka.common.serialization.ByteArraySerializer"
    accepts = (bytes, bytearray, memoryview)

    def serialize(self, topic: str, data: Any, headers: Headers | None = None
                  ) -> bytes | None:
        # The hot path: most workloads hand over bytes already.
        if type(data) is bytes or data is None:
            return data
        if isinstance(data, (bytearray, memoryview)):
            return bytes(data)
        raise self.wrong_type(topic, data)


class StringSerializer(BaseSerializer):
    name = "StringSerializer"
    kafka_class = "org.apache.kafka.common.serialization.StringSerializer"
    accepts = (str,)

    def __init__(self, role: str = "value", encoding: str = "utf-8") -> None:
        super().__init__(role)
        self.encoding = encoding

    def _encode(self, topic: str, data: str) -> bytes:
        try:
            return data.encode(self.encoding)
        except UnicodeEncodeError as exc:
            raise SerializationError(
                f"Can't encode {self.role} as {self.encoding} with StringSerializer for topic "
                f"{topic}: {exc}") from None


class JsonSerializer(BaseSerializer):
    """Compact UTF-8 JSON (``separators=(",", ":")``); ``sort_keys`` for stable bytes."""

    name = "JsonSerializer"
    kafka_class = "org.springframework.kafka.support.serializer.JsonSerializer"
    accepts = (dict, list, tuple, str, int, float, bool)

    def __init__(self, role: str = "value", sort_keys: bool = False) -> None:
        super().__init__(role)
        self.sort_keys = sort_keys
        self._dumps = json.JSONEncoder(separators=(",", ":"), sort_keys=sort_keys,
                                       ensure_ascii=False, allow_nan=False).encode

    def serialize(self, topic: str, data: Any, headers: Headers | None = None
                  ) -> bytes | None:
        if data is None:
            return None
        try:
            return self._dumps(data).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise SerializationError(
                f"Can't convert {self.role} of type {type(data).__name__} to JSON with "
                f"JsonSerializer ({self.role}.serializer) for topic {topic}: {exc}") from None


class _StructSerializer(BaseSerializer):
    fmt = ">i"

    def _encode(self, topic: str, data: Any) -> bytes:
        try:
            return struct.pack(self.fmt, data)
        except struct.error as exc:
            raise SerializationError(
                f"Can't convert {self.role} {data!r} with {self.name} "
                f"({self.role}.serializer) for topic {topic}: {exc}") from None


class IntegerSerializer(_StructSerializer):
    name, fmt, accepts = "IntegerSerializer", ">i", (int,)
    kafka_class = "org.apache.kafka.common.serialization.IntegerSerializer"


class ShortSerializer(_StructSerializer):
    name, fmt, accepts = "ShortSerializer", ">h", (int,)
    kafka_class = "org.apache.kafka.common.serialization.ShortSerializer"


class LongSerializer(_StructSerializer):
    name, fmt, accepts = "LongSerializer", ">q", (int,)
    kafka_class = "org.apache.kafka.common.serialization.LongSerializer"


class DoubleSerializer(_StructSerializer):
    name, fmt, accepts = "DoubleSerializer", ">d", (float, int)
    kafka_class = "org.apache.kafka.common.serialization.DoubleSerializer"


class FloatSerializer(_StructSerializer):
    name, fmt, accepts = "FloatSerializer", ">f", (float, int)
    kafka_class = "org.apache.kafka.common.serialization.FloatSerializer"


class UUIDSerializer(BaseSerializer):
    """Kafka's UUIDSerializer writes the UUID's string form in UTF-8."""

    name = "UUIDSerializer"
    kafka_class = "org.apache.kafka.common.serialization.UUIDSerializer"
    accepts = (uuid.UUID,)

    def _encode(self, topic: str, data: uuid.UUID) -> bytes:
        return str(data).encode("ascii")


class VoidSerializer(BaseSerializer):
    """Only ``None`` (Kafka's VoidSerializer)."""

    name = "VoidSerializer"
    kafka_class = "org.apache.kafka.common.serialization.VoidSerializer"
    accepts = ()


_NAMED: dict[str, type[BaseSerializer]] = {
    "bytes": ByteArraySerializer, "bytearray": ByteArraySerializer,
    "string": StringSerializer, "str": StringSerializer,
    "json": JsonSerializer,
    "int": IntegerSerializer, "integer": IntegerSerializer, "short": ShortSerializer,
    "long": LongSerializer, "double": DoubleSerializer, "float": FloatSerializer,
    "uuid": UUIDSerializer, "void": VoidSerializer,
}
_KAFKA_CLASSES: dict[str, type[BaseSerializer]] = {
    cls.kafka_class: cls for cls in (
        ByteArraySerializer, StringSerializer, IntegerSerializer, ShortSerializer,
        LongSerializer, DoubleSerializer, FloatSerializer, UUIDSerializer, VoidSerializer,
        JsonSerializer)
}
_KAFKA_CLASSES.update({
    "org.apache.kafka.common.serialization.BytesSerializer": ByteArraySerializer,
    "org.apache.kafka.common.serialization.ByteBufferSerializer": ByteArraySerializer,
    "io.confluent.kafka.serializers.KafkaJsonSerializer": JsonSerializer,
    "org.apache.kafka.connect.json.JsonSerializer": JsonSerializer,
})
for _cls in set(_KAFKA_CLASSES.values()):
    _KAFKA_CLASSES.setdefault(_cls.name, _cls)  # bare class names too

#: Short names and Kafka class names :func:`get_serializer` knows.
KNOWN_SERIALIZERS: tuple[str, ...] = tuple(_NAMED) + tuple(_KAFKA_CLASSES)


class _UserSerializer:
    """Wraps an application's serializer: its failures and wrong results become
    ``SerializationError`` naming it, the role and the topic."""

    def __init__(self, inner: Any, role: str) -> None:
        self.inner = inner
        self.role = role
        if hasattr(inner, "serialize"):
            self._call: Callable[[str, Any, Any], Any] = inner.serialize
            self.name = type(inner).__name__
        else:
            self.name = getattr(inner, "__qualname__", repr(inner))
            self._call = _adapt_callable(inner)

    def serialize(self, topic: str, data: Any, headers: Headers | None = None
                  ) -> bytes | None:
        try:
            out = self._call(topic, data, headers)
        except SerializationError:
            raise
        except Exception as exc:
            raise SerializationError(
                f"{self.role}.serializer {self.name} failed for topic {topic} on a "
                f"{type(data).__name__}: {type(exc).__name__}: {exc}") from exc
        if out is None or type(out) is bytes:
            return out
        if isinstance(out, (bytearray, memoryview)):
            return bytes(out)
        raise SerializationError(
            f"{self.role}.serializer {self.name} returned {type(out).__name__}, not bytes, "
            f"for topic {topic}")

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if callable(close):
            close()

    def __repr__(self) -> str:
        return f"_UserSerializer({self.name}, role={self.role!r})"


def _adapt_callable(fn: Callable[..., Any]) -> Callable[[str, Any, Any], Any]:
    try:
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        var = any(p.kind is p.VAR_POSITIONAL for p in inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        params, var = [], True
    if var or len(params) >= 3:
        return lambda topic, data, headers: fn(topic, data, headers)
    if len(params) == 2:
        return lambda topic, data, headers: fn(topic, data)
    return lambda topic, data, headers: fn(data)


def get_serializer(spec: Any, role: str = "value") -> Any:
    """A serializer object for a ``key.serializer``/``value.serializer`` value.

    ``role`` ("key" or "value") only shapes error messages.  Raises ``ValueError`` for an
    unknown name and ``TypeError`` for something that cannot serialize.
    """
    if role not in ("key", "value"):
        raise ValueError(f"role must be 'key' or 'value', not {role!r}")
    if isinstance(spec, str):
        # Text resolves through the allow-list only (issue 8): nothing is imported.
        from producer_core import plugins

        name = spec.strip()
        cls = plugins.lookup("serializer", name)
        if cls is not None:
            return cls(role)
        if "." in name:
            raise ValueError(f"Class {name[:200]} cannot be found: it is not one of the "
                             f"allowed serializers ({plugins.describe_allowed('serializer')}"
                             "); Python code may pass its own serializer object, or use "
                             "ProducerConfig.from_dict(..., allow_import=True)")
        raise ValueError(f"unknown serializer {name[:200]!r}; use bytes, string, json, int, "
                         "long, double, uuid or a Kafka serializer class name")
    if isinstance(spec, type):
        if issubclass(spec, BaseSerializer):
            return spec(role)
        if not callable(getattr(spec, "serialize", None)):
            raise TypeError(f"{spec.__qualname__} has no serialize() method")
        try:
            spec = spec()
        except Exception as exc:  # noqa: BLE001 - reported as a bad serializer spec
            raise TypeError(f"could not instantiate {spec.__qualname__}: {exc}") from None
    if isinstance(spec, BaseSerializer):
        return spec
    if callable(getattr(spec, "serialize", None)) or callable(spec):
        return _UserSerializer(spec, role)
    raise TypeError(f"{type(spec).__name__} is not a serializer: give a name such as "
                    "'string', a Kafka class name, a Serializer or a callable")


def java_class_name(spec: Any) -> str | None:
    """The Java class a Kafka producer would be configured with (for config export)."""
    if isinstance(spec, str):
        name = spec.strip()
        cls = _NAMED.get(name.lower()) or _KAFKA_CLASSES.get(name)
        if cls is None:
            return None
        return name if "." in name else cls.kafka_class
    if isinstance(spec, BaseSerializer) or isinstance(spec, type) and issubclass(
            spec, BaseSerializer):
        return spec.kafka_class
    return None


__all__ = [
    "KNOWN_SERIALIZERS",
    "BaseSerializer",
    "ByteArraySerializer",
    "DoubleSerializer",
    "FloatSerializer",
    "IntegerSerializer",
    "JsonSerializer",
    "LongSerializer",
    "Serializer",
    "ShortSerializer",
    "StringSerializer",
    "UUIDSerializer",
    "VoidSerializer",
    "get_serializer",
    "java_class_name",
]
