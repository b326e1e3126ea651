"""flush() and close(timeout) from a thread that does not drive simulated time (the lab's
buttons), and the teaching interceptor the lab shows."""

from __future__ import annotations

import pytest

from producer_core import ProducerConfig, Simulation
from producer_core.interceptors import CountingInterceptor, chain_stats


def _sim(**config) -> Simulation:
    return Simulation(config=ProducerConfig.from_dict(config), brokers=3, topics={"t": 3},
                      replication_factor=3, seed=5)


def test_a_background_flush_closes_open_batches_at_once_with_reason_flush(stored):
    sim = _sim(**{"linger.ms": 1000})
    for i in range(30):
        sim.producer.send("t", value=b"v%d" % i, key=b"k%d" % i)
    sim.run_for(10)  # nowhere near linger.ms: every batch is still open
    assert all(b.close_reason is None for b in sim.producer.accumulator.incomplete.values())
    done = []
    waited = sim.producer.flush_in_background(on_done=done.append)
    assert waited == len(sim.producer.accumulator.incomplete) > 0
    sim.run_for(200)  # far less than linger.ms
    assert done and done[0] < 200
    reasons = {b["close_reason"] for b in sim.snapshot()["timeline"]["batches"]}
    assert reasons == {"flush"}
    assert sum(len(stored(sim, "t", p)) for p in range(3)) == 30
    # the flush is over: later batches linger again
    sim.producer.send("t", value=b"late", key=b"k1")
    sim.run_for(100)
    assert any(b.close_reason is None for b in sim.producer.accumulator.incomplete.values())


def test_close_with_a_timeout_aborts_what_the_brokers_never_answered():
    sim = _sim(**{"linger.ms": 0, "delivery.timeout.ms": 120000, "request.timeout.ms": 30000})
    sim.run_for(50)
    for b in sim.cluster.broker_ids:  # every answer takes 5 s
        sim.apply_fault({"op": "slow_broker", "broker": b, "extra_ms": 5000})
    futures = [sim.producer.send("t", value=b"x", key=b"k%d" % i) for i in range(10)]
    sim.run_for(20)
    sim.producer.close_in_background(timeout_ms=500)
    assert sim.producer.closed
    sim.run_for(499)
    assert not any(f.done() for f in futures)  # still waiting for the brokers
    sim.run_for(2)
    assert all(f.done() for f in futures)
    assert "closed forcefully" in str(futures[0].exception())
    assert not sim.producer.sender.running


def test_close_without_a_timeout_waits_for_every_answer():
    sim = _sim()
    sim.run_for(50)
    futures = [sim.producer.send("t", value=b"x") for _ in range(10)]
    sim.producer.close_in_background()
    sim.run_for(1000)
    assert all(f.done() and f.exception() is None for f in futures)


def test_close_timeout_is_checked():
    with pytest.raises(ValueError, match="negative"):
        _sim().producer.close_in_background(timeout_ms=-1)


def test_the_counting_interceptor_counts_and_adds_a_header(stored):
    sim = _sim(**{"interceptor.classes": "producer_core.interceptors.CountingInterceptor"})
    for i in range(20):
        sim.producer.send("t", value=b"v", key=b"k%d" % i)
    sim.producer.flush()
    stats = chain_stats(sim.producer.interceptors)
    assert stats[0]["name"] == "CountingInterceptor"
    assert stats[0]["on_send"] == 20 and stats[0]["on_acknowledgement"] == 20
    stored = [r for p in range(3) for r in stored(sim, "t", p)]
    seqs = sorted(int(dict(r.headers)[CountingInterceptor.HEADER]) for r in stored)
    assert seqs == list(range(1, 21))  # the header the interceptor added, on the broker
