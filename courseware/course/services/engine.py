"""Running the engine for the course: presets and small experiments in virtual time.

Everything here is deterministic (a seed, virtual milliseconds), so a result can be cached
and a test can compare two runs. Counting is done by subscribing to the engine's events,
the same stream the lab and the trace read.
"""

from __future__ import annotations

import copy
import json
from collections import Counter, OrderedDict
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
    end_ms: int = 0
    blocked_since: dict = field(default_factory=dict)  # thread -> when its send() blocked
    pool_used: dict = field(default_factory=dict)  # t_ms -> buffer bytes in use (per second)

    @property
    def longest_block_ms(self) -> int:
        """Longest send() block: finished ones, or ones still blocked when the run ended."""
        ongoing = [self.end_ms - t for t in self.blocked_since.values()]
        return max([self.max_blocked_ms, *ongoing])

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
            st.blocked_since[d.get("thread")] = ev.t_ms
        elif k == "send.unblocked":
            st.max_blocked_ms = max(st.max_blocked_ms, int(d.get("waited_ms") or 0))
            st.blocked_since.pop(d.get("thread"), None)
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
    # Sample buffer use every second: a trend shows whether memory is still filling up.
    step = 1000
    while sim.now_ms + step < duration:
        sim.run_for(step)
        st.pool_used[sim.now_ms] = sim.snapshot()["pool"]["used"]
    sim.run_for(duration - sim.now_ms)
    st.end_ms = sim.now_ms
    st.metrics = dict(sim.producer.metrics())
    st.snapshot = sim.snapshot()
    return st


class FixError(ValueError):
    """A learner's fix that cannot be replayed; the message is a sentence for the learner."""


def parse_fix(fix_text: str, preset_id: str) -> dict:
    """The learner's ``key=value`` lines as Kafka properties, checked on top of the preset's
    config (what the replay will run). Raises :class:`FixError` for empty, malformed or
    invalid input, so nothing is run for it."""
    from producer_core import presets
    from producer_core.config import ProducerConfig
    from producer_core.errors import ConfigError

    from ..export import ExportError, parse_properties

    try:
        fix = parse_properties(fix_text)
    except ExportError as exc:
        raise FixError(str(exc)) from None
    if not fix:
        raise FixError("write at least one key=value setting")
    cfg = dict(presets.load(preset_id).get("config", {}))
    cfg.update(fix)
    try:
        effective = ProducerConfig.from_dict(cfg).to_dict()
    except ConfigError as exc:
        raise FixError(f"that setting would not start a producer: {exc}") from None
    if effective["batch.size"] > effective["buffer.memory"]:
        # Kafka accepts the config, then every send() fails: BufferPool refuses to allocate
        # more than buffer.memory. Say so before running anything.
        raise FixError(f"batch.size={effective['batch.size']} is larger than buffer.memory="
                       f"{effective['buffer.memory']}: Kafka would accept it, then fail every "
                       "send() (a batch cannot be allocated beyond buffer.memory)")
    return fix


def fix_warnings(fix: dict) -> list[str]:
    """"Kafka would ignore `linger.msec` — did you mean `linger.ms`?" for each key of a
    learner's fix Kafka does not know (Kafka accepts and ignores them, so do we)."""
    from producer_core.config import ProducerConfig

    return list(ProducerConfig.from_dict(fix).warnings)


_CACHE: OrderedDict[str, RunStats] = OrderedDict()
_CACHE_SIZE = 32


def cached_run(preset_id: str, duration_ms: int,
               config_overrides: dict | None = None) -> RunStats:
    """``run_preset`` memoised on what determines the run: seed, *effective* producer config,
    cluster, workload, faults and duration. The engine is deterministic, so baselines,
    learners' replays of the same fix, and tests share one run per process (a fix equal to
    a shipped preset's config reuses that run). Treat the result as read-only."""
    from producer_core import presets
    from producer_core.config import ProducerConfig

    data = presets.load(preset_id)
    cfg = dict(data.get("config", {}))
    cfg.update(config_overrides or {})
    key = json.dumps({"seed": data.get("seed"),
                      "config": ProducerConfig.from_dict(cfg).to_dict(),
                      "cluster": data.get("cluster"), "workload": data.get("workload"),
                      "faults": data.get("faults"), "duration_ms": int(duration_ms)},
                     sort_keys=True, default=str)
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    st = run_preset(preset_id, duration_ms, config_overrides=config_overrides)
    _CACHE[key] = st
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return st
