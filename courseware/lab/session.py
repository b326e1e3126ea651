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
from collections.abc import Generator
from typing import Any

import orjson

from courseware.lab.commands import Command, CommandError
from courseware.lab.delta import diff
from courseware.lab.frames import FrameBuilder
from courseware.lab.pacing import Pacer, wall_ms
from producer_core.interceptors import chain_stats

DEFAULT_PRESET = "kafka-defaults"
SPEED_STEPS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)
# Bounds that keep a frame's size independent of the run's length (DESIGN §5).
MAX_QUEUE_BOXES = 8
MAX_TIMELINE_BATCHES = 200
MAX_ARRIVALS = 400
LOG_RETENTION_BATCHES = 1000  # per partition, in live labs, at most (batch runs keep all)
LOG_RETENTION_BYTES = 4 * 1024 * 1024  # per lab: fewer batches per partition when they are big
MAX_EVENTS = 100
MAX_STEP_ENGINE_STEPS = 5000  # a 1,000-event step costs tens of ms of CPU, never seconds
# What one lab may ask of the process (issue 8: every accepted command has a bounded cost).
MAX_VALUE_BYTES = 16384  # random / fixed values; a workload pre-generates ~2,000 of them
MAX_GENERATED_VALUE_BYTES = 4096  # json-* and text values take ~0.3 µs per byte to generate
MAX_BYTES_PER_S = 50_000_000  # records/s × value bytes of one lab
MAX_KEYS = 100_000  # uniform:N / zipf:N (the keys are pre-built)
MAX_TOPICS = 8
MAX_STRIDE_STEPS = 640  # engine steps between two looks at the CPU clock, at most
STEP_CLOCK_EVERY = 4  # a stepped engine step builds its events: look at the clock often


def _drain(gen: Generator[None, None, Any]) -> Any:
    """Run a slicing generator to its end in one go; its result."""
    while True:
        try:
            next(gen)
        except StopIteration as done:
            return done.value


def _json(value: Any) -> str:
    """A frame's JSON text.  orjson: 6x faster than ``json.dumps`` on a lab's state (a
    frame's encoding had been a fifth of its cost), the same JSON (non-finite floats become
    ``null``, which the browser's ``JSON.parse`` accepts where ``NaN`` broke it).  An
    integer past 64 bits (a learner's config value can be any number) goes the slow way."""
    try:
        return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value, separators=(",", ":"), default=str)


def _engine_error(exc: Exception, ref: Any) -> CommandError:
    """Turn an engine exception (ConfigError, ScenarioError, ValueError…) into a reply."""
    name = type(exc).__name__
    return CommandError("rejected", f"{name}: {exc}", ref)


class LabSession:
    """One live lab: a simulation, its pacing, the learner's changes and its frame stream."""

    def __init__(self, lab_id: str, *, preset: str | None = None, seed: int | None = None,
                 max_rate: int = 200_000, scenario: dict | None = None) -> None:
        """``scenario`` (a scenario dict built by server code, e.g. a graded run's replay)
        replaces the preset's; ``preset`` then only names it."""
        self.lab_id = lab_id
        self.max_rate = max_rate
        self.preset_id = preset or DEFAULT_PRESET
        self.scenario = (copy.deepcopy(scenario) if scenario is not None
                         else self._load_preset(self.preset_id))
        self.seed = int(seed if seed is not None else self.scenario.get("seed", 42))
        self.overrides: dict[str, Any] = {}  # the learner's explicit config changes
        self.paused = False
        self.pacer = Pacer(1.0)
        self.seq = 0
        self._last_sent: dict | None = None
        self._full_text: tuple[dict, int, str] | None = None  # (state, seq, its full frame)
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
        self.run = 0  # rises each time the simulation restarts at t = 0 (lab.run in frames)
        self._prebuilt: tuple[str, Any] | None = None  # (scenario key, sim) from prepare()
        self._rebuild()

    # ---- building -------------------------------------------------------------------

    @staticmethod
    def _load_preset(preset_id: str) -> dict:
        from producer_core import presets

        try:
            return presets.load(preset_id)
        except KeyError as exc:
            raise CommandError("invalid", str(exc.args[0])) from None

    def _scenario_dict(self, base: dict | None = None, overrides: dict | None = None) -> dict:
        scenario = copy.deepcopy(self.scenario if base is None else base)
        config = dict(scenario.get("config") or {})
        config.update(self.overrides if overrides is None else overrides)
        scenario["config"] = config
        return scenario

    def _build_sim(self, scenario: dict, seed: int):
        """A new simulation for ``scenario`` (overrides merged) and ``seed``; touches nothing
        of the session, so a thread may run it (``prepare``)."""
        from producer_core.scenario import Scenario

        self._check_rate(scenario)
        sim = Scenario.from_dict(scenario).build(seed=seed)
        # A lab can run for hours: keep a window of each partition's log, not all of it.
        sim.cluster.set_log_retention(log_retention(scenario))
        return sim

    def prepare(self, cmd: Command) -> None:
        """Build, off the event loop, the simulation that ``apply(cmd)`` is about to install.

        Building takes 0.1–2 s of CPU (workload values are generated up front); the lab's
        runner calls this in a worker thread, then ``apply`` on the loop finds the result
        (keyed by scenario and seed) instead of building it there.  Anything that refuses
        the command before building is left for ``apply`` to raise.
        """
        planned = self._planned(cmd)
        if planned is None:
            return
        scenario, seed = planned
        try:
            sim = self._build_sim(scenario, seed)
        except CommandError:
            return
        except Exception as exc:  # noqa: BLE001 - apply reports it as the command's error
            sim = exc
        self._prebuilt = (_build_key(scenario, seed), sim)

    def _planned(self, cmd: Command) -> tuple[dict, int] | None:
        """The (scenario with overrides, seed) ``cmd`` would rebuild from; None if it does
        not rebuild or would be refused anyway."""
        try:
            if cmd.type == "reset":
                seed = cmd.args.get("seed")
                return self._scenario_dict(), int(self.seed if seed is None else seed)
            if cmd.type == "preset":
                scenario = self._load_preset(cmd.args["id"])
                return self._scenario_dict(scenario, {}), int(scenario.get("seed", 42))
            if cmd.type == "workload":
                return self._scenario_dict(self._with_workload(cmd.args)), self.seed
        except CommandError:
            return None
        return None

    def _rebuild(self) -> None:
        """Build a fresh simulation from the scenario, the overrides and the seed (or take
        the one ``prepare`` built for exactly these)."""
        scenario = self._scenario_dict()
        prebuilt, self._prebuilt = self._prebuilt, None
        if prebuilt is not None and prebuilt[0] == _build_key(scenario, self.seed):
            sim = prebuilt[1]
            if isinstance(sim, Exception):
                raise sim
        else:
            sim = self._build_sim(scenario, self.seed)
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self.sim is not None:
            self.sim.dispose()  # freed now, not at the next full collection
        self.sim = sim
        self.run += 1  # a new run: browsers drop what they drew of the previous one
        self.frames = FrameBuilder(sim)
        self._recent.clear()
        self._events_seen = 0
        self.notice = None  # a flush/close notice belongs to the run it happened in
        self.pacer.anchor(sim.now_ms)
        self.dirty = True

    def _check_rate(self, scenario: dict) -> None:
        """Refuse, before anything is built, a workload whose cost alone is unbounded."""
        workloads = scenario.get("workload") or []
        rate = sum(int(w.get("rate") or 0) for w in workloads)
        if rate > self.max_rate:
            raise CommandError(
                "capacity",
                f"This server runs live labs at up to {self.max_rate:,} records/s each; "
                f"the workload asks for {rate:,}. Lower the rate (or run the experiment "
                f"offline with `python -m producer_core`).")
        for w in workloads:
            _check_workload_cost(w)
        topics = (scenario.get("cluster") or {}).get("topics") or {}
        if len(topics) > MAX_TOPICS:
            raise CommandError("invalid", f"a live lab has at most {MAX_TOPICS} topics; this "
                                          f"one would have {len(topics)}")

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

    def seek(self, t_ms: int, max_steps: int = 5_000_000) -> None:
        """Run the engine unpaced to virtual time ``t_ms`` and pause there (a replay opens
        at the moment that mattered); at most ``max_steps`` scheduler entries."""
        scheduler = self.sim.scheduler
        steps = 0
        while self.sim.now_ms < t_ms and steps < max_steps:
            nxt = scheduler.peek_ms()
            if nxt is None or nxt > t_ms:
                scheduler.run_until(t_ms)
                break
            scheduler.step()
            steps += 1
        self.paused = True
        self.pacer.anchor(self.sim.now_ms)
        self.dirty = self._changed = True

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
        return _drain(self.stepping(count))

    def stepping(self, count: int = 1,
                 slice_ms: float | None = None) -> Generator[None, None, dict]:
        """:meth:`step` in slices: a generator that yields after about ``slice_ms`` of CPU
        (never, for None) and returns the step's result.  The lab's runner awaits between
        slices, so a 1,000-event step (up to ~100 ms of CPU on a heavy preset) does not
        hold daphne's event loop in one go.  The engine runs the same entries in the same
        order however it is sliced (the lab is paused: nothing else moves it meanwhile)."""
        self.paused = True
        # Listen to every event only while stepping: a subscriber makes the engine build
        # an event object per record, which a running lab does not need.
        self._recent.clear()
        self._events_seen = 0
        unsubscribe = self.sim.events.subscribe(self._on_event)
        engine_steps = 0
        start_ms = self.now_ms
        clock = time.thread_time
        deadline = None if slice_ms is None else clock() + slice_ms / 1000.0
        try:
            while self._events_seen < count and engine_steps < MAX_STEP_ENGINE_STEPS:
                if not self.sim.scheduler.step():
                    break
                engine_steps += 1
                if deadline is not None and engine_steps % STEP_CLOCK_EVERY == 0 \
                        and clock() >= deadline:
                    yield
                    deadline = clock() + slice_ms / 1000.0
        finally:
            unsubscribe()
        self.pacer.anchor(self.sim.now_ms)
        recent = list(self._recent)[-6:]
        self.last_step = {"events": self._events_seen, "engine_steps": engine_steps,
                          "from_ms": start_ms, "to_ms": self.now_ms, "recent": recent}
        self.dirty = True
        return self.last_step

    def applying(self, cmd: Command,
                 slice_ms: float | None = None) -> Generator[None, None, dict]:
        """:meth:`apply` as a generator that yields between the slices of a ``step``
        (other commands are cheap or built off the loop beforehand: applied at once)."""
        if cmd.type != "step":
            return self.apply(cmd)
        result = yield from self.stepping(cmd.args.get("count", 1), slice_ms)
        self.dirty = True
        self._changed = True
        return result

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
        self.sim.cluster.set_log_retention(log_retention(self._scenario_dict()))
        # Unknown keys are accepted as Kafka accepts them; the reply (and every frame's
        # "warnings") says Kafka would ignore them.
        return {"config": cmd.args.get("set", {}), "unset": cmd.args.get("unset", []),
                "warnings": list(cfg.warnings)}

    def _with_workload(self, args: dict) -> dict:
        """A copy of the scenario with its first workload changed by ``args``.  Topics the
        learner added and no workload uses any more are dropped (they would pile up)."""
        scenario = copy.deepcopy(self.scenario)
        spec = dict(args)
        workloads = scenario.setdefault("workload", [])
        if not workloads:
            workloads.append({"topic": next(iter(scenario.get("cluster", {}).get("topics", {})),
                                            "orders")})
        first = workloads[0]
        partitions = spec.pop("partitions", None)
        topic = spec.get("topic", first.get("topic"))
        for key, value in spec.items():
            first[key] = value
        cluster = scenario.setdefault("cluster", {})
        topics = cluster.setdefault("topics", {})
        # A new topic without a partition count is left to the broker, which auto-creates
        # it on the producer's first metadata request (num.partitions=1), as Kafka does.
        if partitions is not None or (topic not in topics
                                      and not cluster.get("auto_create_topics", True)):
            topics[topic] = partitions or topics.get(topic) or 6
        preset_topics = (self._load_preset(self.preset_id).get("cluster") or {}).get("topics")
        used = {w.get("topic") for w in workloads}
        cluster["topics"] = {t: n for t, n in topics.items()
                             if t in used or t in (preset_topics or {})}
        return scenario

    def _cmd_workload(self, cmd: Command) -> dict:
        """Change the workload: the lab restarts from t=0 with the same seed and config."""
        old = self.scenario
        self.scenario = self._with_workload(cmd.args)
        try:
            self._rebuild()
        except CommandError:
            self.scenario = old
            raise
        except Exception as exc:  # noqa: BLE001 - engine errors become replies
            self.scenario = old  # nothing was installed: the running lab goes on
            raise _engine_error(exc, cmd.ref) from None
        self.last_step = None
        return {"workload": self.scenario["workload"][0]}

    def _cmd_fault(self, cmd: Command) -> dict:
        fault = dict(cmd.args)
        try:
            self.sim.apply_fault(fault)
        except Exception as exc:  # noqa: BLE001 - engine errors become replies
            raise _engine_error(exc, cmd.ref) from None
        return {"fault": fault}

    def _cmd_flush(self, cmd: Command) -> dict:
        """Kafka's ``flush()`` from another application thread: queued batches leave now
        (close reason "flush"); the lab says when it would have returned."""
        producer = self.sim.producer
        if producer.closed:
            raise CommandError("rejected", "the producer is closed: flush() after close() "
                               "throws in Kafka. Reset the lab for a new producer.", cmd.ref)
        started = self.now_ms

        def returned(elapsed_ms: int) -> None:
            self.notice = (f"flush() called at {started} ms returned after {elapsed_ms} ms: "
                           f"every record sent before it was acknowledged or failed.")
            self.dirty = True

        self.notice = f"flush() called at {started} ms: waiting for every batch to complete…"
        batches = producer.flush_in_background(on_done=returned)  # may return at once
        return {"flush": {"batches": batches, "at_ms": started}}

    def _cmd_close(self, cmd: Command) -> dict:
        """Kafka's ``close(timeout)``: no more records; what is unfinished after the
        timeout is aborted. The application's send() calls fail from now on."""
        timeout = cmd.args.get("timeout_ms")
        producer = self.sim.producer
        if producer.closed:
            raise CommandError("rejected", "the producer is already closed; Reset the lab "
                               "for a new one.", cmd.ref)
        producer.close_in_background(timeout)
        wait = "as long as it takes" if timeout is None else f"up to {timeout} ms"
        self.notice = (f"close() at {self.now_ms} ms: the producer sends what it holds, "
                       f"waiting {wait}; the rest is aborted. send() now fails (\"Cannot "
                       f"perform operation after producer has been closed\"): Reset for a new "
                       f"producer.")
        return {"close": {"timeout_ms": timeout, "at_ms": self.now_ms}}

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
            "run": self.run,
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
            "interceptors": chain_stats(self.sim.producer.interceptors),
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
        lab must hold the same base for the next delta to apply.  Encoded once per frame:
        a room's followers attach (and resync) by the hundred, each full frame is ~80 KB of
        JSON (~1 ms), and they all get the same text.
        """
        if self._last_sent is None:
            self._last_sent = self.state(full=True)
            self.dirty = False
        cached = self._full_text
        if cached is None or cached[0] is not self._last_sent or cached[1] != self.seq:
            text = _json({"type": "frame", "seq": self.seq, "full": True,
                          "state": self._last_sent})
            cached = self._full_text = (self._last_sent, self.seq, text)
        return cached[2]

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
        if self.sim is not None:
            self.sim.dispose()  # its records are freed now, not at the next full collection
        prebuilt, self._prebuilt = self._prebuilt, None
        if prebuilt is not None and not isinstance(prebuilt[1], Exception):
            prebuilt[1].dispose()


def log_retention(scenario: dict) -> int:
    """Batches kept per partition so that a lab's logs stay near ``LOG_RETENTION_BYTES``
    (a count alone let 16 KB values keep ~100 MB per lab): between 10 and 1,000."""
    topics = (scenario.get("cluster") or {}).get("topics") or {}
    partitions = sum(n for n in topics.values() if isinstance(n, int)) or 1
    batch = (scenario.get("config") or {}).get("batch.size", 16384)
    batch = batch if isinstance(batch, int) and batch > 0 else 16384
    value = max((int(w.get("value_bytes") or 0) for w in scenario.get("workload") or []),
                default=0)
    per_batch = min(max(batch, value + 100), 1 << 20)
    return max(10, min(LOG_RETENTION_BATCHES, LOG_RETENTION_BYTES // (partitions * per_batch)))


def _build_key(scenario: dict, seed: int) -> str:
    return f"{seed}:{_json(scenario)}"


def _check_workload_cost(w: dict) -> None:
    """Value sizes, bytes/s and key counts a live lab can afford (each is built up front)."""
    data = w.get("data") or "json-orders"
    size = w.get("value_bytes")
    size = int(size) if isinstance(size, (int, float)) and not isinstance(size, bool) else 0
    limit = MAX_VALUE_BYTES if data in ("random", "fixed") else MAX_GENERATED_VALUE_BYTES
    if size > limit:
        raise CommandError("invalid", f"value_bytes {size:,} is more than a live lab generates "
                                      f"for data {data!r} (at most {limit:,}; random and fixed "
                                      f"data up to {MAX_VALUE_BYTES:,})")
    rate = int(w.get("rate") or 0)
    if rate * max(size, 1) > MAX_BYTES_PER_S:
        raise CommandError("invalid", f"rate × value_bytes = {rate * size / 1e6:,.0f} MB/s; a "
                                      f"live lab sends at most {MAX_BYTES_PER_S / 1e6:,.0f} MB/s "
                                      f"— lower the rate or the value size")
    keys = str(w.get("keys") or "none")
    head, _, tail = keys.partition(":")
    if head in ("uniform", "zipf") and tail.isdigit() and int(tail) > MAX_KEYS:
        raise CommandError("invalid", f"keys {keys}: a live lab uses at most {MAX_KEYS:,} "
                                      f"distinct keys")


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
