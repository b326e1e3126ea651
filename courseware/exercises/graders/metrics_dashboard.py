"""Grader for ``metrics-dashboard`` (Exercise 4: a Micrometer-style collector).

The harness (in the sandbox) runs one scenario — two topics at the learner's rates, a burst
of broker errors of two types — and feeds the learner's ``Collector`` every completion and
a metrics sample each second; it writes ``collector.report()`` (claims) to result.json.
``score()`` runs the same scenario here on a pristine engine and compares each figure with
its own: records/s by topic and errors/s by type from its own count, average batch size and
send-latency percentiles from the engine's metrics, buffer utilisation from the samples.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from random import Random

from courseware.exercises.graders.base import CodeGrader, Verdict, close, goal, graded

SCENARIO = r'''
from producer_core import Simulation

DURATION_MS = 20_000
TOPICS = ("orders", "clicks")


def drive(v, completion, sample):
    """Run the scenario; completion(topic, sent_ms, done_ms, error_name|None) per record,
    sample(metrics) every second. Returns the simulation (for the trusted side)."""
    sim = Simulation(config={"linger.ms": v["linger_ms"], "retries": 0,
                             "enable.idempotence": False},
                     brokers=3, topics={t: 3 for t in TOPICS}, seed=v["sim_seed"])
    sim.schedule_faults([
        {"at_ms": v["fault_at_ms"], "op": "fail_next", "broker": 1, "count": v["errors_a"],
         "error": "NOT_ENOUGH_REPLICAS"},
        {"at_ms": v["fault_at_ms"] + 3000, "op": "fail_next", "broker": 2,
         "count": v["errors_b"], "error": "NOT_LEADER_OR_FOLLOWER"}])
    rates = {"orders": v["orders_rate"], "clicks": v["clicks_rate"]}
    owed = {t: 0.0 for t in TOPICS}
    value = b"x" * v["value_bytes"]
    n = 0
    next_sample = 1000
    while sim.now_ms < DURATION_MS:
        for t in TOPICS:
            owed[t] += rates[t] / 100.0
            while owed[t] >= 1:
                owed[t] -= 1
                sent = sim.now_ms
                f = sim.producer.send(t, value=value, key=b"k%d" % (n % 50))
                n += 1
                f.add_callback(lambda md, exc, t=t, sent=sent: completion(
                    t, sent, sim.now_ms, type(exc).__name__ if exc else None))
        sim.run_for(10)
        if sim.now_ms >= next_sample:
            next_sample += 1000
            sample(dict(sim.producer.metrics()))
    sim.producer.flush()
    return sim
'''

HARNESS = SCENARIO + r'''
import json
import solution

variant = json.loads(open("variant.json").read())
collector = solution.Collector()
drive(variant, collector.record_completion, collector.sample)
with open("result.json", "w") as f:
    json.dump(collector.report(), f, default=str)
'''


@lru_cache(maxsize=32)
def _truth(variant_json: str) -> dict:
    v = json.loads(variant_json)
    ns: dict = {}
    exec(compile(SCENARIO, "metrics_dashboard_scenario", "exec"), ns)  # noqa: S102 - ours
    acked: dict[str, int] = {t: 0 for t in ns["TOPICS"]}
    errors: dict[str, int] = {}
    utilisation: list[float] = []

    def completion(topic: str, sent: int, done: int, err: str | None) -> None:
        if err:
            errors[err] = errors.get(err, 0) + 1
        else:
            acked[topic] += 1

    def sample(m: dict) -> None:
        utilisation.append(100.0 * (1 - m["buffer-available-bytes"] / m["buffer-total-bytes"]))

    sim = ns["drive"](v, completion, sample)
    m = sim.producer.metrics()
    secs = ns["DURATION_MS"] / 1000.0
    return {"records_per_s": {t: acked[t] / secs for t in acked},
            "batch_size_avg": m["batch-size-avg"],
            "buffer_utilisation_pct": sum(utilisation) / len(utilisation),
            "latency_ms": {p: m[f"send-latency-{p}"] for p in ("p50", "p95", "p99")},
            "error_rate_per_s": {k: n / secs for k, n in sorted(errors.items())}}


def truth(v: dict) -> dict:
    return _truth(json.dumps(v, sort_keys=True))


@dataclass
class DashboardVerdict(Verdict):
    dashboard: dict | None = None  # {"yours": claims, "engine": truth}, shown on the page


def _num(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


class MetricsDashboard(CodeGrader):
    slug = "metrics-dashboard"
    harness = HARNESS
    classes = ("Collector",)

    def variant(self, seed: int) -> dict:
        rng = Random(seed)
        return {"orders_rate": rng.choice([200, 300, 500]),
                "clicks_rate": rng.choice([800, 1000, 1500]),
                "value_bytes": rng.choice([100, 300, 600]),
                "linger_ms": rng.choice([2, 5, 10]),
                "fault_at_ms": rng.choice([4000, 6000, 8000]),
                "errors_a": rng.choice([2, 3, 4]), "errors_b": rng.choice([1, 2]),
                "sim_seed": rng.randrange(1, 10_000)}

    def prepare(self, variant: dict) -> None:
        truth(variant)

    def score_claims(self, variant: dict, got: dict, out: str) -> Verdict:
        t = truth(variant)

        def mapping(name: str, rel: float, weight: float, unit: str) -> object:
            want, mine = t[name], got.get(name)
            mine = mine if isinstance(mine, dict) else {}
            bad = [k for k in want if not close(mine.get(k), want[k], rel, 0.05)]
            extra = [k for k in mine if k not in want]
            ok = not bad and not extra
            msg = ("All match the engine's own figures." if ok else
                   "; ".join([f"{k}: you said {mine.get(k)!r}, engine {want[k]:.3f} {unit}"
                              for k in bad] + [f"{k}: not seen by the engine" for k in extra]))
            return goal(name, ok, weight, msg)

        def scalar(name: str, rel: float, abs_tol: float, weight: float, unit: str) -> object:
            mine = got.get(name)
            ok = _num(mine) and close(mine, t[name], rel, abs_tol)
            return goal(name, ok, weight, f"You said {mine!r}, the engine measured "
                                          f"{t[name]:.3f} {unit}.")

        goals = [mapping("records_per_s", 0.02, 2, "records/s"),
                 scalar("batch_size_avg", 0.05, 1.0, 1, "bytes"),
                 scalar("buffer_utilisation_pct", 0.10, 0.5, 1, "%"),
                 mapping("latency_ms", 0.15, 2, "ms"),
                 mapping("error_rate_per_s", 0.02, 2, "errors/s")]
        # The page shows the learner's dashboard beside the engine's own figures.
        yours = {k: got.get(k) for k in t if len(json.dumps(got.get(k), default=str)) <= 2000}
        return DashboardVerdict(**vars(graded(goals, out)),
                                dashboard={"yours": yours, "engine": t})


GRADER = MetricsDashboard()
