"""Grader for ``health-check`` (Exercise 5: an actuator-style health indicator).

The harness (inside the sandbox) runs five scenarios — healthy, filling buffer, failing
broker, unreachable cluster, recovered — samples ``producer.metrics()`` every second of
virtual time and asks the learner's ``check_health(history)`` for a verdict every 10 s; it
writes those verdicts (claims) to result.json. ``score()`` runs the same scenarios here on a
pristine engine, applies the rules of the statement to the engine's own samples and compares.
The scenario code is one string, executed by both, so the two runs are the same simulation.
"""

from __future__ import annotations

import json
from functools import lru_cache
from random import Random

from courseware.exercises.graders.base import CodeGrader, Limits, Verdict, goal, graded

CHECKS = ("cluster", "buffer", "success_rate", "sustained_failures")

SCENARIOS = r'''
from producer_core import Simulation

NAMES = ("healthy", "filling-buffer", "failing-broker", "unreachable", "recovered")
CHECK_EVERY_MS = 10_000
DURATION_MS = 90_000
HISTORY = 61


def build(name, v):
    config = {"linger.ms": 5, "delivery.timeout.ms": 4000, "request.timeout.ms": 1500,
              "max.block.ms": 500}
    if name == "filling-buffer":
        config["buffer.memory"] = v["small_buffer"]
    sim = Simulation(config=config, brokers=3, topics={"events": 3}, seed=v["sim_seed"])
    sim.add_workload({"topic": "events", "rate": v["rate"], "value_bytes": v["value_bytes"],
                      "keys": "uniform:30"})
    f = v["fault_at_ms"]
    faults = {
        "healthy": [],
        "filling-buffer": [{"at_ms": f, "op": "slow_broker", "broker": b, "extra_ms": 400}
                           for b in (1, 2, 3)],
        "failing-broker": [{"at_ms": f, "op": "cut_network", "broker": 2}],
        "unreachable": [{"at_ms": f, "op": "cut_network", "broker": b} for b in (1, 2, 3)],
        "recovered": [{"at_ms": f, "op": "cut_network", "broker": 2},
                      {"at_ms": f + 6000, "op": "restore_network", "broker": 2}],
    }[name]
    if faults:
        sim.schedule_faults(faults)
    return sim


def sample(sim):
    m = sim.producer.metrics()
    keep = ("buffer-available-bytes", "buffer-total-bytes", "records-acked-total",
            "record-error-total", "record-send-total", "waiting-threads")
    s = {k: m.get(k, 0) for k in keep}
    s["now_ms"] = sim.now_ms
    return s


def drive(name, v, decide):
    """Run one scenario; call decide(history) every CHECK_EVERY_MS; return the answers."""
    sim = build(name, v)
    history, answers = [], []
    while sim.now_ms < DURATION_MS:
        sim.run_for(1000)
        history.append(sample(sim))
        del history[:-HISTORY]
        if sim.now_ms % CHECK_EVERY_MS == 0:
            answers.append({"at_ms": sim.now_ms, "answer": decide(list(history))})
    return answers
'''

HARNESS = SCENARIOS + r'''
import json
import solution

variant = json.loads(open("variant.json").read())
out = {}
for name in NAMES:
    out[name] = drive(name, variant, lambda h: solution.check_health([dict(s) for s in h]))
with open("result.json", "w") as f:
    json.dump(out, f, default=str)
'''


def _scenarios() -> dict:
    ns: dict = {}
    exec(compile(SCENARIOS, "health_check_scenarios", "exec"), ns)  # noqa: S102 - our code
    return ns


def rules(history: list[dict]) -> dict:
    """The statement's rules applied to samples (each: metrics + now_ms, 1 s apart)."""
    now = history[-1]
    total = now["buffer-total-bytes"] or 1
    used = 1 - now["buffer-available-bytes"] / total

    def delta(key: str, back: int) -> float:
        old = history[max(0, len(history) - 1 - back)]
        return now[key] - old[key]

    acked10, sent10 = delta("records-acked-total", 10), delta("record-send-total", 10)
    acked60, err60 = delta("records-acked-total", 60), delta("record-error-total", 60)
    windows = [history[max(0, len(history) - 1 - 10 * (i + 1)):len(history) - 10 * i]
               for i in range(6)]
    failing = len(history) >= 61 and all(
        w[-1]["record-error-total"] > w[0]["record-error-total"] for w in windows)
    checks = {"cluster": acked10 > 0 or sent10 == 0,
              "buffer": used < 0.80,
              "success_rate": (acked60 / (acked60 + err60) > 0.99) if acked60 + err60 else True,
              "sustained_failures": not failing}
    return {"status": "UP" if all(checks.values()) else "DOWN", "checks": checks}


@lru_cache(maxsize=32)
def _truth(variant_json: str) -> dict:
    v = json.loads(variant_json)
    ns = _scenarios()
    return {name: ns["drive"](name, v, rules) for name in ns["NAMES"]}


def truth(v: dict) -> dict:
    return _truth(json.dumps(v, sort_keys=True))


class HealthCheck(CodeGrader):
    slug = "health-check"
    harness = HARNESS
    functions = ("check_health",)
    limits = Limits(cpu_s=30, wall_s=60)

    def variant(self, seed: int) -> dict:
        rng = Random(seed)
        return {"rate": rng.choice([100, 150, 200]),
                "value_bytes": rng.choice([200, 500, 1000]),
                "small_buffer": rng.choice([131072, 262144]),
                "fault_at_ms": rng.choice([5000, 8000, 12000]),
                "sim_seed": rng.randrange(1, 10_000)}

    def prepare(self, variant: dict) -> None:
        truth(variant)

    def score_claims(self, variant: dict, data: dict, out: str) -> Verdict:
        goals = []
        for name, expected in truth(variant).items():
            got = data.get(name) if isinstance(data.get(name), list) else []
            right, first_bad = 0, None
            for i, exp in enumerate(expected):
                ans = got[i].get("answer") if i < len(got) and isinstance(got[i], dict) else None
                ok = (isinstance(ans, dict) and ans.get("status") == exp["answer"]["status"]
                      and isinstance(ans.get("checks"), dict)
                      and all(ans["checks"].get(c) is exp["answer"]["checks"][c]
                              for c in CHECKS))
                right += ok
                if not ok and first_bad is None:
                    first_bad = (f"at {exp['at_ms'] // 1000} s you said "
                                 f"{json.dumps(ans)[:200]}, expected "
                                 f"{json.dumps(exp['answer'])}")
            n = len(expected)
            goals.append(goal(name, right == n, 1,
                              f"{right} of {n} checks right" +
                              (f"; first miss {first_bad}." if first_bad else "."),
                              fraction=right / n))
        return graded(goals, out)


GRADER = HealthCheck()
