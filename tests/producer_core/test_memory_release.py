"""Issue 7, bounded memory: a simulation's memory comes back when it is done with, without
waiting for Python's cycle collector.

A lab that is stopped or rebuilt drops its simulation; a busy one holds 40–90 MiB of
batches, futures and blocked sends.  Everything in it refers back to its producer (a batch's
result drives time through it), so it is one big reference cycle, which only a *full*
collection frees — minutes later on a server with many long-lived objects, while the next
labs already allocate.  ``Simulation.dispose()`` cuts it, and the engine itself leaves no
cycles behind per blocked send (waiter -> timeout timer -> closure -> waiter) or per
cancelled timer."""

from __future__ import annotations

import gc
import sys

import pytest

from producer_core import presets
from producer_core.scenario import Scenario

# 100,000 records/s into 1 KiB batches at one request in flight: the 32 MiB pool fills up
# and eight application threads block on it over and over
PRESET = "lesson-debug-degraded"


@pytest.fixture
def no_cycle_collector():
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _busy_sim(ms: int = 4_000):
    sim = Scenario.from_dict(presets.load(PRESET)).build(seed=1)
    sim.run_until(ms)
    return sim


def test_blocked_sends_leave_no_garbage_cycles(no_cycle_collector):
    sim = _busy_sim()
    pool = sim.producer.accumulator.pool
    assert pool.exhausted_total + pool.allocations > 0 and sim.workloads[0].blocked_sends > 1000
    garbage = gc.collect()
    # before the fix: one cycle per blocked send and per cancelled timeout, 167,700 objects
    # at 4 s; what is left are a few hundred objects of the run's set-up
    assert garbage < 5_000, garbage
    sim.dispose()


def test_a_disposed_simulation_is_freed_by_reference_counting_alone(no_cycle_collector):
    # memory blocks the interpreter holds (objects: batches, futures, blocked sends, timers)
    base = sys.getallocatedblocks()
    sim = _busy_sim()
    live = sys.getallocatedblocks() - base
    assert live > 200_000  # the pool is full: hundreds of thousands of objects
    sim.dispose()
    del sim
    left = sys.getallocatedblocks() - base
    assert left < 0.05 * live, (left, live)


def test_a_disposed_simulation_does_not_run_on():
    sim = _busy_sim(1_000)
    sim.dispose()
    sim.run_until(2_000)  # nothing is scheduled any more: the clock just moves
    assert sim.now_ms == 2_000
    assert not sim.producer.accumulator.incomplete


def test_a_batch_size_above_buffer_memory_fails_a_send_that_waited_for_metadata():
    """Found by the fuzz: ``batch.size`` = 2147483647.  Kafka's ``BufferPool.allocate`` throws
    ("Attempt to allocate … bytes, but there is a hard limit of …") and ``send()`` throws it.
    A send that first waited for the topic's metadata resumes inside simulated time: an
    application thread's send returns with that error, a direct call raises it — neither
    breaks the scheduler step that resumed it."""
    from producer_core.simulation import Simulation

    sim = Simulation(config={"batch.size": 2**31 - 1}, seed=1)
    with pytest.raises(ValueError, match="hard limit of 33554432"):
        sim.producer.send("orders", value=b"x")  # blocks on metadata (driving time), throws
    returned = []
    sim.producer.send_async("orders-too", value=b"x",
                            on_return=lambda fut, waited: returned.append(fut))
    sim.run_for(5_000)  # the metadata arrives; the send resumes and returns, the run goes on
    assert len(returned) == 1 and returned[0].done()
    with pytest.raises(ValueError, match="hard limit of 33554432"):
        returned[0].result()
