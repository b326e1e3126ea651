"""A seeded world: one clock, one scheduler, a mock Kafka cluster and a producer.

::

    sim = Simulation(config={"linger.ms": 10}, brokers=3, topics={"orders": 6}, seed=42)
    fut = sim.producer.send("orders", value=b"hello", key=b"k")
    sim.run_for(50)                      # advance virtual time by 50 ms
    sim.producer.flush()                 # drives time until every record completed
    print(fut.result(), sim.now_ms)

Everything moves on one integer-millisecond clock (``sim.scheduler``); everything random
comes from ``sim.rng(name)`` — a ``random.Random`` derived from the seed and the name — so
the same seed and config replay the same run byte for byte (stored batches, metrics,
events, trace).

Driving time:

* ``run_for(ms)`` / ``run_until(t_ms)`` — batch runs; ``step()`` — one scheduler entry;
* ``advance(wall_elapsed_ms, speed, budget_steps)`` — the live lab's pacing hook: move
  virtual time by ``wall_elapsed_ms × speed`` using at most ``budget_steps`` scheduler
  steps, and report how far it got (the lab shows the effective speed);
* ``producer.send()/flush()/close()`` and ``future.result()`` called directly drive time
  while they block (DESIGN §1).

Live reconfiguration (``reconfigure``/``reset_config``): Kafka cannot change a running
producer's configuration, so — as an application would — we close the old producer (it
finishes its queued and in-flight batches in simulated time, in the background) and
start a new one with the new config on the same cluster; workloads switch to the new
producer at once, and their sends blocked in the old one fail with "Producer closed while
send in progress".  ``sim.producer`` is always the current producer.
"""

from __future__ import annotations

import math
from random import Random
from typing import Any

from producer_core.config import ProducerConfig
from producer_core.events import EventBus
from producer_core.producer import Producer
from producer_core.scheduler import Scheduler, VirtualClock
from producer_core.snapshot import (
    TIMELINE_BATCHES,
    ArrivalRing,
    EventRing,
    QueueTotals,
    batch_entry,
    partitions_section,
)
from producer_core.trace import Trace

DEFAULT_TOPICS = {"orders": 6}


def _coerce_config(config: Any) -> ProducerConfig:
    if config is None:
        return ProducerConfig()
    if isinstance(config, ProducerConfig):
        return config
    if isinstance(config, dict):
        return ProducerConfig.from_dict(config)
    raise TypeError(f"config must be a ProducerConfig or a dict of Kafka properties, not "
                    f"{type(config).__name__}")


def _check_ms(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value):
        raise TypeError(f"{name} must be a number of milliseconds, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return int(value)


class Simulation:
    """A producer and a mock cluster on one virtual clock (DESIGN §4).

    ``auto_create_topics`` (default True, as Kafka's brokers default
    ``auto.create.topics.enable=true``): a send to a topic the cluster lacks creates it
    with one partition (``num.partitions``) on the first metadata request; False keeps
    the metadata wait and the ``max.block.ms`` timeout naming the topic."""

    def __init__(self, config: ProducerConfig | dict | None = None, brokers: int = 3,
                 topics: dict[str, int] | None = None, replication_factor: int = 3,
                 seed: int = 0, *, min_insync_replicas: int = 1,
                 election_delay_ms: int | None = None, network: dict | None = None,
                 time_model: dict | None = None, auto_create_topics: bool = True) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"seed must be an int, got {seed!r}")
        cfg = _coerce_config(config)
        from producer_core.cluster import MockCluster

        self.seed = seed
        self.clock = VirtualClock()
        self.scheduler = Scheduler(self.clock)
        self.events = EventBus(self.clock)
        self.cluster = MockCluster(
            scheduler=self.scheduler, events=self.events, rng=self.rng("cluster"),
            brokers=brokers, topics=dict(DEFAULT_TOPICS if topics is None else topics),
            replication_factor=replication_factor, min_insync_replicas=min_insync_replicas,
            election_delay_ms=election_delay_ms, network=network, time_model=time_model,
            auto_create_topics=auto_create_topics)
        self.generation = 1
        self.send_observers: list = []  # shared by every producer generation
        self.producer = self._make_producer(cfg)
        self.retired_producers: list[Producer] = []
        self.workloads: list[Any] = []
        self.fault_log: list[dict] = []
        self._events_ring = EventRing(self.events)
        self._arrival_ring = ArrivalRing()
        self.queue_totals = QueueTotals()
        self._log_unused(cfg)
        self._trace: Trace | None = None
        self._carry = 0.0
        self._config_cache: tuple[int, dict] | None = None

    # -- basics -------------------------------------------------------------------------

    def rng(self, name: str) -> Random:
        """A ``random.Random`` derived from the seed and ``name`` (same name, same stream)."""
        if not isinstance(name, str):
            raise TypeError(f"rng name must be a str, got {name!r}")
        return Random(f"{self.seed}:{name}")

    def _make_producer(self, cfg: ProducerConfig) -> Producer:
        gen = self.generation
        prefix = "" if gen == 1 else f"gen{gen}:"
        p = Producer(cfg, scheduler=self.scheduler, events=self.events,
                     cluster=self.cluster, rng=lambda name: self.rng(prefix + name),
                     client_id=cfg.client_id or f"producer-{gen}")
        p.send_observers = self.send_observers
        return p

    def _log_unused(self, cfg: ProducerConfig) -> None:
        """Kafka's KafkaProducer ends its constructor with ``config.logUnused()``: one
        line naming the supplied keys it does not know."""
        if cfg.unknown_keys:
            self.events.publish("config.unused", keys=list(cfg.unknown_keys),
                                message=cfg.unused_log)

    @property
    def now_ms(self) -> int:
        return self.clock.now_ms

    @property
    def config(self) -> ProducerConfig:
        return self.producer.config

    # -- driving time -------------------------------------------------------------------

    def run_for(self, ms: int) -> None:
        """Advance virtual time by ``ms`` milliseconds, running everything due."""
        ms = _check_ms("run_for(ms)", ms)
        self.scheduler.run_until(self.clock.now_ms + ms)

    def run_until(self, t_ms: int) -> None:
        """Run everything due up to ``t_ms`` (absolute virtual time) and stop there."""
        t = _check_ms("run_until(t_ms)", t_ms)
        if t < self.clock.now_ms:
            raise ValueError(f"run_until({t}) is in the past: now is {self.clock.now_ms} ms")
        self.scheduler.run_until(t)

    def step(self) -> bool:
        """Run the next scheduled entry (moving time to it). False when nothing is left."""
        return self.scheduler.step()

    def advance(self, wall_elapsed_ms: float, speed: float, budget_steps: int) -> dict:
        """The live lab's pacing hook: move virtual time by ``wall_elapsed_ms × speed``.

        Runs at most ``budget_steps`` scheduler entries.  Returns ``{"now_ms",
        "target_ms", "steps", "reached", "advanced_ms", "effective_speed"}``; when
        ``reached`` is False the engine could not keep up within the budget (the lab
        shows ``effective_speed``, e.g. "running at 0.6×").
        """
        if isinstance(wall_elapsed_ms, bool) or not isinstance(wall_elapsed_ms, (int, float)) \
                or wall_elapsed_ms < 0:
            raise ValueError(f"wall_elapsed_ms must be a number >= 0, got {wall_elapsed_ms!r}")
        if isinstance(speed, bool) or not isinstance(speed, (int, float)) or speed < 0:
            raise ValueError(f"speed must be a number >= 0, got {speed!r}")
        if isinstance(budget_steps, bool) or not isinstance(budget_steps, int) \
                or budget_steps < 0:
            raise ValueError(f"budget_steps must be an int >= 0, got {budget_steps!r}")
        start = self.clock.now_ms
        want = wall_elapsed_ms * speed + self._carry
        whole = int(want + 1e-9)  # float noise must not lose a millisecond
        target = start + whole
        sched = self.scheduler
        steps = 0
        reached = True
        while True:
            nxt = sched.peek_ms()
            if nxt is None or nxt > target:
                break
            if steps >= budget_steps:
                reached = False
                break
            sched.step()
            steps += 1
        if reached:
            sched.run_until(target)
            self._carry = max(0.0, want - whole)
        else:
            self._carry = 0.0
        advanced = self.clock.now_ms - start
        eff = (advanced / wall_elapsed_ms) if wall_elapsed_ms > 0 else float(speed)
        return {"now_ms": self.clock.now_ms, "target_ms": target, "steps": steps,
                "reached": reached, "advanced_ms": advanced, "effective_speed": eff}

    # -- workloads and faults -----------------------------------------------------------

    def add_workload(self, spec: dict) -> Any:
        """Attach simulated application threads (docs/SEAMS.md §2 workload entry)."""
        from producer_core.workload import Workload

        w = Workload(self, spec, name=None if not self.workloads
                     else f"app-{len(self.workloads) + 1}")
        self.workloads.append(w)
        same = [o for o in self.workloads if o.spec.topic == w.spec.topic]
        if len(same) > 1:
            for o in same:  # batches mix their records: outcomes are told per record
                o.share_topic()
        return w

    def apply_fault(self, fault: dict) -> None:
        """Apply one fault now (``{"op": "stop_broker", "broker": 2}``, ...)."""
        self.cluster.apply_fault(fault)
        from producer_core.protocol import ErrorCode

        # The log stays JSON data (replays, snapshots) even if the error came as the enum.
        self.fault_log.append({"t": self.clock.now_ms, **{
            k: v.name if isinstance(v, ErrorCode) else v for k, v in fault.items()}})

    def schedule_faults(self, faults: list[dict]) -> None:
        """Schedule a fault script: each dict's ``at_ms`` says when (absolute virtual ms)."""
        from producer_core.cluster.faults import validate_script

        checked = validate_script(faults, broker_ids=self.cluster.broker_ids,
                                  topics=self.cluster.topics())
        for f in checked:
            at = int(f.get("at_ms", self.clock.now_ms))
            op = {k: v for k, v in f.items() if k != "at_ms"}
            self.scheduler.call_at(at, lambda op=op: self._scripted_fault(op),
                                   label=f"fault.{op['op']}")

    def _scripted_fault(self, fault: dict) -> None:
        """A scripted fault that cannot apply at its time (e.g. electing a leader with no
        live in-sync replica) is reported as an event instead of stopping the run."""
        from producer_core.cluster.faults import FaultError

        try:
            self.apply_fault(fault)
        except FaultError as exc:
            self.fault_log.append({"t": self.clock.now_ms, **fault, "refused": str(exc)})
            self.events.publish("fault.injected", op=fault.get("op"),
                                detail=f"not applied: {exc}")

    # -- live reconfiguration -----------------------------------------------------------

    def reconfigure(self, config: ProducerConfig | dict) -> Producer:
        """Replace the producer with one using ``config`` (see the module docstring:
        the old one closes gracefully in the background).  A dict is merged over the
        current explicit settings; a ``ProducerConfig`` is used as is.  Invalid config
        raises ``ConfigError`` and changes nothing."""
        if isinstance(config, dict):
            cfg = self.producer.config.with_overrides(config)
        else:
            cfg = _coerce_config(config)
        old = self.producer
        old_dict = old.config.to_dict()
        self.generation += 1
        try:
            new = self._make_producer(cfg)
        except Exception:
            self.generation -= 1
            raise
        old.close_in_background()
        self.retired_producers = [p for p in self.retired_producers if p.sender.running]
        self.retired_producers.append(old)
        self.producer = new
        for w in self.workloads:
            w.producer = new
            if hasattr(w, "codec"):
                w.codec = cfg.compression_type  # the app thread's CPU cost follows the codec
        changed = sorted(k for k, v in cfg.to_dict().items() if old_dict.get(k) != v)
        self.events.publish("producer.reconfigured", generation=self.generation,
                            changed=changed)
        self._log_unused(cfg)
        return new

    reset_config = reconfigure

    # -- observing ----------------------------------------------------------------------

    def enable_trace(self, limit: int = 10_000) -> Trace:
        """Start recording one line per event (the newest ``limit`` are kept)."""
        if self._trace is not None:
            self._trace.close()
        self._trace = Trace(self.events, limit)
        return self._trace

    def trace_lines(self) -> list[str]:
        """The recorded trace (empty if ``enable_trace`` was not called)."""
        return [] if self._trace is None else self._trace.lines()

    def snapshot(self) -> dict:
        """JSON-safe state for the UI — docs/SEAMS.md §1, bounded in size."""
        return self._snapshot()

    def _snapshot(self, batch_entries: Any = None) -> dict:
        """``snapshot()``; ``batch_entries(batches, now_ms)``, when given, builds the
        timeline's batch entries (the live lab reuses the entries of completed batches,
        which never change again, instead of rebuilding 200 of them)."""
        now = self.clock.now_ms
        p = self.producer
        cfg = p.config
        if self._config_cache is None or self._config_cache[0] != id(cfg):
            self._config_cache = (id(cfg), cfg.to_dict())
        pool = p.pool.snapshot()
        from producer_core.workload import merge_stats

        app = merge_stats([w.stats() for w in self.workloads])
        pool["waiters"] = max(pool["waiters"], 0)
        recent = list(p.accumulator.recent)[-TIMELINE_BATCHES:]
        idem = p.sender.idem
        return {
            "now_ms": now,
            "seed": self.seed,
            "config": dict(self._config_cache[1]),
            "notes": list(cfg.notes),
            # keys Kafka would ignore, each with its "did you mean" (shown prominently)
            "warnings": list(cfg.warnings),
            "partitions": partitions_section(p, self.cluster.topics(), now,
                                             self.queue_totals),
            "pool": pool,
            "inflight": p.client.snapshot(list(self.cluster.broker_ids), now),
            "cluster": self.cluster.snapshot(),
            "timeline": {
                "batches": [batch_entry(b, now) for b in recent] if batch_entries is None
                else batch_entries(recent, now),
                "arrivals": self.arrivals(recent),
                "events": self._events_ring.items(),
            },
            "metrics": p.metrics(),
            "app": app,
            "producer": {
                "client_id": p.client_id, "generation": self.generation,
                "closed": p.closed,
                "producer_id": idem.producer_id if idem else None,
                "producer_epoch": idem.producer_epoch if idem else None,
                "blocked_sends": p.blocked_sends,
                "compression_ratio": p.estimator.snapshot(),
            },
        }

    def arrivals(self, recent: Any = None) -> list[dict]:
        """The timeline's arrival buckets (``snapshot.ArrivalRing``): records per
        millisecond and partition over the last 2 s, newest last."""
        if recent is None:
            recent = list(self.producer.accumulator.recent)[-TIMELINE_BATCHES:]
        return self._arrival_ring.items(recent, self.clock.now_ms)

    def dispose(self) -> None:
        """Let go, at once, of everything this run holds; it cannot run afterwards.

        A running simulation is one big reference cycle (a batch's result points at its
        producer, the producer at its batches, timers at what they act on), so a dropped one
        is only freed when Python's cycle collector next runs a full collection — with a
        lab's heap that can be minutes and hundreds of MiB later (issue 7: a stopped lab
        held 40–90 MiB, and a learner going through the labs grew the server with them).
        The live lab calls this when it stops or rebuilds a lab; batch runs need not."""
        self.scheduler.discard_all()
        for producer in (self.producer, *self.retired_producers):
            producer.accumulator.discard_all()
            producer._blocked.clear()
            producer._key_hash.clear()
        for workload in self.workloads:
            workload.values = workload.keygen = None  # a pool of values, up to 100k keys
        for plog in self.cluster.logs.values():
            plog.batches.clear()
        self.workloads.clear()
        self.retired_producers.clear()
        self.send_observers.clear()
        self.events.unsubscribe_all()

    def __repr__(self) -> str:
        return f"<Simulation seed={self.seed} now_ms={self.now_ms}>"
