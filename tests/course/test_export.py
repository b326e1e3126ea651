"""Config export: one set of Kafka properties written five ways, with a tested name mapping."""

from __future__ import annotations

import re

import pytest
from kafka import KafkaProducer

from courseware.course import export
from producer_core.config import CONFIG_KEYS, ProducerConfig

PROPS = {"batch.size": "65536", "linger.ms": "20", "compression.type": "lz4",
         "buffer.memory": "67108864", "acks": "1", "max.block.ms": "5000",
         "enable.idempotence": "false", "max.in.flight.requests.per.connection": "3",
         "compression.lz4.level": "12", "retry.backoff.max.ms": "2000"}


@pytest.fixture(scope="module")
def out():
    return export.export_all(PROPS, "broker1:9092,broker2:9092")


def test_properties_file_round_trips_through_producer_config(out):
    text = out.properties
    assert "bootstrap.servers=broker1:9092,broker2:9092" in text
    parsed = ProducerConfig.from_properties(text)
    want = ProducerConfig.from_dict(PROPS)
    for key in PROPS:
        assert parsed.get(key) == want.get(key), key


def _yaml_lines(yaml: str) -> dict[str, str]:
    """Flatten our (simple, two-space) YAML into dotted paths — enough to check the mapping."""
    out, stack = {}, []
    for line in yaml.splitlines():
        if not line.strip() or line.strip().startswith("#"):
            continue
        indent = (len(line) - len(line.lstrip())) // 2
        key, _, value = line.strip().partition(":")
        key = key.strip().strip('"')
        stack = [*stack[:indent], key]
        if value.strip():
            out[".".join(stack)] = value.strip().strip('"')
    return out


def test_spring_yaml_uses_first_class_properties_where_spring_boot_has_them(out):
    flat = _yaml_lines(out.spring_yaml)
    p = "spring.kafka.producer."
    assert flat["spring.kafka.bootstrap-servers"] == "broker1:9092,broker2:9092"
    assert flat[p + "batch-size"] == "65536"
    assert flat[p + "buffer-memory"] == "67108864"
    assert flat[p + "compression-type"] == "lz4"
    assert flat[p + "acks"] == "1"
    # No first-class Spring Boot property: under properties, bracketed to keep the dots.
    assert flat[p + "properties.[linger.ms]"] == "20"
    assert flat[p + "properties.[max.block.ms]"] == "5000"
    assert not any(k.startswith(p + "linger") for k in flat)
    # Every key is written exactly once.
    written = [k for k in flat if k.startswith(p)]
    assert len(written) == len(PROPS)


def test_java_bean_uses_producer_config_constants_and_long_literals(out):
    java = out.java
    assert "new DefaultKafkaProducerFactory<>(props)" in java
    assert "props.put(ProducerConfig.LINGER_MS_CONFIG, 20L);" in java
    assert "props.put(ProducerConfig.BATCH_SIZE_CONFIG, 65536);" in java
    assert "props.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 67108864L);" in java
    assert 'props.put(ProducerConfig.ACKS_CONFIG, "1");' in java
    assert "props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);" in java
    assert ("props.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 3);" in java)
    assert 'props.put("compression.lz4.level", 12);' in java  # literal: no constant assumed
    assert java.count("{") == java.count("}")
    for key in PROPS:
        assert key in export.JAVA_CONSTANTS or f'"{key}"' in java, key


def test_every_mapped_key_is_a_kafka_producer_key():
    for table in (export.SPRING_FIRST_CLASS, export.JAVA_CONSTANTS, export.LIBRDKAFKA,
                  export.KAFKA_PYTHON):
        assert set(table) <= set(CONFIG_KEYS), set(table) - set(CONFIG_KEYS)


def test_kafka_python_kwargs_are_real_keyword_arguments(out):
    kw, _notes, _missing = export.kafka_python_kwargs(ProducerConfig.from_dict(PROPS).to_dict()
                                                    | {}, "b:9092")
    # The oracle: kafka-python's own list of KafkaProducer settings.
    assert set(kw) <= set(KafkaProducer.DEFAULT_CONFIG), set(kw) - set(KafkaProducer.DEFAULT_CONFIG)
    for target, _ in export.KAFKA_PYTHON.values():
        assert target is None or target in KafkaProducer.DEFAULT_CONFIG, target
    assert "    # kafka-python's default is 0, not Kafka 4.x's 5\n    linger_ms=20," in out.kafka_python
    assert max(len(line) for line in out.confluent.splitlines()) < 80
    assert "# not set: buffer.memory" in out.kafka_python


def test_confluent_mapping_states_the_differences_in_meaning(out):
    conf, notes, missing = export.confluent_dict(
        {k: ProducerConfig.from_dict(PROPS).get(k) for k in PROPS}, "b:9092")
    assert conf["queue.buffering.max.kbytes"] == 65536          # 64 MiB in KB
    assert "NOT buffer.memory" in notes["queue.buffering.max.kbytes"]
    assert "buffer.memory" not in conf
    assert conf["partitioner"] == "murmur2_random"               # Java-compatible key hashing
    assert conf["compression.level"] == 12                       # lz4 is the active codec
    assert any(m.startswith("max.block.ms") for m in missing)
    assert "batch.num.messages" in notes["batch.size"]
    assert "# NOT buffer.memory" in out.confluent


def test_level_of_an_inactive_codec_is_not_exported_as_librdkafka_level():
    conf, _, missing = export.confluent_dict({"compression.type": "zstd",
                                              "compression.gzip.level": 5}, "b:9092")
    assert "compression.level" not in conf
    assert any("compression.gzip.level" in m for m in missing)


@pytest.mark.parametrize("props, needle", [
    ({"linger.ms": "-1"}, "linger.ms"),
    ({"acks": "2"}, "acks"),
    ({"enable.idempotence": "true", "acks": "1"}, "acks"),
    ({"max.in.flight.requests.per.connection": "6"}, "max.in.flight"),
])
def test_bad_input_is_a_clear_error_naming_the_key(props, needle):
    with pytest.raises(export.ExportError, match=re.escape(needle)):
        export.export_all(props)


def test_parse_properties_reads_files_and_rejects_garbage():
    assert export.parse_properties("# c\nlinger.ms = 20\n! c\nacks:all\n") == {
        "linger.ms": "20", "acks": "all"}
    with pytest.raises(export.ExportError, match="line 2"):
        export.parse_properties("linger.ms=1\nnonsense\n")


def test_export_view_renders_all_formats_and_400s_on_bad_input(client, db):
    r = client.get("/export/", {"linger.ms": "20", "batch.size": "65536"})
    assert r.status_code == 200
    body = r.content.decode()
    for marker in ("producer.properties", "application.yml", "ProducerFactory",
                   "confluent-kafka", "kafka-python", "[linger.ms]"):
        assert marker in body
    r = client.get("/export/", {"linger.ms": "soon"})
    assert r.status_code == 400
    assert "linger.ms" in r.content.decode() and "cannot be exported" in r.content.decode()
    r = client.get("/export/", {"text": "batch.size=abc"})
    assert r.status_code == 400
    r = client.get("/export/", {"linger.ms": "5", "bootstrap.servers": "a b"})
    assert r.status_code == 400


def test_values_are_escaped_on_the_export_page(client, db):
    r = client.get("/export/", {"client.id": "<script>alert(1)</script>", "linger.ms": "5"})
    assert r.status_code == 200
    assert b"<script>alert(1)</script>" not in r.content


def test_defaults_and_engine_classes_are_left_out():
    from producer_core.config import ProducerConfig

    everything = {k: v for k, v in ProducerConfig({"linger.ms": 20}).to_dict().items()
                  if v not in (None, [], "")}
    result = export.export_all(everything)        # what the lab's Export link sends
    assert result.props == {"linger.ms": 20}
    assert "batch.size" in result.omitted and "key.serializer" in result.skipped
    assert result.properties.strip().splitlines()[-1] == "linger.ms=20"


# ---- every exported config constructs a real client of its library --------------------

EXPORT_CASES = [
    {},
    {"acks": "1"},
    {"acks": "0", "retries": "0", "linger.ms": "0"},
    {"acks": "all", "enable.idempotence": "true", "linger.ms": "50", "batch.size": "131072"},
    {"acks": "1", "enable.idempotence": "false", "compression.type": "gzip",
     "partitioner.ignore.keys": "true", "buffer.memory": "1000000"},
    {"compression.type": "zstd", "compression.zstd.level": "7", "max.block.ms": "1000",
     "delivery.timeout.ms": "60000", "request.timeout.ms": "20000", "linger.ms": "10"},
    {"compression.type": "lz4", "max.in.flight.requests.per.connection": "1",
     "retry.backoff.ms": "200", "metadata.max.age.ms": "60000", "client.id": "lab-7"},
    PROPS,
]


def _call_kwargs(code: str, func: str) -> dict:
    """The keyword arguments of ``func(...)`` in exported Python code, as Python values."""
    import ast

    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == func:
            return {k.arg: ast.literal_eval(k.value) for k in node.keywords}
    raise AssertionError(f"no {func}(...) call in:\n{code}")


def _assigned_dict(code: str, name: str) -> dict:
    import ast

    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == name:
            return ast.literal_eval(node.value)
    raise AssertionError(f"no {name} = {{...}} in:\n{code}")


@pytest.fixture
def closed_port():
    """A loopback port nobody listens on: the clients construct without a broker."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


@pytest.mark.parametrize("props", EXPORT_CASES)
def test_the_kafka_python_export_constructs_a_kafka_producer(props, closed_port):
    code = export.export_all(props, closed_port).kafka_python
    kw = _call_kwargs(code, "KafkaProducer")
    # api_version given: kafka-python then does not ask a broker for it while constructing
    producer = KafkaProducer(**kw, api_version=(3, 7))
    try:
        cfg = producer.config
        assert cfg["acks"] in (0, 1, -1), cfg["acks"]   # "1" would be sent as a string
        for name, value in kw.items():
            default = KafkaProducer.DEFAULT_CONFIG[name]
            if default is not None and name != "acks":
                assert isinstance(value, type(default)) or (
                    isinstance(default, float) and isinstance(value, int)), (name, value)
        want = ProducerConfig.from_dict(props)
        assert cfg["linger_ms"] == want.get("linger.ms")      # Kafka 4.x's 5, not 0
        assert cfg["enable_idempotence"] is want.get("enable.idempotence")
        assert cfg["acks"] == {"all": -1, "-1": -1, "0": 0, "1": 1}[str(want.get("acks"))]
    finally:
        producer.close(timeout=0)


@pytest.mark.parametrize("props", EXPORT_CASES)
def test_the_confluent_export_constructs_a_producer(props, closed_port):
    confluent_kafka = pytest.importorskip("confluent_kafka")
    import logging

    code = export.export_all(props, closed_port).confluent
    conf = _assigned_dict(code, "conf")
    for name, value in conf.items():
        assert isinstance(value, (str, int, bool)), (name, value)
        if isinstance(value, str):  # booleans and numbers as such, not their text
            assert value.lower() not in ("true", "false") and not value.lstrip("-").isdigit(), name
    quiet = logging.getLogger("test.confluent")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    producer = confluent_kafka.Producer({**conf, "logger": quiet})  # librdkafka checks every key
    assert producer.flush(0) == 0
    want = ProducerConfig.from_dict(props)
    assert conf["enable.idempotence"] is want.get("enable.idempotence") \
        if "enable.idempotence" in conf else want.get("enable.idempotence") is False
    assert conf.get("message.timeout.ms") == want.get("delivery.timeout.ms")


def test_a_setting_without_an_equivalent_is_said_in_the_export():
    out = export.export_all({"partitioner.ignore.keys": "true"})
    assert "# not set: partitioner.ignore.keys: no equivalent" in out.confluent
    assert "partitioner.ignore.keys" not in _assigned_dict(out.confluent, "conf")
    assert "# not set: partitioner.ignore.keys" in out.kafka_python
def test_an_unknown_key_is_left_out_with_kafkas_warning():
    """Kafka accepts linger.msec and ignores it; the export says so prominently, writes it
    nowhere (kafka-python and librdkafka would refuse it) and exports the rest."""
    result = export.export_all({"linger.msec": "50", "batch.size": "65536"})
    assert result.unknown == ["linger.msec"]
    assert result.warnings == ["Kafka would ignore `linger.msec` — did you mean `linger.ms`?"]
    for text in (result.properties, result.spring_yaml, result.java, result.confluent,
                 result.kafka_python):
        assert "linger.msec" not in text
    assert "batch.size=65536" in result.properties


def test_the_export_page_shows_the_warning(client, db):
    r = client.get("/export/", {"linger.msec": "50", "batch.size": "65536"})
    assert r.status_code == 200
    body = r.content.decode()
    assert 'class="warning-box"' in body
    assert "Kafka would ignore `linger.msec` — did you mean `linger.ms`?" in body
