"""A plausible wrong attempt: latency taken as total time / records, and "bigger is better"."""

from producer_core.cli import run_scenario
from producer_core.scenario import Scenario


def benchmark(workload):
    table = []
    for kb in workload["batch_kb"]:
        for linger in workload["linger_ms"]:
            r = run_scenario(Scenario.from_dict({
                "seed": workload["seed"],
                "config": {"batch.size": kb * 1024, "linger.ms": linger},
                "cluster": {"brokers": 3, "topics": {"bench": 3},
                            "network": workload["network"]},
                "duration_ms": 3_600_000,
                "workload": [{"topic": "bench", "records": workload["records"],
                              "value_bytes": workload["value_bytes"],
                              "keys": workload["keys"], "data": "random"}]}))
            total = r["virtual_ms"]
            table.append({"batch_kb": kb, "linger_ms": linger, "total_ms": total,
                          "records_per_s": r["throughput_records_s"],
                          "avg_latency_ms": total / workload["records"]})
    return table


def choose_config(workload, goals):
    return {"batch.size": 131072, "linger.ms": 100}
