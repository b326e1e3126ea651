"""Grader for ``batching-benchmark`` (Exercise 1: batch.size × linger.ms).

Part A: the learner's program runs the grid in the sandbox and reports a table; we run the
same grid here on a pristine engine and compare every cell within stated tolerances.
Part B: the learner's program names a config for "X records/s under Y ms average latency";
we re-simulate that config on the learner's workload (any config meeting the goals passes)
and check that no smaller grid batch.size would also have met them ("cheapest").
"""

from __future__ import annotations

import json
from functools import lru_cache
from random import Random

from courseware.exercises.graders.base import (
    CodeGrader,
    Limits,
    Verdict,
    close,
    config_warnings,
    goal,
    graded,
    run_workload,
)

BATCH_KB = (4, 16, 32, 64, 128)
LINGER_MS = (0, 5, 20, 50, 100)
RECORDS = 5_000  # per cell: the article's 1M scaled down so grading takes seconds
REL_THROUGHPUT = 0.03
REL_LATENCY = 0.10
ABS_LATENCY_MS = 0.2
RATE_SLACK = 0.90  # "reaches X records/s": ≥ 90 % of X (a 5k-record run includes its start-up)

HARNESS = '''\
import json
import solution

workload = json.loads(open("workload.json").read())
table = solution.benchmark(dict(workload))
answer = solution.choose_config(dict(workload), dict(workload["goals"]))
with open("result.json", "w") as f:
    json.dump({"table": table, "answer": answer}, f, default=str)
'''


def _workload(v: dict) -> dict:
    return {"records": v["records"], "value_bytes": v["value_bytes"], "keys": v["keys"],
            "network": {"rtt_ms": v["rtt_ms"]}, "seed": v["sim_seed"]}


@lru_cache(maxsize=64)
def _truth_cell(wl_json: str, batch_kb: int, linger: int) -> dict:
    wl = json.loads(wl_json)
    r = run_workload({"batch.size": batch_kb * 1024, "linger.ms": linger}, **wl)
    return {"total_ms": r["virtual_ms"], "records_per_s": r["throughput_records_s"],
            "avg_latency_ms": r["latency_avg_ms"]}


@lru_cache(maxsize=256)
def _at_rate(wl_json: str, config_json: str, rate: float) -> dict:
    r = run_workload(json.loads(config_json), rate=rate, **json.loads(wl_json))
    return {"records_per_s": r["throughput_records_s"], "avg_latency_ms": r["latency_avg_ms"]}


def truth_table(v: dict) -> list[dict]:
    wl = json.dumps(_workload(v), sort_keys=True)
    return [{"batch_kb": b, "linger_ms": lg, **_truth_cell(wl, b, lg)}
            for b in BATCH_KB for lg in LINGER_MS]


def meets(v: dict, config: dict) -> tuple[bool, bool, dict]:
    wl = json.dumps(_workload(v), sort_keys=True)
    r = _at_rate(wl, json.dumps(config, sort_keys=True), float(v["target_rate"]))
    return (r["records_per_s"] >= RATE_SLACK * v["target_rate"],
            r["avg_latency_ms"] <= v["max_latency_ms"], r)


class BatchingBenchmark(CodeGrader):
    slug = "batching-benchmark"
    harness = HARNESS
    functions = ("benchmark", "choose_config")
    data_file = "workload.json"
    limits = Limits(cpu_s=30, wall_s=60)

    def variant(self, seed: int) -> dict:
        rng = Random(seed)
        return {"records": RECORDS,
                "value_bytes": rng.choice([60, 80, 100, 120, 150]),
                "keys": rng.choice(["none", "uniform:64", "zipf:32"]),
                "rtt_ms": rng.choice([0.5, 1.0, 2.0]),
                "target_rate": rng.choice([20_000, 30_000, 40_000, 50_000]),
                "max_latency_ms": rng.choice([8, 10, 15]),
                "sim_seed": rng.randrange(1, 10_000)}

    def job_data(self, variant: dict) -> dict:
        return {**_workload(variant), "goals": {"records_per_s": variant["target_rate"],
                                                "max_avg_latency_ms": variant["max_latency_ms"]},
                "batch_kb": list(BATCH_KB), "linger_ms": list(LINGER_MS)}

    def prepare(self, variant: dict) -> None:
        truth_table(variant)

    def score_claims(self, variant: dict, data: dict, out: str) -> Verdict:
        goals = self._part_a(variant, data.get("table")) + self._part_b(variant,
                                                                         data.get("answer"))
        return graded(goals, out, replay={"preset": None, "config": self._replay_config(data),
                                          "seed": variant["sim_seed"], "at_ms": 0},
                      warnings=config_warnings(data.get("answer")))

    @staticmethod
    def _replay_config(data: dict) -> dict:
        a = data.get("answer")
        return {k: a[k] for k in ("batch.size", "linger.ms") if isinstance(a, dict) and k in a}

    def _part_a(self, v: dict, table: object) -> list:
        rows: dict[tuple, dict] = {}
        if isinstance(table, list):
            for r in table:
                if isinstance(r, dict) and isinstance(r.get("batch_kb"), int) \
                        and isinstance(r.get("linger_ms"), int):
                    rows[(r["batch_kb"], r["linger_ms"])] = r
        truth = truth_table(v)
        present = sum((t["batch_kb"], t["linger_ms"]) in rows for t in truth)
        ok = {"total_ms": 0, "records_per_s": 0, "avg_latency_ms": 0}
        first_bad: dict[str, str] = {}
        for t in truth:
            r = rows.get((t["batch_kb"], t["linger_ms"]), {})
            for col, rel, ab in (("total_ms", REL_THROUGHPUT, 1.0),
                                 ("records_per_s", REL_THROUGHPUT, 0.0),
                                 ("avg_latency_ms", REL_LATENCY, ABS_LATENCY_MS)):
                if close(r.get(col), t[col], rel, ab):
                    ok[col] += 1
                elif col not in first_bad:
                    first_bad[col] = (f"e.g. batch.size={t['batch_kb']} KB, linger.ms="
                                      f"{t['linger_ms']}: you reported {r.get(col)!r}, the "
                                      f"engine measured {t[col]}")
        n = len(truth)

        def col_goal(name: str, col: str, weight: float, what: str) -> object:
            passed = ok[col] == n
            msg = (f"All {n} cells match the engine's {what}." if passed else
                   f"{ok[col]} of {n} cells match the engine's {what}; {first_bad[col]}.")
            return goal(name, passed, weight, msg, fraction=ok[col] / n)

        return [
            goal("grid", present == n, 1, f"{present} of {n} cells of the 5 × 5 grid reported.",
                 fraction=present / n),
            col_goal("total-time", "total_ms", 1, "total time (virtual ms, ±3 %)"),
            col_goal("throughput", "records_per_s", 2, "records/s (±3 %)"),
            col_goal("latency", "avg_latency_ms", 2, "average latency (±10 %)"),
        ]

    def _part_b(self, v: dict, answer: object) -> list:
        x, y = v["target_rate"], v["max_latency_ms"]
        names = ("rate", "latency-goal", "cheapest")
        err = None
        if not isinstance(answer, dict):
            err = "choose_config() must return a dict of producer settings."
        else:
            from producer_core import ProducerConfig
            try:
                ProducerConfig.from_dict(answer)
            except Exception as e:  # noqa: BLE001 - shown to the learner
                err = f"choose_config() returned an invalid config: {e}"
        if err:
            return [goal(n, False, w, err) for n, w in zip(names, (2, 2, 1))]
        rate_ok, lat_ok, r = meets(v, answer)
        goals = [
            goal("rate", rate_ok, 2, f"Your config reached {r['records_per_s']:,.0f} records/s "
                 f"at a target of {x:,} (needs ≥ {RATE_SLACK * x:,.0f})."),
            goal("latency-goal", lat_ok, 2, f"Average latency {r['avg_latency_ms']:.2f} ms "
                 f"(needs ≤ {y} ms)."),
        ]
        mine = int(answer.get("batch.size", 16384))
        cheaper = None
        if rate_ok and lat_ok:
            for b in BATCH_KB:
                if b * 1024 >= mine:
                    break
                for lg in LINGER_MS:
                    cfg = {**answer, "batch.size": b * 1024, "linger.ms": lg}
                    if all(meets(v, cfg)[:2]):
                        cheaper = (b, lg)
                        break
                if cheaper:
                    break
        goals.append(goal("cheapest", rate_ok and lat_ok and cheaper is None, 1,
                          "No smaller batch.size on the grid meets both goals."
                          if rate_ok and lat_ok and cheaper is None else
                          (f"batch.size={cheaper[0]} KB with linger.ms={cheaper[1]} also meets "
                           "both goals and holds less memory per partition." if cheaper else
                           "Meet both goals first.")))
        return goals


GRADER = BatchingBenchmark()
