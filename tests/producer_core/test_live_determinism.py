"""A run stepped live — in the lab's short slices, with snapshots read between them — is
the same run as the batch run of the same seed and config: same stored bytes, metrics,
application stats and trace (DESIGN §1)."""

from __future__ import annotations

import random

import pytest

from producer_core.scenario import Scenario

UNTIL_MS = 1500


def _result(sim) -> tuple:
    logs = {(t, p): sim.cluster.log(t, p)
            for t in sorted(sim.cluster.topics()) for p in sim.cluster.partitions_for(t)}
    app = [w.stats() for w in sim.workloads]
    return logs, sim.producer.metrics(), app


def batch_run(preset: str, trace: bool) -> tuple:
    sim = Scenario.preset(preset).build()
    if trace:
        sim.enable_trace(200_000)
    sim.run_until(UNTIL_MS)
    return (*_result(sim), sim.trace_lines())


def live_run(preset: str, trace: bool, seed: int = 3) -> tuple:
    """Paced as courseware.lab does: each frame period advances virtual time by the wall
    time elapsed × speed in slices of a few engine steps, and a frame reads a snapshot."""
    sim = Scenario.preset(preset).build()
    if trace:
        sim.enable_trace(200_000)
    wall = random.Random(seed)  # uneven frame periods, as a busy event loop gives
    snapshots = 0
    while sim.now_ms < UNTIL_MS:
        elapsed = min(wall.uniform(5.0, 80.0), UNTIL_MS - sim.now_ms)
        step = sim.advance(elapsed, 1.0, budget_steps=wall.randrange(1, 12))
        while not step["reached"]:  # the budget ran out: the next slice carries on
            step = sim.advance(0.0, 1.0, budget_steps=10)
            if sim.now_ms >= step["target_ms"]:
                break
        sim.snapshot()
        snapshots += 1
    if sim.now_ms < UNTIL_MS:
        sim.run_until(UNTIL_MS)
    assert sim.now_ms == UNTIL_MS and snapshots > 20
    return (*_result(sim), sim.trace_lines())


@pytest.mark.parametrize("preset", ["kafka-defaults", "lesson-buffer",
                                    "mistake-blocking-send-before", "lesson-failover"])
def test_live_slices_replay_the_batch_run(preset):
    batch = batch_run(preset, trace=True)
    live = live_run(preset, trace=True)
    assert live[0] == batch[0]  # stored RecordBatch bytes, per partition
    assert live[1] == batch[1]  # producer metrics
    assert live[2] == batch[2]  # the application's view (sends, blocks, acks, errors)
    assert live[3] == batch[3]  # the trace, line for line
    assert sum(len(v) for v in batch[0].values()) > 10
    assert len(batch[3]) > 1000
    assert batch[2][0]["acked"] > 0


def test_live_run_without_a_trace_stores_the_same_bytes():
    # Nobody subscribed: no per-record events or callbacks, and still the same run.
    traced = batch_run("kafka-defaults", trace=True)
    live = live_run("kafka-defaults", trace=False, seed=5)
    assert live[0] == traced[0] and live[1] == traced[1] and live[2] == traced[2]
