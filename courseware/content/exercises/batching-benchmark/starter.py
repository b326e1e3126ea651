"""Exercise 1: benchmark batching configurations.

`workload` holds your variant: records, value_bytes, keys, network (rtt_ms), seed,
batch_kb and linger_ms (the grid). See the learner API for run_scenario/Scenario.
"""

from producer_core.cli import run_scenario  # noqa: F401
from producer_core.scenario import Scenario  # noqa: F401


def benchmark(workload):
    """Return one dict per grid cell: batch_kb, linger_ms, total_ms, records_per_s,
    avg_latency_ms."""
    return []


def choose_config(workload, goals):
    """Return the producer settings (a dict) you recommend for goals["records_per_s"] under
    goals["max_avg_latency_ms"]."""
    return {"batch.size": 16384, "linger.ms": 5}
