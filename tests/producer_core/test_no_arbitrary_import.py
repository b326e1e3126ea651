"""Issue 8: a configuration value given as text never imports or calls outside producer_core."""
import sys

import pytest

from producer_core.config import ConfigError, ProducerConfig

DANGEROUS = ["shutil.rmtree", "os.system", "subprocess.Popen", "builtins.exec", "this.s"]
KEYS = ["value.serializer", "key.serializer", "partitioner.class", "interceptor.classes"]


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("name", DANGEROUS)
def test_from_dict_refuses_names_outside_the_engine(key: str, name: str) -> None:
    sys.modules.pop("this", None)
    with pytest.raises(ConfigError) as info:
        ProducerConfig.from_dict({key: name})
    assert key in str(info.value)
    assert "this" not in sys.modules


def test_engine_function_is_not_a_plugin() -> None:
    with pytest.raises(ConfigError):
        ProducerConfig.from_dict({"value.serializer": "producer_core.config.resolve_dotted"})


def test_engine_class_still_resolves() -> None:
    cfg = ProducerConfig.from_dict(
        {"partitioner.class": "producer_core.partitioner.RoundRobinPartitioner"})
    assert cfg is not None


# ---- the explicit allow-list (producer_core.plugins) ------------------------------------

import subprocess

from producer_core import plugins


@pytest.mark.parametrize("key", KEYS)
def test_the_refusal_names_the_allowed_choices(key: str) -> None:
    with pytest.raises(ConfigError) as info:
        ProducerConfig.from_dict({key: "subprocess.Popen"})
    text = str(info.value)
    kind = {"partitioner.class": "partitioner", "interceptor.classes": "interceptor"}.get(
        key, "serializer")
    assert f"not one of the allowed {kind}s" in text
    assert plugins.allowed_names(kind)[0] in text
    assert "allow_import=True" in text


def test_a_module_not_yet_imported_stays_unimported() -> None:
    name = "tabnanny"
    assert name not in sys.modules  # (nothing in the engine imports it)
    for key in KEYS:
        with pytest.raises(ConfigError):
            ProducerConfig.from_dict({key: f"{name}.check"})
    assert name not in sys.modules


@pytest.mark.parametrize("name, cls", [
    ("org.apache.kafka.common.serialization.StringSerializer", "StringSerializer"),
    ("org.apache.kafka.common.serialization.ByteArraySerializer", "ByteArraySerializer"),
    ("org.apache.kafka.common.serialization.IntegerSerializer", "IntegerSerializer"),
    ("org.apache.kafka.common.serialization.LongSerializer", "LongSerializer"),
    ("org.apache.kafka.common.serialization.UUIDSerializer", "UUIDSerializer"),
    ("string", "StringSerializer"), ("json", "JsonSerializer"),
    ("producer_core.serializers.DoubleSerializer", "DoubleSerializer"),
])
def test_kafka_serializer_names_map_to_ours(name: str, cls: str) -> None:
    assert plugins.lookup("serializer", name).__name__ == cls
    cfg = ProducerConfig.from_dict({"value.serializer": name})
    assert cfg.value_serializer == name


def test_partitioners_and_teaching_interceptors_by_name() -> None:
    from producer_core import Simulation

    sim = Simulation(config={
        "partitioner.class": "org.apache.kafka.clients.producer.RoundRobinPartitioner",
        "interceptor.classes": "counting,producer_core.interceptors.HeaderInterceptor",
        "value.serializer": "string"}, topics={"t": 3}, seed=1)
    futs = [sim.producer.send("t", value=f"v{i}") for i in range(6)]
    sim.producer.flush()
    assert [f.result().partition for f in futs] == [0, 1, 2, 0, 1, 2]
    counting, _header = sim.producer.interceptors.interceptors
    assert counting.counts() == {"on_send": 6, "acknowledged": 6, "errors": 0}
    from tests.producer_core.conftest import stored_records

    recs = stored_records(sim, "t", 0)
    # each interceptor of the chain adds its own header, in the chain's order
    assert recs[0].headers == [("lab-seq", b"1"), ("interceptor-seq", b"1")]


def test_python_callers_opt_in_to_imports_or_pass_objects() -> None:
    import json

    cfg = ProducerConfig.from_dict({"value.serializer": "json.dumps"}, allow_import=True)
    assert cfg.value_serializer is json.dumps
    # the imported object survives a rebuild (with_overrides re-validates originals)
    assert cfg.with_overrides({"linger.ms": 7}).value_serializer is json.dumps
    assert ProducerConfig.from_dict({"value.serializer": json.dumps}).value_serializer \
        is json.dumps
    with pytest.raises(ConfigError, match="allow_import"):
        ProducerConfig.from_dict({"value.serializer": "json.dumps"})
    assert subprocess  # imported by this test module itself, not by the engine
