"""Shared helpers for the engine tests: a seeded simulation in one line, and the stored
bytes decoded by kafka-python's ``DefaultRecordBatch`` — an implementation nobody here
wrote — as the oracle."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from kafka.record.default_records import DefaultRecordBatch

from producer_core import Simulation


@dataclass
class StoredRecord:
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list
    timestamp: int
    producer_id: int
    base_sequence: int
    compression: int


def oracle_batches(data_list: list[bytes]) -> list[DefaultRecordBatch]:
    """Every stored batch through kafka-python, CRC checked first."""
    out = []
    for data in data_list:
        b = DefaultRecordBatch(bytes(data))
        assert b.validate_crc(), "stored batch fails kafka-python's CRC check"
        out.append(b)
    return out


def stored_records(sim: Simulation, topic: str, partition: int) -> list[StoredRecord]:
    """The partition's log as kafka-python decodes it, in offset order."""
    recs = []
    for b in oracle_batches(sim.cluster.log(topic, partition)):
        for r in b:
            recs.append(StoredRecord(r.offset, r.key, r.value, list(r.headers), r.timestamp,
                                     b.producer_id, b.base_sequence, b.compression_type))
    return recs


def all_stored(sim: Simulation, topic: str) -> dict[int, list[StoredRecord]]:
    return {p: stored_records(sim, topic, p) for p in range(sim.cluster.topics()[topic])}


@pytest.fixture
def make_sim():
    """``make_sim(config={...}, topics={...}, seed=...)`` with small, fast defaults."""

    def make(config: dict | None = None, *, topics: dict | None = None, brokers: int = 3,
             replication_factor: int = 3, seed: int = 7, **kw) -> Simulation:
        return Simulation(config=config or {}, brokers=brokers,
                          topics=topics or {"orders": 3},
                          replication_factor=replication_factor, seed=seed, **kw)

    return make


def _warm(sim: Simulation, topic: str = "orders") -> None:
    """Load the topic's metadata (and the producer id) so sends do not block."""
    sim.producer.partitions_for(topic)
    sim.run_for(20)


@pytest.fixture
def warm():
    """``warm(sim, topic)``: metadata and producer id loaded, so sends do not block."""
    return _warm


@pytest.fixture
def stored():
    """``stored(sim, topic, partition)``: the log decoded by kafka-python (the oracle)."""
    return stored_records


@pytest.fixture
def stored_all():
    """``stored_all(sim, topic)``: {partition: records} decoded by kafka-python."""
    return all_stored
