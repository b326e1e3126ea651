"""Answers the engine computes: each quiz question names one of these experiments.

An experiment builds a small seeded Simulation (DESIGN §4 API), sends records, drives
virtual time and counts what the producer did from its events. Results are cached per
(name, parameters): the engine is deterministic, so the same question has one answer.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from functools import lru_cache

from .engine import attach


class UnknownComputation(KeyError):
    pass


def _sim(params: dict):
    from producer_core import ProducerConfig, Simulation

    brokers = int(params.get("brokers", 1))
    return Simulation(config=ProducerConfig.from_dict(params.get("config", {})),
                      brokers=brokers, topics={"t": int(params.get("partitions", 1))},
                      replication_factor=min(3, brokers), seed=int(params.get("seed", 1)))


def _values(params: dict) -> list[bytes]:
    n = int(params["records"])
    size = int(params.get("value_bytes", 100))
    data = params.get("data", "fixed")
    if data == "fixed":
        return [b"x" * size] * n
    from producer_core.datagen import generate

    rng = random.Random(int(params.get("seed", 1)))
    return [generate(data, rng, size) for _ in range(n)]


def _burst(params: dict):
    """Send every record at once, then flush; returns (sim, stats)."""
    sim = _sim(params)
    st = attach(sim, 1)
    keyed = params.get("keys") == "distinct"
    for i, v in enumerate(_values(params)):
        sim.producer.send("t", value=v, key=(str(i).encode() if keyed else None))
    sim.producer.flush()
    return sim, st


def produce_requests(params: dict) -> float:
    """How many ProduceRequests the producer sends for a burst of records plus flush()."""
    return float(_burst(params)[1].requests)


def batches(params: dict) -> float:
    """How many batches a burst of records fills."""
    return float(_burst(params)[1].batches_created)


def linger_closes(params: dict) -> float:
    """Records arrive one every ``interval_ms`` to one partition; how many batches close
    because linger.ms expired (rather than because they were full)?"""
    return float(close_reasons(params).get("linger", 0))


def close_reasons(params: dict) -> dict[str, int]:
    """The ``linger_closes`` experiment's batches by close reason (what its explanation
    may claim: linger, full, flush...)."""
    sim = _sim(params)
    st = attach(sim, 1)
    interval = int(params["interval_ms"])
    for v in _values(params):
        sim.producer.send("t", value=v)
        sim.run_for(interval)
    sim.producer.flush()
    return dict(st.close_reasons)


def compression_rate(params: dict) -> float:
    """``compression-rate-avg`` after a burst: compressed ÷ uncompressed (lower is better)."""
    sim, _ = _burst(params)
    return round(float(sim.producer.metrics()["compression-rate-avg"]), 3)


COMPUTATIONS: dict[str, Callable[[dict], float]] = {
    "produce_requests": produce_requests,
    "batches": batches,
    "linger_closes": linger_closes,
    "compression_rate": compression_rate,
}


def answer(name: str, params: dict) -> float:
    """The engine's answer to computation ``name`` with ``params`` (cached)."""
    if name not in COMPUTATIONS:
        raise UnknownComputation(f"unknown computation {name!r}; known: {', '.join(COMPUTATIONS)}")
    return _cached(name, json.dumps(params, sort_keys=True))


@lru_cache(maxsize=256)
def _cached(name: str, params_json: str) -> float:
    return COMPUTATIONS[name](json.loads(params_json))
