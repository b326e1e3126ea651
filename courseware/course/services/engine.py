"""Running the engine for the course: presets and small experiments in virtual time.

Everything here is deterministic (a seed, virtual milliseconds), so a result can be cached
and a test can compare two runs. Counting is done by subscribing to the engine's events,
the same stream the lab and the trace read.
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class RunStats:
    """What a run did, counted from its events and read from its metrics/snapshot."""

    duration_ms: int
    records_acked: int = 0
    records_failed: int = 0
    requests: int = 0
    batches_created: int = 0
    close_reasons: Counter = field(default_factory=Counter)
    retries: int = 0
    errors: Counter = field(default_factory=Counter)
    pool_waits: int = 0
    pool_exhausted: int = 0
    send_blocked: int = 0
    max_blocked_ms: int = 0
    metrics: dict = field(default_factory=dict)
    snapshot: dict = field(default_factory=dict)
    compressed_bytes: int = 0
    uncompressed_bytes: int = 0

    @property
    def throughput(self) -> float:
        """Acknowledged records per second of virtual time."""
        return self.records_acked * 1000.0 / self.duration_ms if self.duration_ms else 0.0


_KINDS = ("batch.created", "batch.closed", "batch.completed", "batch.failed", "batch.expired",
          "batch.retry", "request.sent", "pool.wait", "pool.exhausted", "send.blocked",
          "send.unblocked", "send.failed")


def attach(sim, duration_ms: int) -> RunStats:
    """Subscribe a fresh RunStats to ``sim``'s events."""
    st = RunStats(duration_ms=duration_ms)

    def on_event(ev) -> None:
        k, d = ev.kind, ev.data
        if k == "batch.created":
            st.batches_created += 1
        elif k == "batch.closed":
            st.close_reasons[d.get("reason")] += 1
        elif k == "batch.completed":
            st.records_acked += d.get("records", 0)
        elif k in ("batch.failed", "batch.expired"):
            st.errors[str(d.get("error"))] += 1
        elif k == "batch.retry":
            st.retries += 1
            st.errors[str(d.get("error"))] += 1
        elif k == "request.sent":
            st.requests += 1
        elif k == "pool.wait":
            st.pool_waits += 1
        elif k == "pool.exhausted":
            st.pool_exhausted += 1
        elif k == "send.blocked":
            st.send_blocked += 1
        elif k == "send.unblocked":
            st.max_blocked_ms = max(st.max_blocked_ms, int(d.get("waited_ms") or 0))
        elif k == "send.failed":
            st.records_failed += 1
            st.errors[str(d.get("error"))] += 1

    sim.events.subscribe(on_event, kinds=_KINDS)
    return st


def build_preset(preset: dict | str, config_overrides: dict | None = None, seed: int | None = None):
    """Build a preset (id or dict) as a Simulation, optionally with config overrides."""
    from producer_core import presets
    from producer_core.scenario import Scenario

    data = presets.load(preset) if isinstance(preset, str) else copy.deepcopy(preset)
    if config_overrides:
        data.setdefault("config", {}).update(config_overrides)
    return Scenario.from_dict(data).build(seed), data


def run_preset(preset: dict | str, duration_ms: int | None = None,
               config_overrides: dict | None = None, seed: int | None = None) -> RunStats:
    """Run a preset in virtual time and return what happened."""
    sim, data = build_preset(preset, config_overrides, seed)
    duration = int(duration_ms or data.get("duration_ms") or 10_000)
    st = attach(sim, duration)
    sim.run_for(duration)
    st.metrics = dict(sim.producer.metrics())
    st.snapshot = sim.snapshot()
    return st
