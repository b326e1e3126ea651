"""LabSession: one learner's live lab — a paced ``producer_core.Simulation`` and its frames.

This module is synchronous and knows nothing of sockets: ``courseware.lab.runner`` drives a
session on the event loop and carries its frames and commands over the channel layer.

A session owns one simulation built from a scenario (a preset plus the learner's changes),
and keeps:

* the *explicit* config overrides the learner made (not the effective config: Kafka's
  "idempotence silently off when not set explicitly" rule depends on what was set);
* a pacer mapping wall time to virtual time at a speed (slow motion down to 0.001×);
* the last state it sent, so each frame is a delta (``courseware.lab.delta``) with a
  sequence number; a browser that sees a gap asks for a full frame.
"""

from __future__ import annotations

import copy
import json
import time
from collections import deque
from typing import Any

from courseware.lab.commands import Command, CommandError
from courseware.lab.delta import diff
from courseware.lab.frames import FrameBuilder
from courseware.lab.pacing import Pacer, wall_ms

DEFAULT_PRESET = "kafka-defaults"
SPEED_STEPS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)
# Bounds that keep a frame's size independent of the run's length (DESIGN §5).
MAX_QUEUE_BOXES = 8
MAX_TIMELINE_BATCHES = 200
MAX_ARRIVALS = 400
LOG_RETENTION_BATCHES = 1000  # per partition, in live labs (batch runs keep every batch)
MAX_EVENTS = 100
MAX_STEP_ENGINE_STEPS = 20000
MAX_STRIDE_STEPS = 640  # engine steps between two looks at the CPU clock, at most


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


def _engine_error(exc: Exception, ref: Any) -> CommandError:
    """Turn an engine exception (ConfigError, ScenarioError, ValueError…) into a reply."""
    name = type(exc).__name__
    return CommandError("rejected", f"{name}: {exc}", ref)


class LabSession:
    """One live lab: a simulation, its pacing, the learner's changes and its frame stream."""

    def __init__(self, lab_id: str, *, preset: str | None = None, seed: int | None = None,
                 max_rate: int = 200_000) -> None:
        self.lab_id = lab_id
        self.max_rate = max_rate
        self.preset_id = preset or DEFAULT_PRESET
        self.scenario = self._load_preset(self.preset_id)
        self.seed = int(seed if seed is not None else self.scenario.get("seed", 42))
        self.overrides: dict[str, Any] = {}  # the learner's explicit config changes
        self.paused = False
        self.pacer = Pacer(1.0)
        self.seq = 0
        self._last_sent: dict | None = None
        self._recent: deque[dict] = deque(maxlen=12)  # last events, for step mode
        self._events_seen = 0
        self.last_step: dict | None = None
        self.notice: str | None = None
        self.dirty = True
        self._changed = True
        self.created_wall = wall_ms()
        self.build_ms = 0.0  # time the last frame took to build (snapshot + diff + JSON)
        self.fps = 0.0  # frames per second this lab really sends (set by its runner)
        self.sim = None
        self._unsubscribe = None
        self._rebuild()

    # ---- building -------------------------------------------------------------------

    @staticmethod
    def _load_preset(preset_id: str) -> dict:
        from producer_core import presets

        try:
            return presets.load(preset_id)
        except KeyError as exc:
            raise CommandError("invalid", str(exc.args[0])) from None

    def _scenario_dict(self) -> dict:
        scenario = copy.deepcopy(self.scenario)
        config = dict(scenario.get("config") or {})
        config.update(self.overrides)
        scenario["config"] = config
        return scenario

    def _rebuild(self) -> None:
        """Build a fresh simulation from the scenario, the overrides and the seed."""
        from producer_core.scenario import Scenario

        scenario = self._scenario_dict()
        self._check_rate(scenario)
        sim = Scenario.from_dict(scenario).build(seed=self.seed)
        # A lab can run for hours: keep a window of each partition's log, not all of it.
        sim.cluster.set_log_retention(LOG_RETENTION_BATCHES)
        if self._unsubscribe is not None:
            self._unsubscribe()
        self.sim = sim
        self.frames = FrameBuilder(sim)
        self._recent.clear()
        self._events_seen = 0
        self.pacer.anchor(sim.now_ms)
        self.dirty = True

    def _check_rate(self, scenario: dict) -> None:
        rate = sum(int(w.get("rate") or 0) for w in scenario.get("workload") or [])
        if rate > self.max_rate:
            raise CommandError(
                "capacity",
                f"This server runs live labs at up to {self.max_rate:,} records/s each; "
                f"the workload asks for {rate:,}. Lower the rate (or run the experiment "
                f"offline with `python -m producer_core`).")

    def _on_event(self, event) -> None:
        self._events_seen += 1
        self._recent.append({"t": event.t_ms, "kind": event.kind, "text": event.line().strip()})

    # ---- time -----------------------------------------------------------------------

    @property
    def now_ms(self) -> int:
        return int(self.sim.now_ms)

    def advance(self, cpu_budget_ms: float, now: float | None = None) -> bool:
        """Move virtual time toward the pacer's target, using at most ``cpu_budget_ms`` of CPU.

        Returns True when the target was reached (False: the engine is behind).
        """
        if self.paused:
            return True
        now = wall_ms() if now is None else now
        target = int(self.pacer.target(now))
        # thread CPU time: the budget is this lab's fair share of the process's CPU, which
        # other processes' turns on a shared core must not eat into
        clock = time.thread_time
        last = clock()
        deadline = last + cpu_budget_ms / 1000.0
        reached = True
        before = self.sim.now_ms
        # Check the deadline about every half millisecond of CPU: start with 10 engine
        # steps between checks and double while a stride takes less than that (reading
        # a CPU clock is a system call — ~17 µs in some sandboxes — so a check every 10
        # cheap steps would cost more than the steps).  Done only when everything due up
        # to the target ran — entries due exactly at the target included, or a frame
        # would show the lab in the middle of a millisecond.
        stride = 10
        while not self._run_until(target, budget_steps=stride):
            now_cpu = clock()
            if now_cpu >= deadline:
                reached = False
                break
            if now_cpu - last < 0.0005 and stride < MAX_STRIDE_STEPS:
                stride *= 2
            last = now_cpu
        self.pacer.observe(self.sim.now_ms, now)
        if self.sim.now_ms != before:
            self.dirty = True  # slow motion may not move the integer clock every tick
        return reached

    def _run_until(self, target_ms: int, budget_steps: int) -> bool:
        """Run scheduler entries due up to ``target_ms``, at most ``budget_steps`` of them;
        the clock reaches ``target_ms`` only when everything due ran (then True)."""
        scheduler = self.sim.scheduler
        peek, step = scheduler.peek_ms, scheduler.step
        for _ in range(budget_steps):
            nxt = peek()
            if nxt is None or nxt > target_ms:
                break
            step()
        else:
            nxt = peek()
            if nxt is not None and nxt <= target_ms:
                return False  # budget spent with work still due: stay at the last entry
        if target_ms > scheduler.now_ms:
            scheduler.run_until(target_ms)
        return True

    def step(self, count: int = 1) -> dict:
        """Pause, then run until ``count`` engine events were published (one by default)."""
        self.paused = True
        # Listen to every event only while stepping: a subscriber makes the engine build
        # an event object per record, which a running lab does not need.
        self._recent.clear()
        self._events_seen = 0
        unsubscribe = self.sim.events.subscribe(self._on_event)
        seen_before = 0
        engine_steps = 0
        start_ms = self.now_ms
        try:
            while self._events_seen - seen_before < count \
                    and engine_steps < MAX_STEP_ENGINE_STEPS:
                if not self.sim.scheduler.step():
                    break
                engine_steps += 1
        finally:
            unsubscribe()
        self.pacer.anchor(self.sim.now_ms)
        new_events = self._events_seen - seen_before
        recent = list(self._recent)[-6:]
        self.last_step = {"events": new_events, "engine_steps": engine_steps,
                          "from_ms": start_ms, "to_ms": self.now_ms, "recent": recent}
        self.dirty = True
        return self.last_step

    # ---- commands ---------------------------------------------------------------------

    def apply(self, cmd: Command) -> dict:
        """Apply one validated command; returns the ack payload or raises CommandError."""
        handler = getattr(self, f"_cmd_{cmd.type}", None)
        if handler is None:
            raise CommandError("unknown_type", f"the lab does not handle {cmd.type!r}", cmd.ref)
        try:
            result = handler(cmd) or {}
        except CommandError as exc:
            exc.ref = cmd.ref if exc.ref is None else exc.ref
            raise
        self.dirty = True
        self._changed = True  # the next frame refreshes every section
        return result

    def _cmd_pause(self, cmd: Command) -> dict:
        self.paused = True
        return {"paused": True}

    def _cmd_resume(self, cmd: Command) -> dict:
        self.paused = False
        self.last_step = None
        self.pacer.anchor(self.sim.now_ms)
        return {"paused": False}

    def _cmd_step(self, cmd: Command) -> dict:
        return self.step(cmd.args.get("count", 1))

    def _cmd_speed(self, cmd: Command) -> dict:
        self.pacer.set_speed(cmd.args["value"], self.sim.now_ms)
        return {"speed": self.pacer.speed}

    def _cmd_reset(self, cmd: Command) -> dict:
        seed = cmd.args.get("seed")
        old_seed = self.seed
        if seed is not None:
            self.seed = seed
        try:
            self._rebuild()
        except CommandError:
            self.seed = old_seed
            raise
        except Exception as exc:  # noqa: BLE001 - engine errors become replies
            self.seed = old_seed
            raise _engine_error(exc, cmd.ref) from None
        self.last_step = None
        return {"seed": self.seed}

    def _cmd_preset(self, cmd: Command) -> dict:
        self.load_preset(cmd.args["id"])
        return {"preset": self.preset_id}

    def load_preset(self, preset_id: str, seed: int | None = None) -> None:
        """Switch to another preset (its config, cluster, workload and seed); drops overrides."""
        old = (self.preset_id, self.scenario, self.overrides, self.seed)
        self.preset_id = preset_id
        self.scenario = self._load_preset(preset_id)
        self.overrides = {}
        self.seed = int(seed if seed is not None else self.scenario.get("seed", 42))
        try:
            self._rebuild()
        except Exception as exc:  # keep the old lab, then report why
            self.preset_id, self.scenario, self.overrides, self.seed = old
            if isinstance(exc, CommandError):
                raise
            raise _engine_error(exc, None) from None
        self.last_step = None

    def _cmd_config(self, cmd: Command) -> dict:
        from producer_core.config import ProducerConfig

        merged = dict(self.scenario.get("config") or {})
        overrides = dict(self.overrides)
        overrides.update(cmd.args.get("set", {}))
        for key in cmd.args.get("unset", []):
            overrides.pop(key, None)
        merged.update(overrides)
        try:
            cfg = ProducerConfig.from_dict(merged)
        except Exception as exc:  # noqa: BLE001 - engine errors become replies
            raise _engine_error(exc, cmd.ref) from None
        try:
            self.sim.reconfigure(cfg)
        except Exception as exc:  # noqa: BLE001 - engine errors become replies
            raise _engine_error(exc, cmd.ref) from None
        self.overrides = overrides
        return {"config": cmd.args.get("set", {}), "unset": cmd.args.get("unset", [])}

    def _cmd_workload(self, cmd: Command) -> dict:
        """Change the workload: the lab restarts from t=0 with the same seed and config."""
        old = copy.deepcopy(self.scenario)
        spec = dict(cmd.args)
        scenario = self.scenario
        workloads = scenario.setdefault("workload", [])
        if not workloads:
            workloads.append({"topic": next(iter(scenario.get("cluster", {}).get("topics", {})),
                                            "orders")})
        first = workloads[0]
        partitions = spec.pop("partitions", None)
        topic = spec.get("topic", first.get("topic"))
        for key, value in spec.items():
            first[key] = value
        if partitions is not None or topic not in scenario.get("cluster", {}).get("topics", {}):
            cluster = scenario.setdefault("cluster", {})
            topics = cluster.setdefault("topics", {})
            topics[topic] = partitions or topics.get(topic) or 6
        try:
            self._rebuild()
        except CommandError:
            self.scenario = old
            raise
        except Exception as exc:  # noqa: BLE001 - engine errors become replies
            self.scenario = old
            self._rebuild()
            raise _engine_error(exc, cmd.ref) from None
        self.last_step = None
        return {"workload": first}

    def _cmd_fault(self, cmd: Command) -> dict:
        fault = dict(cmd.args)
        try:
            self.sim.apply_fault(fault)
        except Exception as exc:  # noqa: BLE001 - engine errors become replies
            raise _engine_error(exc, cmd.ref) from None
        return {"fault": fault}

    # ---- frames -------------------------------------------------------------------------

    def state(self, full: bool = False) -> dict:
        """The whole state a browser draws: the engine's snapshot plus the lab's own.

        Slow sections are refreshed every few frames (``courseware.lab.frames``); ``full``
        or a pending command refreshes everything now.
        """
        snap = dict(self.frames.build(full=full or self._changed))
        self._changed = False
        snap["timeline"] = dict(snap.get("timeline") or {})
        _bound(snap)
        snap["lab"] = {
            "id": self.lab_id.rsplit(".", 1)[-1],
            "preset": self.preset_id,
            "title": self.scenario.get("title", self.preset_id),
            "summary": self.scenario.get("summary", ""),
            "seed": self.seed,
            "paused": self.paused,
            "speed": self.pacer.speed,
            "effective_speed": round(self.pacer.effective_speed, 3),
            "behind": self.pacer.behind and not self.paused,
            "fps": round(self.fps, 1),
            "overrides": dict(self.overrides),
            "last_step": self.last_step,
            "recent": list(self._recent)[-6:],
            "notice": self.notice,
            "workload": self._workload_summary(),
        }
        return snap

    def _workload_summary(self) -> dict:
        """The first workload of the scenario, with its topic's partition count (the form)."""
        workloads = self.scenario.get("workload") or []
        if not workloads:
            return {}
        first = dict(workloads[0])
        topics = (self.scenario.get("cluster") or {}).get("topics") or {}
        first["partitions"] = topics.get(first.get("topic"))
        return {k: v for k, v in first.items() if isinstance(v, (str, int, float, type(None)))}

    def full_frame(self) -> str:
        """The state the delta stream is based on, as a full frame (connect and resync).

        It is the state last sent (with its ``seq``), not a fresh one: every viewer of the
        lab must hold the same base for the next delta to apply.
        """
        if self._last_sent is None:
            self._last_sent = self.state(full=True)
            self.dirty = False
        return _json({"type": "frame", "seq": self.seq, "full": True, "state": self._last_sent})

    def delta_frame(self) -> str | None:
        """The next frame (``seq`` + 1) as a delta from the last one; None if nothing changed."""
        started = time.perf_counter()
        state = self.state()
        self.dirty = False
        if self._last_sent is None:
            self._last_sent = state
            self.seq += 1
            return _json({"type": "frame", "seq": self.seq, "full": True, "state": state})
        op = diff(self._last_sent, state)
        if op is None:
            return None
        self._last_sent = state
        self.seq += 1
        text = _json({"type": "delta", "seq": self.seq, "op": op})
        self.build_ms = (time.perf_counter() - started) * 1000.0
        return text

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None


def _bound(snap: dict) -> None:
    """Trim the snapshot's lists to the lab's frame bounds (the engine bounds them too)."""
    # never mutate in place: the previous frame (the delta base) may share these objects
    parts = snap.get("partitions") or []
    if any(len(p.get("queue") or ()) > MAX_QUEUE_BOXES for p in parts):
        snap["partitions"] = [
            {**p, "queue": p["queue"][:MAX_QUEUE_BOXES],
             "more": int(p.get("more") or 0) + len(p["queue"]) - MAX_QUEUE_BOXES}
            if len(p.get("queue") or ()) > MAX_QUEUE_BOXES else p for p in parts]
    timeline = snap.get("timeline") or {}
    for key, limit in (("batches", MAX_TIMELINE_BATCHES), ("arrivals", MAX_ARRIVALS),
                       ("events", MAX_EVENTS)):
        items = timeline.get(key)
        if isinstance(items, list) and len(items) > limit:
            timeline[key] = items[-limit:]


def next_speed(speed: float, direction: int) -> float:
    """The next slower (−1) or faster (+1) speed on the lab's ladder."""
    if direction > 0:
        faster = [s for s in SPEED_STEPS if s > speed * 1.0001]
        return faster[0] if faster else SPEED_STEPS[-1]
    slower = [s for s in SPEED_STEPS if s < speed * 0.9999]
    return slower[-1] if slower else SPEED_STEPS[0]
