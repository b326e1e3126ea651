"""What one lab frame carries, built cheaply enough for many labs at 20 frames a second.

``Simulation.snapshot()`` is the authority (docs/SEAMS.md §1) and costs about a
millisecond; fifty labs at 20 fps would spend the whole event loop on it.  Most of a
frame changes slowly, though, so a ``FrameBuilder`` refreshes the state in tiers:

* every frame — virtual time, partition queues, buffer pool, in-flight requests, the
  application's view, and the timeline's batches (a batch that completed never changes
  again, so its entry is built once and reused);
* every 2nd frame — the timeline's arrival buckets;
* every 4th frame, and whenever asked (connect, resync, after any command) — the whole
  ``snapshot()``: metrics (floats rounded to 4 significant digits), cluster, config,
  notes, events.

The result has exactly the snapshot's keys.  It uses the engine's own section builders
(``producer_core.snapshot``); should their shape change, it falls back to ``snapshot()``.
"""

from __future__ import annotations

import logging
import math
from typing import Any

log = logging.getLogger(__name__)

SLOW_EVERY = 4
ARRIVALS_EVERY = 2


def _round(value: float) -> float | int:
    """``value`` to 4 significant digits (what a gauge shows); whole numbers as ints."""
    if not math.isfinite(value):
        return value
    if value == int(value) and abs(value) < 1e15:
        return int(value)
    magnitude = abs(value)
    digits = 3 if magnitude < 1 else 4 - len(str(int(magnitude)))
    if digits <= 0:
        return round(value)
    return round(value, digits) if magnitude >= 1e-3 else round(value, 6)


def round_metrics(metrics: Any) -> Any:
    """Metrics with their float noise digits dropped: a frame that carried 16 digits of
    every rate would make every metric change (and travel) every frame."""
    if not isinstance(metrics, dict):
        return metrics
    out = {}
    for key, value in metrics.items():
        if isinstance(value, float):
            value = _round(value)
        elif isinstance(value, dict):
            value = round_metrics(value)
        out[key] = value
    return out


class FrameBuilder:
    """Builds a simulation's frame state, refreshing slow sections every few frames."""

    def __init__(self, sim: Any) -> None:
        self.sim = sim
        self.count = 0
        self._last: dict | None = None
        # id(batch) -> (batch, entry, what the entry was built from; None once final)
        self._done: dict[int, tuple[Any, dict, tuple | None]] = {}
        self._fast_ok = True
        self.entries_built = 0  # timeline batch entries built (a work counter for tests)

    def build(self, full: bool = False) -> dict:
        n = self.count
        self.count += 1
        if full or self._last is None or not self._fast_ok or n % SLOW_EVERY == 0:
            whole = getattr(self.sim, "_snapshot", None)
            self._last = whole(self._batches) if whole is not None and self._fast_ok \
                else self.sim.snapshot()
            self._last["metrics"] = round_metrics(self._last.get("metrics"))
            return self._last
        try:
            self._last = self._fast(arrivals=n % ARRIVALS_EVERY == 0)
        except (AttributeError, ImportError, KeyError, TypeError) as exc:
            # The engine's internals moved on: stay correct with the full snapshot.
            log.warning("lab frames: fast path disabled (%s: %s)", type(exc).__name__, exc)
            self._fast_ok = False
            self._last = self.sim.snapshot()
        return self._last

    def _fast(self, arrivals: bool) -> dict:
        from producer_core.snapshot import TIMELINE_BATCHES, partitions_section
        from producer_core.workload import merge_stats

        sim = self.sim
        producer = sim.producer
        now = sim.now_ms
        last = self._last
        state = dict(last)
        state["now_ms"] = now
        state["partitions"] = partitions_section(producer, sim.cluster.topics(), now,
                                                 getattr(sim, "queue_totals", None))
        pool = producer.pool.snapshot()
        pool["waiters"] = max(pool["waiters"], 0)
        state["pool"] = pool
        state["inflight"] = producer.client.snapshot(list(sim.cluster.broker_ids), now)
        state["app"] = merge_stats([w.stats() for w in sim.workloads])
        recent = list(producer.accumulator.recent)[-TIMELINE_BATCHES:]
        timeline = dict(last["timeline"])
        timeline["batches"] = self._batches(recent, now)
        if arrivals:
            timeline["arrivals"] = self._arrivals(recent, now)
        state["timeline"] = timeline
        return state

    def _batches(self, recent: list, now: int) -> list[dict]:
        """The timeline's batch entries.  An entry is rebuilt only when its batch changed
        since the last frame (records, close, send, answer, retry): the others are the
        same objects as before, which the delta recognises without comparing them."""
        from producer_core.snapshot import batch_entry

        done = self._done
        out = []
        append = out.append
        built = 0
        for b in recent:
            cached = done.get(id(b))
            if cached is not None and cached[0] is b:
                if cached[2] is None:
                    append(cached[1])  # final: its entry never changes again
                    continue
                sig = (b.records_count, b.closed_ms, b.sent_ms, b.acked_ms, b.send_count,
                       b.compressed_bytes, b.outcome)
                if sig == cached[2]:
                    append(cached[1])
                    continue
            else:
                sig = (b.records_count, b.closed_ms, b.sent_ms, b.acked_ms, b.send_count,
                       b.compressed_bytes, b.outcome)
            entry = batch_entry(b, now)
            built += 1
            done[id(b)] = (b, entry, None if entry["outcome"] is not None else sig)
            append(entry)
        self.entries_built += built
        if len(done) > 2 * len(recent) + 64:  # forget batches that left the window
            self._done = {id(b): done[id(b)] for b in recent if id(b) in done}
        return out

    def _arrivals(self, recent: list, now: int) -> list[dict]:
        """The engine's arrival buckets (an aggregate it keeps: ``Simulation.arrivals``)."""
        return self.sim.arrivals(recent)
