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
