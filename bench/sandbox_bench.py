"""How long one sandboxed run of a small producer_core program takes, start to result.

``python -m bench sandbox [--quick] [--runs N]`` prints p50/p95/max wall ms and the isolation.
This is the sandbox's share of "a code submission from submit to result" (goal p50 ≤ 3 s,
p95 ≤ 6 s); the queue's pick-up delay and the grader's own simulation come on top.
"""

from __future__ import annotations

import argparse
import statistics
import time

PROGRAM = """
import json
from producer_core.config import ProducerConfig
cfg = ProducerConfig.from_dict({"batch.size": 16384})
json.dump({"ok": True}, open("result.json", "w"))
"""


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench sandbox")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=None)
    args = parser.parse_args(argv)
    runs = args.runs or (10 if args.quick else 50)
    from courseware.sandbox import SandboxJob, run

    times, isolation, failures = [], "", 0
    for _ in range(runs):
        started = time.perf_counter()
        result = run(SandboxJob(files={"main.py": PROGRAM}, argv=["python3", "main.py"]))
        times.append((time.perf_counter() - started) * 1000)
        isolation = result.isolation
        failures += result.exit_code != 0 or "result.json" not in result.outputs
    times.sort()
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    print(f"sandbox runs={runs} isolation={isolation} failures={failures} "
          f"p50={statistics.median(times):.0f} ms p95={p95:.0f} ms max={times[-1]:.0f} ms")
    return 1 if failures else 0
