"""ProducerConfig: Kafka 4.x defaults, Kafka's parsing and validation (scenarios after
ProducerConfigTest, KafkaProducerTest's idempotence/delivery-timeout cases and
CommonClientConfigsTest), errors that name key, value and rule."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from producer_core.config import (
    CONFIG_KEYS,
    GROUPS,
    ProducerConfig,
    config_keys_by_group,
    format_value,
    parse_value,
    suggest_key,
)
from producer_core.errors import ConfigError
from producer_core.interceptors import ProducerInterceptor

KAFKA_4_DEFAULTS = {
    "batch.size": 16384, "linger.ms": 5, "buffer.memory": 33554432, "max.block.ms": 60000,
    "compression.type": "none", "compression.gzip.level": -1, "compression.lz4.level": 9,
    "compression.zstd.level": 3, "acks": "all", "enable.idempotence": True,
    "retries": 2147483647, "delivery.timeout.ms": 120000, "request.timeout.ms": 30000,
    "max.in.flight.requests.per.connection": 5, "max.request.size": 1048576,
    "retry.backoff.ms": 100, "retry.backoff.max.ms": 1000, "reconnect.backoff.ms": 50,
    "reconnect.backoff.max.ms": 1000, "metadata.max.age.ms": 300000,
    "metadata.max.idle.ms": 300000, "partitioner.adaptive.partitioning.enable": True,
    "partitioner.availability.timeout.ms": 0, "partitioner.ignore.keys": False,
    "partitioner.class": None, "interceptor.classes": [],
}


def test_no_arguments_is_kafka_4_defaults():
    cfg = ProducerConfig()
    d = cfg.to_dict()
    for name, value in KAFKA_4_DEFAULTS.items():
        assert d[name] == value, name
    assert set(d) == set(CONFIG_KEYS)
    assert cfg.batch_size == 16384 and cfg.linger_ms == 5
    assert cfg.acks == -1 and cfg.enable_idempotence is True
    assert cfg.compression_type == "none" and cfg.compression_level is None
    assert cfg.explicit == frozenset() and cfg.notes == ()
    assert cfg.key_serializer == "bytes" and cfg.value_serializer == "bytes"
    assert cfg.client_id == "producer-1"
    assert ProducerConfig() == ProducerConfig.from_dict({}) == ProducerConfig.from_dict(None)


def test_property_strings_are_coerced_like_kafka():
    cfg = ProducerConfig.from_dict({
        "batch.size": "32768", "linger.ms": " 20 ", "acks": "all", "enable.idempotence": "TRUE",
        "compression.type": "lz4", "buffer.memory": "67108864", "retries": "10",
        "interceptor.classes": "producer_core.interceptors.ProducerInterceptor",
        "security.protocol": "ssl",
    })
    assert (cfg.batch_size, cfg.linger_ms, cfg.acks) == (32768, 20, -1)
    assert cfg.enable_idempotence is True and cfg.retries == 10
    assert cfg.compression_type == "lz4" and cfg.compression_level == 9
    assert cfg.buffer_memory == 67108864
    assert cfg.interceptor_classes == ("producer_core.interceptors.ProducerInterceptor",)
    assert cfg.security_protocol == "SSL"  # Kafka compares it case-insensitively
    assert cfg.explicit == frozenset({
        "batch.size", "linger.ms", "acks", "enable.idempotence", "compression.type",
        "buffer.memory", "retries", "interceptor.classes", "security.protocol"})


@pytest.mark.parametrize("given, attr, expected", [
    ({"acks": "1"}, "acks", 1), ({"acks": 0}, "acks", 0), ({"acks": "-1"}, "acks", -1),
    ({"acks": -1}, "acks", -1),
    ({"compression.type": "gzip"}, "compression_level", 6),
    ({"compression.type": "gzip", "compression.gzip.level": "9"}, "compression_level", 9),
    ({"compression.type": "zstd", "compression.zstd.level": -7}, "compression_level", -7),
    ({"compression.type": "lz4", "compression.lz4.level": 17}, "compression_level", 17),
    ({"compression.type": "snappy"}, "compression_level", None),
    ({"partitioner.ignore.keys": "true"}, "partitioner_ignore_keys", True),
    ({"bootstrap.servers": "b1:9092, b2:9092"}, "bootstrap_servers", ("b1:9092", "b2:9092")),
    ({"linger.ms": 2**40}, "linger_ms", 2**40),  # linger.ms is a LONG in Kafka
])
def test_values(given, attr, expected):
    assert getattr(ProducerConfig.from_dict(given), attr) == expected


@pytest.mark.parametrize("given, message", [
    ({"max.in.flight.requests.per.connection": 0},
     ("Invalid value 0 for configuration max.in.flight.requests.per.connection: "
     "Value must be at least 1")),
    ({"batch.size": "big"}, "Invalid value big for configuration batch.size: Not a number"),
    ({"batch.size": True}, "Invalid value true for configuration batch.size: Expected a 32-bit"),
    ({"batch.size": 1.5}, "batch.size: Expected a 32-bit integer, but it was a float"),
    ({"batch.size": -1}, "batch.size: Value must be at least 0"),
    ({"batch.size": 2**31}, "batch.size: Not a number of type INT"),
    ({"batch.size": "1_000"}, "batch.size: Not a number of type INT"),
    ({"linger.ms": -5}, "linger.ms: Value must be at least 0"),
    ({"metadata.max.idle.ms": 4999}, "metadata.max.idle.ms: Value must be at least 5000"),
    ({"retries": -1}, "retries: Value must be at least 0"),
    ({"acks": "2"}, "Invalid value 2 for configuration acks: String must be one of: all, -1, 0, 1"),
    ({"acks": "ALL"}, "acks: String must be one of"),
    ({"acks": 5}, "acks: String must be one of"),
    ({"enable.idempotence": "yes"}, "enable.idempotence: Expected value to be either true or false"),
    ({"enable.idempotence": 1}, "enable.idempotence: Expected value to be either true or false"),
    ({"compression.type": "abc"}, "compression.type: String must be one of: none, gzip, snappy, lz4, zstd"),
    ({"compression.type": "LZ4"}, "compression.type: String must be one of"),
    ({"compression.type": 3}, "compression.type: Expected value to be a string"),
    ({"compression.gzip.level": 0}, "compression.gzip.level: Value must be between 1 and 9, or -1"),
    ({"compression.gzip.level": 10}, "compression.gzip.level"),
    ({"compression.lz4.level": 18}, "compression.lz4.level: Value must be no more than 17"),
    ({"compression.zstd.level": 23}, "compression.zstd.level: Value must be no more than 22"),
    ({"compression.zstd.level": -131073}, "compression.zstd.level: Value must be at least -131072"),
    ({"security.protocol": "abc"}, "security.protocol: String must be one of"),
    ({"value.serializer": "foo"}, "value.serializer: unknown serializer 'foo'"),
    ({"key.serializer": None}, "key.serializer: must be non-null"),
    ({"interceptor.classes": "a.B,a.B"}, "interceptor.classes: Duplicate entries"),
    ({"interceptor.classes": "no.such.Interceptor"}, "Class no.such.Interceptor cannot be found"),
    ({"partitioner.class": "org.apache.kafka.clients.producer.internals.DefaultPartitioner"},
     "removed in Kafka 4.0"),
])
def test_invalid_values_name_key_value_and_rule(given, message):
    with pytest.raises(ConfigError) as err:
        ProducerConfig.from_dict(given)
    assert message in str(err.value)
    assert isinstance(err.value, ValueError)  # also a ValueError for generic callers


def test_error_carries_key_value_and_rule():
    with pytest.raises(ConfigError) as err:
        ProducerConfig.from_dict({"max.in.flight.requests.per.connection": 0})
    assert err.value.key == "max.in.flight.requests.per.connection"
    assert err.value.value == 0
    assert err.value.rule == "Value must be at least 1"


@pytest.mark.parametrize("key, suggestion", [
    ("linger", "linger.ms"), ("batch_size", "batch.size"),
    ("compresion.type", "compression.type"),
    ("max.inflight.requests", "max.in.flight.requests.per.connection"),
    ("acks.all", "acks"),
])
def test_unknown_keys_suggest_the_closest(key, suggestion):
    assert suggest_key(key) == suggestion
    with pytest.raises(ConfigError, match=f"Unknown producer configuration '{key}'") as err:
        ProducerConfig.from_dict({key: 1}, strict=True)
    if suggestion:
        assert f"did you mean `{suggestion}`?" in str(err.value)


def test_unknown_key_without_a_near_match():
    with pytest.raises(ConfigError) as err:
        ProducerConfig.from_dict({"zzzz": 1}, strict=True)
    assert "did you mean" not in str(err.value)
    assert "zzzz" in str(err.value)


def test_unknown_keys_are_accepted_and_ignored_as_kafka_does():
    """Kafka's AbstractConfig keeps unknown keys in originals and only logs them
    (logUnused): a typo such as linger.msec silently does nothing."""
    cfg = ProducerConfig.from_dict({"linger.msec": 50, "batch.size": 1000, "zzzz": "x"})
    assert cfg.unknown_keys == ("linger.msec", "zzzz")
    assert cfg.linger_ms == 5  # the default: the typo changed nothing
    assert cfg.batch_size == 1000
    assert "linger.msec" not in cfg.to_dict()
    assert cfg.warnings == ("Kafka would ignore `linger.msec` — did you mean `linger.ms`?",
                            "Kafka would ignore `zzzz` — it is not a producer setting")
    assert cfg.unused_log == ("These configurations 'linger.msec,zzzz' were supplied but "
                              "are not used yet.")
    assert ProducerConfig.from_dict({"linger.ms": 1}).unknown_keys == ()
    # kept across overrides, dropped when set to None
    again = cfg.with_overrides({"linger.ms": 7})
    assert again.unknown_keys == ("linger.msec", "zzzz") and again.linger_ms == 7
    assert cfg.with_overrides({"linger.msec": None, "zzzz": None}).unknown_keys == ()


def test_strict_names_every_unknown_key():
    with pytest.raises(ConfigError) as err:
        ProducerConfig.from_dict({"linger.msec": 5, "batch.sise": 1, "acks": "all"},
                                 strict=True)
    assert "'linger.msec', 'batch.sise'" in str(err.value)
    assert "did you mean `batch.size`?" in str(err.value)


def test_known_keys_keep_kafkas_validation_beside_unknown_ones():
    with pytest.raises(ConfigError, match="linger.ms"):
        ProducerConfig.from_dict({"linger.msec": 5, "linger.ms": -1})


def test_python_keyword_names_stay_strict():
    with pytest.raises(ConfigError, match="did you mean linger.ms"):
        ProducerConfig(linger_msec=5)


def test_the_simulation_logs_kafkas_unused_line():
    from producer_core import Simulation

    sim = Simulation(config={"linger.msec": 50}, topics={"t": 1}, seed=1)
    snap = sim.snapshot()
    assert snap["warnings"] == ["Kafka would ignore `linger.msec` — did you mean `linger.ms`?"]
    texts = [e["text"] for e in snap["timeline"]["events"]]
    assert "These configurations 'linger.msec' were supplied but are not used yet." in texts
    seen = []
    sim.events.subscribe(seen.append, ["config.unused"])
    sim.reconfigure({"batch.size": 100})
    assert [e.data["keys"] for e in seen] == [["linger.msec"]]


def test_transactions_are_refused_as_a_simplification():
    with pytest.raises(ConfigError, match="transactions are not simulated"):
        ProducerConfig.from_dict({"transactional.id": "tx-1"})


# ---- idempotence (KafkaProducerTest / ProducerConfig.postProcessAndValidateIdempotenceConfigs)

@pytest.mark.parametrize("given, why", [
    ({"acks": "1"}, "acks=1"), ({"acks": 0}, "acks=0"), ({"retries": 0}, "retries=0"),
    ({"acks": "1", "retries": "0"}, "retries=0 and acks=1"),
])
def test_default_idempotence_is_switched_off_with_a_note(given, why):
    cfg = ProducerConfig.from_dict(given)
    assert cfg.enable_idempotence is False
    assert cfg.to_dict()["enable.idempotence"] is False
    assert f"enable.idempotence was switched off because {why} (it was not set explicitly)" \
        in cfg.notes


@pytest.mark.parametrize("given, message", [
    ({"enable.idempotence": True, "acks": "1"}, "configuration acks: Must be all"),
    ({"enable.idempotence": "true", "acks": 0}, "configuration acks: Must be all"),
    ({"enable.idempotence": True, "retries": 0}, "configuration retries: Must be non-zero"),
    ({"max.in.flight.requests.per.connection": 6},
     "max.in.flight.requests.per.connection: To use the idempotent producer"),
    ({"enable.idempotence": True, "max.in.flight.requests.per.connection": 10},
     "Invalid value 10 for configuration max.in.flight.requests.per.connection"),
    # Kafka 4.x checks in-flight before switching idempotence off for acks
    ({"acks": "1", "max.in.flight.requests.per.connection": 6}, "must be at most 5"),
])
def test_idempotence_conflicts_are_errors(given, message):
    with pytest.raises(ConfigError, match=message):
        ProducerConfig.from_dict(given)


def test_idempotence_off_allows_the_rest():
    cfg = ProducerConfig.from_dict({"enable.idempotence": False, "acks": 1,
                                    "max.in.flight.requests.per.connection": 20,
                                    "retries": 0})
    assert cfg.enable_idempotence is False
    assert cfg.max_in_flight_requests_per_connection == 20
    assert cfg.notes == ()


# ---- delivery timeout (KafkaProducer.configureDeliveryTimeout) -------------------------

def test_explicit_delivery_timeout_below_linger_plus_request_timeout_is_an_error():
    with pytest.raises(ConfigError, match=r"delivery.timeout.ms: Value must be equal to or "
                                          r"larger than linger.ms \+ request.timeout.ms "
                                          r"\(5 \+ 30000 = 30005\)"):
        ProducerConfig.from_dict({"delivery.timeout.ms": 30004})
    assert ProducerConfig.from_dict({"delivery.timeout.ms": 30005}).delivery_timeout_ms == 30005


def test_default_delivery_timeout_is_raised_silently_with_a_note():
    cfg = ProducerConfig.from_dict({"linger.ms": 1000, "request.timeout.ms": 120000})
    assert cfg.delivery_timeout_ms == 121000
    assert any("delivery.timeout.ms was raised from 120000 to 121000" in n for n in cfg.notes)
    huge = ProducerConfig.from_dict({"linger.ms": 2**40})  # capped at Integer.MAX_VALUE
    assert huge.delivery_timeout_ms == 2**31 - 1


# ---- backoff post-processing (CommonClientConfigs) ---------------------------------------

def test_reconnect_backoff_alone_disables_exponential_backoff():
    cfg = ProducerConfig.from_dict({"reconnect.backoff.ms": 200})
    assert cfg.reconnect_backoff_max_ms == 200
    assert any("reconnect.backoff.max.ms was set" in n for n in cfg.notes)
    both = ProducerConfig.from_dict({"reconnect.backoff.ms": 200,
                                     "reconnect.backoff.max.ms": 5000})
    assert both.reconnect_backoff_max_ms == 5000


def test_retry_backoff_above_its_max_is_noted():
    cfg = ProducerConfig.from_dict({"retry.backoff.ms": 2000})
    assert cfg.retry_backoff_ms == 2000 and cfg.retry_backoff_max_ms == 1000
    assert any("fixed backoff of 1000 ms" in n for n in cfg.notes)


def test_notes_for_settings_without_effect():
    cfg = ProducerConfig.from_dict({"send.buffer.bytes": 65536, "compression.type": "gzip",
                                    "compression.zstd.level": 10})
    assert "send.buffer.bytes is accepted but has no effect in the simulation" in cfg.notes
    assert "compression.zstd.level has no effect because compression.type=gzip" in cfg.notes


# ---- the object ---------------------------------------------------------------------------

def test_immutable_and_with_overrides_revalidates():
    cfg = ProducerConfig.from_dict({"acks": "1"})
    with pytest.raises(AttributeError, match="immutable"):
        cfg.batch_size = 1  # type: ignore[misc]
    d = cfg.to_dict()
    d["batch.size"] = 1
    assert cfg.batch_size == 16384
    back = cfg.with_overrides({"acks": "all"})
    assert back.enable_idempotence is True and back.notes == ()
    assert cfg.enable_idempotence is False  # the original did not change
    assert back.explicit == frozenset({"acks"})
    with pytest.raises(ConfigError):
        cfg.with_overrides({"linger.ms": -1})
    bigger = cfg.with_overrides({"batch.size": "65536"})
    assert bigger.batch_size == 65536 and bigger.acks == 1


@pytest.mark.parametrize("given", [
    {}, {"acks": "1"}, {"linger.ms": 100, "request.timeout.ms": 120000},
    {"compression.type": "zstd", "compression.zstd.level": 9, "batch.size": 131072},
    {"reconnect.backoff.ms": 10}, {"enable.idempotence": False, "retries": 0},
    {"interceptor.classes": [ProducerInterceptor], "key.serializer": "string"},
])
def test_to_dict_round_trips(given):
    cfg = ProducerConfig.from_dict(given)
    again = ProducerConfig.from_dict(cfg.to_dict())
    assert again == cfg
    assert again.to_dict() == cfg.to_dict()


def test_python_names_equality_hash_pickle():
    a = ProducerConfig(linger_ms=10, compression_type="lz4")
    b = ProducerConfig.from_dict({"linger.ms": "10", "compression.type": "lz4"})
    assert a == b and hash(a) == hash(b)
    assert a != ProducerConfig()
    assert pickle.loads(pickle.dumps(a)) == a
    assert "linger.ms" in repr(a)
    with pytest.raises(ConfigError, match="did you mean linger.ms"):
        ProducerConfig(linger=10)
    assert ProducerConfig(**{"linger.ms": 10, "compression.type": "lz4"}) == a
    with pytest.raises(ConfigError, match="mapping"):
        ProducerConfig.from_dict([("linger.ms", 1)])  # type: ignore[arg-type]


def test_properties_text_in_and_out():
    text = """
    # a producer.properties file
    bootstrap.servers=localhost:9092
    acks=1
    linger.ms = 25
    compression.type: zstd
    """
    cfg = ProducerConfig.from_properties(text)
    assert (cfg.acks, cfg.linger_ms, cfg.compression_type) == (1, 25, "zstd")
    out = cfg.to_properties(only_changed=True)
    assert "acks=1\n" in out and "linger.ms=25\n" in out and "enable.idempotence=false\n" in out
    assert "batch.size" not in out
    assert ProducerConfig.from_properties(cfg.to_properties()) == cfg
    with pytest.raises(ConfigError, match="line 2: expected key=value"):
        ProducerConfig.from_properties("acks=1\nnonsense\n")


def test_parse_value_for_inline_validation():
    assert parse_value("batch.size", "65536") == 65536
    assert parse_value("acks", "all") == -1
    with pytest.raises(ConfigError, match="linger.ms: Value must be at least 0"):
        parse_value("linger.ms", "-3")
    assert format_value("acks", -1) == "all" and format_value("enable.idempotence", True) == "true"


def test_config_key_metadata_is_complete():
    groups = config_keys_by_group()
    assert list(groups) == list(GROUPS)
    cfg = ProducerConfig()
    for name, key in CONFIG_KEYS.items():
        assert key.name == name
        assert key.group in GROUPS and key.importance in ("high", "medium", "low")
        assert key.doc and key.doc.endswith(".")
        assert hasattr(cfg, key.attr), key.attr
        assert key.rule
    assert CONFIG_KEYS["linger.ms"].note and "KIP-1030" in CONFIG_KEYS["linger.ms"].note
    assert CONFIG_KEYS["max.in.flight.requests.per.connection"].rule == "at least 1"
    assert CONFIG_KEYS["compression.zstd.level"].rule == "between -131072 and 22"
    assert not CONFIG_KEYS["send.buffer.bytes"].simulated


# ---- anything a form or a file can send: a ConfigError or a valid config, nothing else ----

_values = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**64), 2**64), st.floats(allow_nan=True),
    st.text(max_size=12), st.sampled_from(["all", "1", "0", "-1", "true", "false", "lz4",
                                           "zstd", "16384", " 5 ", "", "big", "1e3"]),
    st.lists(st.text(max_size=5), max_size=3), st.binary(max_size=4),
)
_keys = st.one_of(st.sampled_from(sorted(CONFIG_KEYS)), st.text(max_size=15))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_keys, _values, max_size=6))
def test_arbitrary_input_is_accepted_or_refused_clearly(given):
    try:
        cfg = ProducerConfig.from_dict(given)
    except ConfigError as err:
        assert str(err)
        return
    assert ProducerConfig.from_dict(cfg.to_dict()) == cfg
    assert cfg.explicit == frozenset(k for k in given if k in CONFIG_KEYS)
    assert cfg.unknown_keys == tuple(k for k in given if k not in CONFIG_KEYS)
