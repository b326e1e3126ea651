"""DESIGN §4, the public contract, exactly as written — and the package docstring's
example, which a learner pastes."""

from __future__ import annotations

import pytest

import producer_core
from producer_core import Producer, ProducerConfig, ProducerRecord, RecordMetadata, Simulation
from producer_core.errors import (
    BufferExhaustedError,
    ConfigError,
    KafkaTimeoutError,
    RecordTooLargeError,
)


def test_design_section_4_as_written(stored):
    cfg = ProducerConfig.from_dict({"batch.size": 16384, "linger.ms": 10,
                                    "compression.type": "lz4"})
    d = cfg.to_dict()
    assert d["batch.size"] == 16384 and d["linger.ms"] == 10 and d["acks"] == "all"
    sim = Simulation(config=cfg, brokers=3, topics={"orders": 6},
                     replication_factor=3, seed=42)
    fut = sim.producer.send("orders", value=b"...", key=b"k",
                            headers=[("trace", b"1")], partition=None, timestamp_ms=None)
    sim.run_for(50)
    sim.producer.flush()
    assert fut.done()
    md = fut.result()
    assert isinstance(md, RecordMetadata)
    topic, partition, offset, timestamp_ms = md[:4]
    assert topic == "orders" and 0 <= partition < 6 and offset == 0 and timestamp_ms >= 0
    assert fut.exception() is None
    assert isinstance(sim.now_ms, int)
    m = sim.producer.metrics()
    assert m["record-send-total"] == 1 and "batch-size-avg" in m
    sim.cluster.stop_broker(2)
    sim.cluster.start_broker(2)
    assert sim.cluster.leader("orders", partition) in (1, 2, 3)
    logged = sim.cluster.log("orders", partition)
    assert isinstance(logged, list) and all(isinstance(b, bytes) for b in logged)
    (rec,) = stored(sim, "orders", partition)
    assert (rec.key, rec.value, rec.headers) == (b"k", b"...", [("trace", b"1")])
    assert rec.compression == 3  # lz4's codec id in the attributes
    assert isinstance(sim.snapshot(), dict)
    got = []
    unsubscribe = sim.events.subscribe(got.append)
    sim.producer.send("orders", value=b"x")
    sim.producer.flush()
    unsubscribe()
    assert any(e.kind == "batch.completed" for e in got)


def test_the_error_classes_of_section_4():
    with pytest.raises(ConfigError):
        ProducerConfig.from_dict({"acks": "most"})
    assert issubclass(BufferExhaustedError, KafkaTimeoutError)
    assert RecordTooLargeError.__name__ == "RecordTooLargeError"


def test_the_package_exports():
    assert set(producer_core.__all__) >= {"Simulation", "ProducerConfig", "Producer",
                                          "RecordMetadata", "ProducerRecord"}
    assert Producer and ProducerRecord


def test_the_docstring_example_runs(capsys):
    doc = producer_core.__doc__
    block = doc.split("::", 1)[1].split("The public API", 1)[0]
    code = "\n".join(line[4:] for line in block.splitlines()).strip()
    assert len([line for line in code.splitlines() if line.strip()]) >= 10
    exec(compile(code, "<producer_core docstring>", "exec"), {})  # noqa: S102 (our own doc)
    out = capsys.readouterr().out
    assert "RecordMetadata" in out or "orders-" in out
    assert "ms of virtual time" in out
