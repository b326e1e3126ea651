"""Exercise 1 reference: the batch.size × linger.ms grid on my workload, then the cheapest
setting that meets the goals."""

from producer_core.cli import run_scenario
from producer_core.scenario import Scenario


def run(workload, config, rate=None):
    scenario = Scenario.from_dict({
        "seed": workload["seed"],
        "config": config,
        "cluster": {"brokers": 3, "topics": {"bench": 3}, "network": workload["network"]},
        "duration_ms": 3_600_000,
        "workload": [{"topic": "bench", "records": workload["records"],
                      "value_bytes": workload["value_bytes"], "keys": workload["keys"],
                      "data": "random", "rate": rate}],
    })
    return run_scenario(scenario)


def benchmark(workload):
    table = []
    for kb in workload["batch_kb"]:
        for linger in workload["linger_ms"]:
            r = run(workload, {"batch.size": kb * 1024, "linger.ms": linger})
            table.append({"batch_kb": kb, "linger_ms": linger,
                          "total_ms": r["virtual_ms"],
                          "records_per_s": r["throughput_records_s"],
                          "avg_latency_ms": r["latency_avg_ms"]})
    return table


def choose_config(workload, goals):
    # Smallest batch first: it is the memory each partition's open batch holds.
    for kb in workload["batch_kb"]:
        for linger in workload["linger_ms"]:
            config = {"batch.size": kb * 1024, "linger.ms": linger}
            r = run(workload, config, rate=goals["records_per_s"])
            if (r["throughput_records_s"] >= 0.90 * goals["records_per_s"]
                    and r["latency_avg_ms"] <= goals["max_avg_latency_ms"]):
                return config
    return {"batch.size": 131072, "linger.ms": 5}
