"""Serializers: Kafka's byte layouts, names and errors that say what went wrong."""

from __future__ import annotations

import json
import struct
import uuid

import pytest

from producer_core.errors import SerializationError
from producer_core.serializers import (
    ByteArraySerializer,
    JsonSerializer,
    Serializer,
    StringSerializer,
    get_serializer,
    java_class_name,
)


def test_bytes_serializer_passes_bytes_and_none():
    s = get_serializer("bytes")
    assert isinstance(s, ByteArraySerializer) and isinstance(s, Serializer)
    data = b"\x00\xffabc"
    assert s.serialize("orders", data) is data  # no copy on the hot path
    assert s.serialize("orders", bytearray(b"ab")) == b"ab"
    assert s.serialize("orders", memoryview(b"xy")) == b"xy"
    assert s.serialize("orders", None) is None


@pytest.mark.parametrize("spec, role, data, message", [
    ("bytes", "value", 5,
     ("Can't convert value of type int to bytes with ByteArraySerializer (value.serializer) "
     "for topic orders")),
    ("bytes", "key", "text",
     ("Can't convert key of type str to bytes with ByteArraySerializer (key.serializer) "
     "for topic orders")),
    ("string", "value", b"raw",
     "Can't convert value of type bytes to bytes with StringSerializer (value.serializer)"),
    ("int", "key", True, "Can't convert key of type bool"),
    ("int", "key", 2**40, "IntegerSerializer"),
    ("json", "value", {"when": object()}, "Can't convert value of type dict to JSON"),
    ("json", "value", float("nan"), "to JSON"),
])
def test_wrong_types_name_type_serializer_role_and_topic(spec, role, data, message):
    with pytest.raises(SerializationError) as err:
        get_serializer(spec, role).serialize("orders", data)
    assert message in str(err.value)


def test_string_and_json():
    assert get_serializer("string").serialize("t", "héllo") == "héllo".encode()
    js = JsonSerializer(sort_keys=True)
    out = js.serialize("t", {"b": 1, "a": [1, 2], "c": "é"})
    assert out == b'{"a":[1,2],"b":1,"c":"\xc3\xa9"}'
    assert json.loads(out) == {"b": 1, "a": [1, 2], "c": "é"}
    assert get_serializer("json").serialize("t", None) is None


def test_numeric_and_uuid_layouts_are_kafkas():
    assert get_serializer("int").serialize("t", -2) == struct.pack(">i", -2)
    assert get_serializer("long").serialize("t", 2**40) == struct.pack(">q", 2**40)
    assert get_serializer("double").serialize("t", 1.5) == struct.pack(">d", 1.5)
    u = uuid.UUID(int=7)
    assert get_serializer("uuid").serialize("t", u) == str(u).encode()
    with pytest.raises(SerializationError):
        get_serializer("void").serialize("t", b"x")


@pytest.mark.parametrize("name, cls", [
    ("org.apache.kafka.common.serialization.StringSerializer", StringSerializer),
    ("org.apache.kafka.common.serialization.ByteArraySerializer", ByteArraySerializer),
    ("StringSerializer", StringSerializer),
    ("org.springframework.kafka.support.serializer.JsonSerializer", JsonSerializer),
    ("STRING", StringSerializer),
])
def test_kafka_class_names(name, cls):
    assert type(get_serializer(name)) is cls


def test_java_class_names_for_export():
    assert java_class_name("bytes") == "org.apache.kafka.common.serialization.ByteArraySerializer"
    assert java_class_name("string") == "org.apache.kafka.common.serialization.StringSerializer"
    assert java_class_name("json").endswith("JsonSerializer")
    assert java_class_name(lambda d: d) is None


def test_user_serializers_are_wrapped():
    class Upper:
        def serialize(self, topic, data, headers=None):
            return data.upper().encode()

    s = get_serializer(Upper(), "key")
    assert s.serialize("t", "abc") == b"ABC"
    with pytest.raises(SerializationError, match="key.serializer Upper failed for topic t"):
        s.serialize("t", 5)
    assert get_serializer(Upper).serialize("t", "x") == b"X"  # a class is instantiated
    assert get_serializer(lambda data: data[::-1]).serialize("t", b"ab") == b"ba"
    assert get_serializer(lambda topic, data: topic.encode()).serialize("t", 1) == b"t"
    bad = get_serializer(lambda data: "not bytes")
    with pytest.raises(SerializationError, match="returned str, not bytes"):
        bad.serialize("t", 1)


def test_bad_specs():
    with pytest.raises(ValueError, match="unknown serializer 'nope'"):
        get_serializer("nope")
    with pytest.raises(ValueError, match="cannot be found"):
        get_serializer("com.example.MissingSerializer")
    with pytest.raises(TypeError, match="not a serializer"):
        get_serializer(42)
    with pytest.raises(ValueError, match="role"):
        get_serializer("bytes", "payload")
