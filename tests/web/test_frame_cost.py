"""A lab frame's cost is bounded by the frame's own bounds, not by the lab's records/s, and
building frames while the lab runs changes nothing in the run.

Cost is counted in work units, not timed: timeline batch entries built, arrival runs read
by the engine's arrival ring, and items in the frame's state.
"""

from __future__ import annotations

from courseware.lab.session import (
    MAX_ARRIVALS,
    MAX_EVENTS,
    MAX_QUEUE_BOXES,
    MAX_TIMELINE_BATCHES,
    LabSession,
)
from producer_core.scenario import Scenario

FRAME_MS = 50.0


def drive(session: LabSession, frames: int):
    """Frames as the lab's runner makes them: advance in short CPU slices to the pacer's
    target for one 50 ms period (a simulated wall clock), then build the delta frame."""
    wall = session.pacer._wall0
    for _ in range(frames):
        wall += FRAME_MS
        while not session.advance(4.0, now=wall):
            pass
        yield session.delta_frame()


def work_per_frame(rate: int, frames: int = 40, warmup: int = 20) -> dict:
    session = LabSession(f"cost.{rate}", preset="kafka-defaults")
    session.scenario["workload"][0]["rate"] = rate
    session._rebuild()
    session.full_frame()
    ring = session.sim._arrival_ring
    rows = []
    before = (0, 0, 0)
    for i, _text in enumerate(drive(session, warmup + frames)):
        now = (session.frames.entries_built, ring.work,
               sum(w.send_calls for w in session.sim.workloads))
        state = session._last_sent
        tl = state["timeline"]
        items = (len(tl["batches"]) + len(tl["arrivals"]) + len(tl["events"])
                 + sum(len(p["queue"]) for p in state["partitions"]))
        if i >= warmup:
            rows.append((now[0] - before[0], now[1] - before[1], items, now[2] - before[2]))
        before = now
    partitions = len(session._last_sent["partitions"])
    return {"entries": max(r[0] for r in rows), "runs": max(r[1] for r in rows),
            "items": max(r[2] for r in rows),
            "records": sum(r[3] for r in rows) / len(rows), "partitions": partitions}


def test_frame_work_is_bounded_whatever_the_rate():
    low, high = work_per_frame(1000), work_per_frame(160_000)  # 48 MB/s: under the lab's 50 MB/s
    assert high["records"] > 50 * low["records"]  # far more records per frame...
    for w in (low, high):
        # ...while every part of a frame's work stays under a bound set by the frame's
        # own limits, the partition count and the frame period — none by records/s
        assert w["entries"] <= MAX_TIMELINE_BATCHES
        # one run per batch and millisecond, a partition holding at most two batches
        # that take records in one millisecond, read for the final and the current ms
        assert w["runs"] <= 4 * w["partitions"] * (2 * FRAME_MS + 1)
        assert w["items"] <= (MAX_TIMELINE_BATCHES + MAX_ARRIVALS + MAX_EVENTS
                              + w["partitions"] * MAX_QUEUE_BOXES)
    assert low["entries"] > 0 and low["runs"] > 0 and low["items"] > 0


def test_frames_do_not_change_the_run():
    # The lab builds a frame every 50 ms while it runs; the batch run of the same
    # preset and seed stores the same bytes and reports the same metrics.
    session = LabSession("cost.det", preset="kafka-defaults")
    session.full_frame()
    texts = [t for t in drive(session, 30) if t]
    live = session.sim
    batch = Scenario.preset("kafka-defaults").build(seed=session.seed)
    batch.run_until(live.now_ms)
    assert live.now_ms == 1500 and len(texts) >= 25
    for p in batch.cluster.partitions_for("orders"):
        # a live lab keeps the newest batches of each partition (log retention, SEAMS);
        # those are the batch run's newest, byte for byte
        kept = live.cluster.log("orders", p)
        assert kept and kept == batch.cluster.log("orders", p)[-len(kept):]
    assert live.producer.metrics() == batch.producer.metrics()
    assert [w.stats() for w in live.workloads] == [w.stats() for w in batch.workloads]
    assert sum(len(live.cluster.log("orders", p)) for p in range(6)) > 10
