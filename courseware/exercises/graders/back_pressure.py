"""Grader for ``back-pressure`` (Exercise 3: slow down, alert, account for every record).

The harness (in the sandbox) runs a broker slow-down on the learner's workload and asks the
learner's ``Controller.tick(metrics, now_ms)`` every 100 ms for a rate and an alert flag;
the learner also gets every record's outcome and reports what it counted. result.json holds
the decisions and the report — claims only. ``score()`` replays the recorded decisions in a
fresh simulation here (the same scenario code, one string), so the pool pressure, the
timeouts and every record's outcome are the engine's, and checks the report against them.
"""

from __future__ import annotations

from random import Random

from courseware.exercises.graders.base import CodeGrader, Verdict, error, goal, graded

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

HARNESS = SCENARIO + r'''
import json
import solution

variant = json.loads(open("variant.json").read())
controller = solution.Controller(variant["base_rate"])


def decide(tick, metrics, now_ms):
    d = controller.tick(metrics, now_ms)
    return d.get("rate", 0), d.get("alert", False)


decisions, _, _ = drive(variant, decide, controller.on_complete)
with open("result.json", "w") as f:
    json.dump({"decisions": decisions, "report": controller.report()}, f, default=str)
'''

FULL = 0.90
SUSTAIN_TICKS = 20  # 2 s
ALERT_WITHIN_TICKS = 30  # 3 s after it became sustained


def replay(v: dict, decisions: list) -> dict:
    ns: dict = {}
    exec(compile(SCENARIO, "back_pressure_scenario", "exec"), ns)  # noqa: S102 - our code
    outcome: dict[int, str | None] = {}

    def decide(tick: int, m: dict, now: int) -> tuple:
        d = decisions[tick] if tick < len(decisions) else [0, False]
        ok = isinstance(d, list) and len(d) == 2
        rate = d[0] if ok and isinstance(d[0], (int, float)) and d[0] == d[0] else 0
        return rate, bool(d[1]) if ok else False

    used, pool, sent = ns["drive"](v, decide, lambda rid, err: outcome.__setitem__(rid, err))
    return {"decisions": used, "pool": pool, "sent": sent, "outcome": outcome}


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

    def score_claims(self, variant: dict, data: dict, out: str) -> Verdict:
        if not isinstance(data.get("decisions"), list):
            return error("The program's report (result.json) has no decisions.", out)
        t = replay(variant, data["decisions"])
        base = variant["base_rate"]
        pool, used = t["pool"], t["decisions"]
        failed = sorted(r for r, e in t["outcome"].items() if e)
        acked = sum(1 for e in t["outcome"].values() if e is None)
        report = data.get("report") if isinstance(data.get("report"), dict) else {}
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
