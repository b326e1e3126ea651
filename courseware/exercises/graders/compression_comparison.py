"""Grader for ``compression-comparison`` (Exercise 2: choose the codec for a constraint).

A config exercise: the submission is producer settings (JSON). We re-run them on the
learner's workload — JSON order or user events at a target rate over either a thin network
or a busy CPU — and check the goals; any config that meets them passes. ``table()`` gives
the per-codec comparison (ratio, modelled producer CPU, latency) the page can show.
"""

from __future__ import annotations

import json
from functools import lru_cache
from random import Random

from courseware.exercises.graders.base import (
    SandboxResult,
    Verdict,
    config_warnings,
    goal,
    graded,
    invalid,
    run_workload,
)

CODECS = ("none", "gzip", "snappy", "lz4", "zstd")
RECORDS = 5_000
RATE_SLACK = 0.85  # a 5k-record run includes its start-up, so "reaches" means ≥ 85 %
# Per (constraint, data, value_bytes): the average-latency goal in ms. Checked in the tests
# so that on every variant "none" misses and a well-chosen codec meets all goals.
LATENCY_GOAL_MS = {("network", "json-orders"): 25, ("network", "json-users"): 35,
                   ("cpu", "json-orders"): 25, ("cpu", "json-users"): 25}
CODEC_NS_BUDGET = 3.0  # busy CPU: at most 3 ns of codec time per uncompressed byte


def _workload(v: dict) -> dict:
    return {"records": v["records"], "value_bytes": v["value_bytes"], "data": v["data"],
            "network": {"bandwidth_mbps": v["bandwidth_mbps"]}, "seed": v["sim_seed"],
            "rate": v["target_rate"]}


@lru_cache(maxsize=256)
def _run(wl_json: str, config_json: str) -> dict:
    config = json.loads(config_json)
    r = run_workload(config, **json.loads(wl_json))
    return {"records_per_s": r["throughput_records_s"], "avg_latency_ms": r["latency_avg_ms"],
            "ratio": round(r["metrics"].get("compression-rate-avg", 1.0) or 1.0, 3)}


def cpu_us(v: dict, codec: str) -> float:
    """Modelled producer CPU per send() (µs), from the engine's time model."""
    from producer_core import timemodel
    return round(timemodel.send_cpu_us(v["value_bytes"], 0, codec), 3)


def simulate(v: dict, config: dict) -> dict:
    return _run(json.dumps(_workload(v), sort_keys=True), json.dumps(config, sort_keys=True))


def table(v: dict) -> list[dict]:
    return [{"codec": c, **simulate(v, {"compression.type": c}), "cpu_us": cpu_us(v, c)}
            for c in CODECS]


class CompressionComparison:
    slug = "compression-comparison"
    kind = "config"

    def variant(self, seed: int) -> dict:
        rng = Random(seed)
        constraint = rng.choice(["network", "cpu"])
        data = rng.choice(["json-orders", "json-users"])
        vb = rng.choice([300, 400])
        v = {"constraint": constraint, "data": data, "value_bytes": vb, "records": RECORDS,
             "bandwidth_mbps": 5 if constraint == "network" else 10,
             "target_rate": (15_000 if constraint == "network" else 20_000) * 400 // vb,
             "max_latency_ms": LATENCY_GOAL_MS[(constraint, data)],
             "sim_seed": rng.randrange(1, 10_000)}
        # Shown in every statement; a goal only with the cpu constraint.
        v["cpu_budget_us"] = round(cpu_us(v, "none") + vb * CODEC_NS_BUDGET / 1000, 2)
        return v

    def _parse(self, text: str) -> tuple[dict | None, str | None]:
        from producer_core import ProducerConfig
        try:
            config = json.loads(text)
        except ValueError as e:
            return None, f"Not valid JSON: {e}."
        if not isinstance(config, dict):
            return None, ('Submit a JSON object of producer settings, e.g. '
                          '{"compression.type": "lz4"}.')
        try:
            ProducerConfig.from_dict(config)
        except Exception as e:  # noqa: BLE001 - the engine's message names the property
            return None, f"Invalid producer config: {e}"
        return config, None

    def validate(self, text: str, variant: dict) -> str | None:
        return self._parse(text)[1]

    def sandbox_job(self, text: str, variant: dict) -> None:
        return None

    def score(self, text: str, variant: dict, run: SandboxResult | None) -> Verdict:
        config, err = self._parse(text)
        if err:
            return invalid(err)
        v = variant
        r = simulate(v, config)
        codec = config.get("compression.type", "none")
        x, y = v["target_rate"], v["max_latency_ms"]
        goals = [
            goal("rate", r["records_per_s"] >= RATE_SLACK * x, 2,
                 f"{r['records_per_s']:,.0f} records/s acknowledged at a target of {x:,} "
                 f"(needs ≥ {RATE_SLACK * x:,.0f}); compressed to {r['ratio']:.0%} of the "
                 f"original size."),
            goal("latency", r["avg_latency_ms"] <= y, 2,
                 f"Average send-to-ack latency {r['avg_latency_ms']:.1f} ms (needs ≤ {y} ms)."),
        ]
        if v["constraint"] == "cpu":
            used = cpu_us(v, codec)
            goals.append(goal("cpu", used <= v["cpu_budget_us"], 2,
                              f"{codec} costs {used:.2f} µs of producer CPU per record "
                              f"(budget {v['cpu_budget_us']:.2f} µs)."))
        return graded(goals, replay={"preset": None, "config": config,
                                     "seed": v["sim_seed"], "at_ms": 0},
                      warnings=config_warnings(config))


GRADER = CompressionComparison()
