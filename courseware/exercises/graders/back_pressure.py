"""Grader for ``back-pressure`` (Exercise 3: slow down, alert, account for every record).

The simulation runs once, here, in the trusted worker: a broker slow-down on the learner's
workload, asking the learner's ``Controller.tick(metrics, now_ms)`` every 100 ms for a rate
and an alert flag, and telling it every record's outcome. The Controller runs in the
sandbox; the two talk over the sandbox's peer pipes (``courseware/sandbox/peer.py``): we send
each tick's outcomes so far, metrics and clock, the harness answers with the decision, and at
the end with the learner's ``report()``. The pool pressure, the timeouts and every record's
outcome are thus the engine's own, computed on a pristine ``producer_core`` — no claim of the
program is believed but its decisions and its report, and the report is checked against
them. (Until 2026-12 the harness ran its own simulation in the sandbox and ``score()``
replayed its recorded decisions: the same result, but two simulations per grade.)

The learner sees the same calls in the same order as if the simulation ran beside it:
``tick`` k, the ``on_complete`` calls of what finished before tick k + 1, ``tick`` k + 1, …,
the completions of the final flush, ``report()``.
"""

from __future__ import annotations

import json
import math
from functools import partial
from random import Random

from courseware.exercises.graders.base import (
    CodeGrader,
    SandboxJob,
    SandboxResult,
    Verdict,
    error,
    goal,
    graded,
    run_problem,
)
from courseware.sandbox.peer import PeerGone

SCENARIO = r'''
from producer_core import Simulation

DURATION_MS = 25_000
TICK_MS = 100


def drive(v, decide, on_complete):
    """decide(tick, metrics, now_ms) -> (rate, alert); returns (decisions, pool per tick)."""
    sim = Simulation(config={"buffer.memory": v["buffer_memory"], "max.block.ms": 200,
                             "linger.ms": 5},
                     brokers=3, topics={"events": 3}, seed=v["sim_seed"])
    f, end = v["outage_at_ms"], v["outage_at_ms"] + v["outage_ms"]
    sim.schedule_faults([{"at_ms": f, "op": "slow_broker", "broker": b, "extra_ms": 3000}
                         for b in (1, 2, 3)] +
                        [{"at_ms": end, "op": "slow_broker", "broker": b, "extra_ms": 0}
                         for b in (1, 2, 3)])
    value = b"x" * v["value_bytes"]
    decisions, pool = [], []
    owed, rid, tick = 0.0, 0, 0
    while sim.now_ms < DURATION_MS:
        m = dict(sim.producer.metrics())
        pool.append(1 - m["buffer-available-bytes"] / m["buffer-total-bytes"])
        rate, alert = decide(tick, m, sim.now_ms)
        rate = min(max(float(rate), 0.0), float(v["base_rate"]))
        decisions.append([rate, bool(alert)])
        owed += rate * TICK_MS / 1000.0
        while owed >= 1:
            owed -= 1
            fut = sim.producer.send("events", value=value, key=b"k%d" % (rid % 20))
            fut.add_callback(lambda md, exc, rid=rid: on_complete(
                rid, type(exc).__name__ if exc else None))
            rid += 1
        tick += 1
        if sim.now_ms < tick * TICK_MS:
            sim.run_until(tick * TICK_MS)
    sim.producer.flush()
    return decisions, pool, rid
'''

HARNESS = r'''
import json
import os

import solution

variant = json.loads(open("variant.json").read())
controller = solution.Controller(variant["base_rate"])
# The grader runs the simulation and asks us; see courseware/sandbox/peer.py.
r, w = (int(fd) for fd in os.environ["PRODUCER_LAB_PEER"].split(","))
questions, answers = os.fdopen(r, "r"), os.fdopen(w, "w")
decisions, report = [], None
for line in questions:
    msg = json.loads(line)
    for record_id, error in msg["outcomes"]:
        controller.on_complete(record_id, error)
    if msg.get("end"):
        report = controller.report()
        answers.write(json.dumps({"report": report}, default=str) + "\n")
        answers.flush()
        break
    d = controller.tick(msg["metrics"], msg["now_ms"])
    decision = [float(d.get("rate", 0)), bool(d.get("alert", False))]
    decisions.append(decision)
    answers.write(json.dumps(decision) + "\n")
    answers.flush()
with open("result.json", "w") as f:  # for "run against the sample"; grading does not read it
    json.dump({"decisions": decisions, "report": report}, f, default=str)
'''

FULL = 0.90
SUSTAIN_TICKS = 20  # 2 s
ALERT_WITHIN_TICKS = 30  # 3 s after it became sustained


def _scenario() -> dict:
    ns: dict = {}
    exec(compile(SCENARIO, "back_pressure_scenario", "exec"), ns)  # noqa: S102 - our code
    return ns


def _rate(d: object) -> float:
    if not (isinstance(d, list) and len(d) == 2 and isinstance(d[0], (int, float))
            and not isinstance(d[0], bool) and math.isfinite(d[0])):
        raise PeerGone(f"tick() answered {json.dumps(d, default=str)[:80]}, not a rate "
                       "and an alert flag")
    return d[0]


def simulate(v: dict, channel) -> dict:
    """The trusted run: our simulation, the learner's decisions asked over ``channel``."""
    ns = _scenario()
    outcome: dict[int, str | None] = {}
    pending: list[list] = []

    def on_complete(rid: int, err: str | None) -> None:
        outcome[rid] = err
        pending.append([rid, err])

    def decide(tick: int, m: dict, now: int) -> tuple:
        channel.send({"outcomes": pending, "tick": tick, "metrics": m, "now_ms": now})
        pending.clear()
        d = channel.receive()
        return _rate(d), bool(d[1])

    used, pool, sent = ns["drive"](v, decide, on_complete)
    channel.send({"outcomes": pending, "end": True})
    reply = channel.receive()
    report = reply.get("report") if isinstance(reply, dict) else None
    return {"decisions": used, "pool": pool, "sent": sent, "outcome": outcome,
            "report": report}


class BackPressure(CodeGrader):
    slug = "back-pressure"
    harness = HARNESS
    classes = ("Controller",)

    def variant(self, seed: int) -> dict:
        rng = Random(seed)
        return {"base_rate": rng.choice([1500, 2000, 2500]),
                "value_bytes": rng.choice([800, 1000]),
                "buffer_memory": rng.choice([1048576, 2097152]),
                "outage_at_ms": rng.choice([4000, 5000, 6000]),
                "outage_ms": rng.choice([8000, 10000]),
                "sim_seed": rng.randrange(1, 10_000)}

    def sandbox_job(self, text: str, variant: dict) -> SandboxJob:
        job = super().sandbox_job(text, variant)
        job.peer = partial(simulate, dict(variant))
        return job

    def score(self, text: str, variant: dict, run: SandboxResult | None) -> Verdict:
        if run is None or run.killed or run.exit_code != 0:
            return run_problem(run)
        out = run.stdout + ("\n" + run.stderr if run.stderr else "")
        if run.peer_error or run.peer is None:
            return error(f"The run did not finish: {run.peer_error or 'no answer'}.", out)
        return self.score_run(variant, run.peer, out)

    def score_run(self, variant: dict, t: dict, out: str) -> Verdict:
        """``t`` is the trusted run: our simulation's pool, decisions used, outcomes, and
        the learner's report (the only claim)."""
        base = variant["base_rate"]
        pool, used = t["pool"], t["decisions"]
        failed = sorted(r for r, e in t["outcome"].items() if e)
        acked = sum(1 for e in t["outcome"].values() if e is None)
        report = t["report"] if isinstance(t["report"], dict) else {}
        mine_failed = report.get("failed") if isinstance(report.get("failed"), list) else None
        accounted = (len(t["outcome"]) == t["sent"] and report.get("acked") == acked
                     and mine_failed is not None and sorted(mine_failed) == failed)
        pressure = [i for i, p in enumerate(pool) if p >= FULL]
        backed = [i for i in pressure if used[i][0] <= 0.5 * base]
        sustained = next((i for i in range(SUSTAIN_TICKS, len(pool))
                          if all(p >= FULL for p in pool[i - SUSTAIN_TICKS:i + 1])), None)
        alerts = [i for i, d in enumerate(used) if d[1]]
        first_pressure = pressure[0] if pressure else None
        if sustained is None:
            alert_ok, alert_msg = not alerts, "The buffer never stayed full for 2 s."
        else:
            early = [i for i in alerts if first_pressure is None or i < first_pressure]
            in_time = [i for i in alerts if sustained <= i <= sustained + ALERT_WITHIN_TICKS]
            alert_ok = bool(in_time) and not early
            alert_msg = (f"The buffer was ≥ 90 % full for 2 s at {sustained / 10:.1f} s; "
                         + (f"your alert came at {in_time[0] / 10:.1f} s." if in_time else
                            "no alert within 3 s of that.")
                         + (" An alert before any pressure is a false alarm." if early else ""))
        tail = used[-30:]
        tail_rate = sum(d[0] for d in tail) / max(1, len(tail))
        goals = [
            goal("accounted", accounted, 2,
                 f"The engine saw {acked} acknowledged and {len(failed)} failed of "
                 f"{t['sent']} sent; you reported {report.get('acked')!r} acknowledged and "
                 f"{len(mine_failed) if mine_failed is not None else 'no list of'} failed."),
            goal("back-off", bool(pressure) and len(backed) == len(pressure), 2,
                 f"The pool was ≥ 90 % full at {len(pressure)} ticks; you slowed to ≤ 50 % of "
                 f"{base} records/s at {len(backed)} of them.",
                 fraction=len(backed) / len(pressure) if pressure else 0.0),
            goal("alert", alert_ok, 1, alert_msg),
            goal("recovered", tail_rate >= 0.8 * base, 1,
                 f"Over the last 3 s you produced at {tail_rate:,.0f} records/s "
                 f"(needs ≥ {0.8 * base:,.0f} once the brokers are fast again)."),
        ]
        return graded(goals, out)


GRADER = BackPressure()
