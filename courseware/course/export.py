"""Config export: one set of Kafka producer properties, five ways to write it down.

``export_all(props)`` turns Kafka property names → values (as the lab holds them) into
``producer.properties``, a Spring Boot ``application.yml``, a Java ``ProducerFactory``
bean, a confluent-kafka (librdkafka) config dict and kafka-python keyword arguments.

The mapping tables below are the tested part. Where another client has a setting with the
same *name* but a different *meaning* (librdkafka's ``batch.size``), or only a distant
relative (``queue.buffering.max.kbytes`` is not ``buffer.memory``), the output says so in
a comment next to the line, and :data:`DIFFERENCES` explains it on the page.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass, field

# Spring Boot's KafkaProperties.Producer binds these Kafka keys as first-class
# `spring.kafka.producer.*` properties (checked against Spring Boot's KafkaProperties:
# acks, batch-size, bootstrap-servers, buffer-memory, client-id, compression-type,
# key-serializer, value-serializer, retries, transaction-id-prefix). Everything else
# goes under `spring.kafka.producer.properties`.
SPRING_FIRST_CLASS: dict[str, str] = {
    "acks": "acks",
    "batch.size": "batch-size",
    "buffer.memory": "buffer-memory",
    "client.id": "client-id",
    "compression.type": "compression-type",
    "retries": "retries",
}

# org.apache.kafka.clients.producer.ProducerConfig constants; other keys are written as
# string literals (always valid Java, and immune to constant renames).
JAVA_CONSTANTS: dict[str, str] = {
    "bootstrap.servers": "BOOTSTRAP_SERVERS_CONFIG",
    "acks": "ACKS_CONFIG",
    "batch.size": "BATCH_SIZE_CONFIG",
    "linger.ms": "LINGER_MS_CONFIG",
    "buffer.memory": "BUFFER_MEMORY_CONFIG",
    "compression.type": "COMPRESSION_TYPE_CONFIG",
    "max.block.ms": "MAX_BLOCK_MS_CONFIG",
    "retries": "RETRIES_CONFIG",
    "delivery.timeout.ms": "DELIVERY_TIMEOUT_MS_CONFIG",
    "request.timeout.ms": "REQUEST_TIMEOUT_MS_CONFIG",
    "enable.idempotence": "ENABLE_IDEMPOTENCE_CONFIG",
    "max.in.flight.requests.per.connection": "MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION",
    "max.request.size": "MAX_REQUEST_SIZE_CONFIG",
    "retry.backoff.ms": "RETRY_BACKOFF_MS_CONFIG",
    "metadata.max.age.ms": "METADATA_MAX_AGE_CONFIG",
}
JAVA_LONG_KEYS = {"buffer.memory", "linger.ms", "max.block.ms", "retry.backoff.ms",
                  "retry.backoff.max.ms", "metadata.max.age.ms",
                  "partitioner.availability.timeout.ms"}

# librdkafka (confluent-kafka): Kafka key -> (librdkafka key or None, note or "").
LIBRDKAFKA: dict[str, tuple[str | None, str]] = {
    "bootstrap.servers": ("bootstrap.servers", ""),
    "client.id": ("client.id", ""),
    "acks": ("acks", ""),
    "linger.ms": ("linger.ms", "alias of queue.buffering.max.ms; librdkafka's default is 5"),
    "batch.size": ("batch.size", ("librdkafka caps a whole MessageSet by bytes (default "
                   "1000000) and also by batch.num.messages (default 10000)")),
    "buffer.memory": ("queue.buffering.max.kbytes", ("NOT buffer.memory: a cap on queued "
                      "message bytes (in KB); when hit, produce() raises BufferError "
                      "at once instead of blocking")),
    "max.block.ms": (None, ("no equivalent: produce() never blocks for memory; catch "
                     "BufferError, call poll() and retry")),
    "compression.type": ("compression.type", ""),
    "compression.gzip.level": ("compression.level", "one level for whichever codec is on"),
    "compression.lz4.level": ("compression.level", "one level for whichever codec is on"),
    "compression.zstd.level": ("compression.level", "one level for whichever codec is on"),
    "enable.idempotence": ("enable.idempotence", "librdkafka's default is false"),
    "retries": ("retries", ""),
    "delivery.timeout.ms": ("message.timeout.ms", "librdkafka's default is 300000"),
    "request.timeout.ms": ("request.timeout.ms", ""),
    "max.in.flight.requests.per.connection": (
        "max.in.flight.requests.per.connection", ("librdkafka's default is 1000000 "
        "(at most 5 with idempotence)")),
    "max.request.size": ("message.max.bytes", ("librdkafka's request-size cap "
                         "(default 1000000)")),
    "retry.backoff.ms": ("retry.backoff.ms", ""),
    "retry.backoff.max.ms": ("retry.backoff.max.ms", ""),
    "metadata.max.age.ms": ("metadata.max.age.ms", "librdkafka's default is 900000"),
    "partitioner.ignore.keys": (None, ("no equivalent: librdkafka's partitioners always hash "
                                "a key when the record has one; send without a key instead")),
    "partitioner.adaptive.partitioning.enable": (None, "no equivalent"),
    "partitioner.availability.timeout.ms": (None, "no equivalent"),
}

# Kafka 4.x defaults another client does not share: the export writes them even when the
# lab left them at Kafka's default, so the exported client behaves like the lab's producer.
# client -> Kafka key -> the client's own default; pinned when the lab's value differs.
# kafka-python defaults to idempotence on, so acks=1 alone (Kafka then turns idempotence
# off silently) would make KafkaProducer refuse the export without enable_idempotence.
PINNED_DEFAULTS: dict[str, dict[str, object]] = {
    "confluent": {"enable.idempotence": False, "delivery.timeout.ms": 300000},
    "kafka_python": {"linger.ms": 0, "enable.idempotence": True},
}

# kafka-python (3.x) KafkaProducer keyword arguments; None = not supported.
KAFKA_PYTHON: dict[str, tuple[str | None, str]] = {
    "bootstrap.servers": ("bootstrap_servers", ""),
    "client.id": ("client_id", ""),
    "acks": ("acks", ""),
    "linger.ms": ("linger_ms", "kafka-python's default is 0, not Kafka 4.x's 5"),
    "batch.size": ("batch_size", ""),
    "buffer.memory": (None, "kafka-python 3.x has no buffer.memory setting"),
    "max.block.ms": ("max_block_ms", ""),
    "compression.type": ("compression_type", ""),
    "compression.gzip.level": (None, "not configurable"),
    "compression.lz4.level": (None, "not configurable"),
    "compression.zstd.level": (None, "not configurable"),
    "enable.idempotence": ("enable_idempotence", "kafka-python's default is True, as Kafka's"),
    "retries": ("retries", ""),
    "delivery.timeout.ms": ("delivery_timeout_ms", ""),
    "request.timeout.ms": ("request_timeout_ms", ""),
    "max.in.flight.requests.per.connection": ("max_in_flight_requests_per_connection", ""),
    "max.request.size": ("max_request_size", ""),
    "retry.backoff.ms": ("retry_backoff_ms", ""),
    "retry.backoff.max.ms": (None, "no exponential backoff cap setting"),
    "metadata.max.age.ms": ("metadata_max_age_ms", ""),
    "partitioner.ignore.keys": (None, "no equivalent"),
    "partitioner.adaptive.partitioning.enable": (None, "no equivalent"),
    "partitioner.availability.timeout.ms": (None, "no equivalent"),
}

DIFFERENCES: list[tuple[str, str]] = [
    ("buffer.memory vs queue.buffering.max.kbytes",
     ("Java's buffer.memory is a pool the batches are allocated from; when it is empty "
     "send() blocks for up to max.block.ms. librdkafka's queue.buffering.max.kbytes (with "
     "queue.buffering.max.messages) only caps what may wait in its queue, and a full queue "
     "makes produce() fail immediately with BufferError. Your code must handle that.")),
    ("batch.size in librdkafka",
     ("Same name, wider scope: librdkafka fills a MessageSet up to batch.size bytes and "
     "batch.num.messages records, per partition, default 1000000 bytes.")),
    ("linger.ms defaults",
     ("Kafka 4.x Java: 5 ms (KIP-1030; it was 0 before 4.0). librdkafka: 5 ms. "
     "kafka-python: 0 ms — so an unset linger.ms behaves differently in each client.")),
    ("Idempotence defaults",
     ("The Java client enables idempotence by default (acks=all, retries>0, in-flight<=5). "
     "librdkafka's enable.idempotence defaults to false.")),
    ("Keyed partitioning",
     ("Java hashes keys with murmur2. librdkafka's default partitioner is consistent_random "
     "(CRC32), so the same key can land on a different partition. Set "
     "partitioner=murmur2_random to match Java.")),
    ("Compression levels",
     ("Java has one level key per codec; librdkafka has a single compression.level; "
     "kafka-python has none.")),
]


class ExportError(ValueError):
    """The properties could not be read or Kafka would reject them."""


@dataclass
class Export:
    props: dict
    bootstrap: str
    properties: str = ""
    spring_yaml: str = ""
    java: str = ""
    confluent: str = ""
    kafka_python: str = ""
    notes: list[str] = field(default_factory=list)
    # keys Kafka does not know: accepted and ignored by Kafka, left out of every format
    warnings: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    omitted: list[str] = field(default_factory=list)  # given, but equal to Kafka's default
    skipped: list[str] = field(default_factory=list)  # engine-specific, not exportable


# Settings whose values name Python classes of the simulated producer; they have no meaning
# for a Java, librdkafka or kafka-python client, so the export leaves them out.
ENGINE_SPECIFIC = ("key.serializer", "value.serializer", "partitioner.class",
                   "interceptor.classes")


def parse_properties(text: str) -> dict:
    """Parse ``key=value`` lines (``#``/``!`` comments, ``:`` also allowed)."""
    out: dict = {}
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        sep = min((i for i in (line.find("="), line.find(":")) if i > 0), default=-1)
        if sep <= 0:
            raise ExportError(f"line {n}: expected key=value, got {line!r}")
        out[line[:sep].strip()] = line[sep + 1:].strip()
    return out


def validate(props: dict) -> tuple[dict, list[str]]:
    """Check the properties with the engine's ProducerConfig (Kafka's names, types, ranges
    and cross-field rules) and return (typed values of the given keys, notes).

    Values may be Python values or the strings of a properties file / query string.
    """
    from producer_core.config import ProducerConfig
    from producer_core.errors import ConfigError

    try:
        cfg = ProducerConfig.from_dict(props)
    except ConfigError as exc:
        raise ExportError(str(exc)) from exc
    effective = cfg.to_dict()
    typed = {k: effective[k] for k in props if k in effective}
    for k, v in typed.items():
        if isinstance(v, (list, tuple)):
            typed[k] = ",".join(str(x) for x in v)
    return typed, list(cfg.notes)


def unknown_keys(props: dict) -> tuple[list[str], list[str]]:
    """(keys Kafka does not know, one "Kafka would ignore …" warning each)."""
    from producer_core.config import ProducerConfig

    cfg = ProducerConfig.from_dict(props)
    return list(cfg.unknown_keys), list(cfg.warnings)


def export_all(props: dict, bootstrap: str = "localhost:9092") -> Export:
    """Validate, then render every format. Raises ExportError for bad input.

    Only settings that differ from Kafka 4.x's defaults are written (the lab passes its
    whole effective config); the rest are listed as omitted, so the output stays short
    and says exactly what was tuned.
    """
    from producer_core.config import ProducerConfig

    props = dict(props)
    props.pop("bootstrap.servers", None)
    if not bootstrap or any(c.isspace() for c in bootstrap):
        raise ExportError(f"bootstrap.servers {bootstrap!r} must be host:port[,host:port]")
    typed, notes = validate(props)
    effective = ProducerConfig.from_dict(props).to_dict()
    unknown, warnings = unknown_keys(props)
    defaults = ProducerConfig().to_dict()
    skipped = sorted(k for k in typed if k in ENGINE_SPECIFIC)
    omitted = sorted(k for k in typed if k not in ENGINE_SPECIFIC and typed[k] == defaults[k])
    ordered = {k: typed[k] for k in sorted(typed) if k not in skipped and k not in omitted}
    return Export(props=ordered, bootstrap=bootstrap, notes=notes, omitted=omitted,
                  skipped=skipped, warnings=warnings, unknown=unknown,
                  properties=to_properties(ordered, bootstrap),
                  spring_yaml=to_spring_yaml(ordered, bootstrap),
                  java=to_java(ordered, bootstrap),
                  confluent=to_confluent(_pinned(ordered, effective, "confluent"), bootstrap),
                  kafka_python=to_kafka_python(_pinned(ordered, effective, "kafka_python"),
                                               bootstrap))


def _pinned(props: dict, effective: dict, client: str) -> dict:
    """``props`` plus the Kafka defaults that ``client`` does not share (PINNED_DEFAULTS)."""
    out = dict(props)
    for key, theirs in PINNED_DEFAULTS[client].items():
        if key not in out and effective[key] != theirs:
            out[key] = effective[key]
    return out


def plain(v) -> str:
    """A value as a properties file writes it."""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def to_properties(props: dict, bootstrap: str) -> str:
    lines = ["# producer.properties (Apache Kafka 4.x Java client)",
             f"bootstrap.servers={bootstrap}"]
    lines += [f"{k}={plain(v)}" for k, v in props.items()]
    return "\n".join(lines) + "\n"


def _yaml_scalar(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    s = str(v)
    # Quote anything YAML could read as another type (all, none, numbers, yes/no...).
    return json.dumps(s)


def to_spring_yaml(props: dict, bootstrap: str) -> str:
    """Spring Boot ``application.yml``: first-class keys where Spring Boot has them, the rest
    under ``properties`` with bracketed keys so the dots survive binding."""
    first = {SPRING_FIRST_CLASS[k]: v for k, v in props.items() if k in SPRING_FIRST_CLASS}
    rest = {k: v for k, v in props.items() if k not in SPRING_FIRST_CLASS}
    lines = ["spring:", "  kafka:", f"    bootstrap-servers: {bootstrap}", "    producer:"]
    lines += [f"      {k}: {_yaml_scalar(v)}" for k, v in first.items()]
    if rest:
        lines.append("      properties:")
        lines += [f'        "[{k}]": {_yaml_scalar(v)}' for k, v in rest.items()]
    if not props:
        lines.append("      {}  # Kafka's defaults")
    return "\n".join(lines) + "\n"


def _java_value(key: str, v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return f"{v}L" if key in JAVA_LONG_KEYS else str(v)
    if isinstance(v, float):
        return repr(v)
    return json.dumps(str(v))


def to_java(props: dict, bootstrap: str) -> str:
    puts = [f'        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, {json.dumps(bootstrap)});',
            "        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);",
            "        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);"]
    for k, v in props.items():
        name = f"ProducerConfig.{JAVA_CONSTANTS[k]}" if k in JAVA_CONSTANTS else json.dumps(k)
        puts.append(f"        props.put({name}, {_java_value(k, v)});")
    body = "\n".join(puts)
    return f"""import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.core.ProducerFactory;

@Configuration
public class ProducerLabKafkaConfig {{

    @Bean
    public ProducerFactory<String, String> producerFactory() {{
        Map<String, Object> props = new HashMap<>();
{body}
        return new DefaultKafkaProducerFactory<>(props);
    }}

    @Bean
    public KafkaTemplate<String, String> kafkaTemplate(ProducerFactory<String, String> pf) {{
        return new KafkaTemplate<>(pf);
    }}
}}
"""


def confluent_dict(props: dict, bootstrap: str) -> tuple[dict, dict[str, str], list[str]]:
    """(librdkafka config, note per librdkafka key, Kafka keys with no equivalent)."""
    conf: dict = {"bootstrap.servers": bootstrap, "partitioner": "murmur2_random"}
    notes: dict[str, str] = {"partitioner": "hash keys like the Java client (murmur2)"}
    missing: list[str] = []
    codec = str(props.get("compression.type", "none"))
    for k, v in props.items():
        target, note = LIBRDKAFKA.get(k, (None, "unknown to librdkafka"))
        if target is None:
            missing.append(f"{k}: {note}")
            continue
        if target == "compression.level" and not k.startswith(f"compression.{codec}."):
            missing.append(f"{k}: applies only when compression.type={k.split('.')[1]}")
            continue
        if k == "buffer.memory":
            v = -(-int(v) // 1024)
        conf[target] = _librdkafka_value(k, v)
        if note:
            notes[target] = note
    return conf, notes, missing


def to_confluent(props: dict, bootstrap: str) -> str:
    conf, notes, missing = confluent_dict(props, bootstrap)
    lines = ["from confluent_kafka import Producer", "", "conf = {"]
    for k, v in conf.items():
        if k in notes:
            lines += _comment(notes[k], "    ")
        lines.append(f"    {json.dumps(k)}: {_py(v)},")
    lines.append("}")
    for m in missing:
        lines += _comment(f"not set: {m}")
    lines += ["producer = Producer(conf)"]
    return "\n".join(lines) + "\n"


def kafka_python_kwargs(props: dict, bootstrap: str) -> tuple[dict, dict[str, str], list[str]]:
    """(KafkaProducer keyword arguments, note per argument, Kafka keys not supported)."""
    kw: dict = {"bootstrap_servers": bootstrap}
    notes: dict[str, str] = {}
    missing: list[str] = []
    for k, v in props.items():
        target, note = KAFKA_PYTHON.get(k, (None, "unknown to kafka-python"))
        if target is None:
            missing.append(f"{k}: {note}")
            continue
        kw[target] = _kafka_python_value(k, v)
        if note:
            notes[target] = note
    return kw, notes, missing


def to_kafka_python(props: dict, bootstrap: str) -> str:
    kw, notes, missing = kafka_python_kwargs(props, bootstrap)
    lines = ["from kafka import KafkaProducer", "", "producer = KafkaProducer("]
    for k, v in kw.items():
        if k in notes:
            lines += _comment(notes[k], "    ")
        lines.append(f"    {k}={_py(v)},")
    lines.append(")")
    for m in missing:
        lines += _comment(f"not set: {m}")
    return "\n".join(lines) + "\n"


def _kafka_python_value(key: str, v):
    """A value as kafka-python's KafkaProducer wants it: acks 0, 1 or "all" (never the
    string "1", which it would put in a ProduceRequest as is), ints and booleans as such,
    compression None for "none"."""
    if key == "acks":
        text = str(v).strip().lower()
        return "all" if text in ("all", "-1") else int(text)
    if key == "compression.type":
        return None if str(v) == "none" else str(v)
    return _typed(v)


def _librdkafka_value(key: str, v):
    """A value as librdkafka reads it: acks "all" or an int, ints and booleans as such."""
    if key == "acks":
        text = str(v).strip().lower()
        return "all" if text in ("all", "-1") else int(text)
    return _typed(v)


def _typed(v):
    """Booleans and whole numbers from their text (a query string's "false" is truthy)."""
    if isinstance(v, str):
        low = v.strip().lower()
        if low in ("true", "false"):
            return low == "true"
        if low.lstrip("-").isdigit():
            return int(low)
    return v


def _comment(text: str, indent: str = "", width: int = 60) -> list[str]:
    """A note as Python comment lines short enough for the page's half-width columns."""
    return [f"{indent}# {line}" for line in textwrap.wrap(text, width)]


def _py(v) -> str:
    if isinstance(v, str):
        return json.dumps(v)
    return repr(v)
