"""Wall time of the Exercise 1 sweep (batch.size 4/16/32/64/128 KB x linger.ms
0/5/20/50/100, 1M records of 100 B per cell) on all cores.  Goal: <= 90 s on 2 cores.

Run: ``.venv/bin/python -m bench sweep [--records 1000000] [--jobs N]``.
"""

from __future__ import annotations

import argparse
import os
import time


def main(argv: list[str] | None = None) -> int:
    from producer_core.cli import SWEEP_RECORDS, format_sweep, run_sweep

    p = argparse.ArgumentParser(prog="python -m bench sweep")
    p.add_argument("--records", type=int, default=SWEEP_RECORDS)
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    a = p.parse_args(argv)
    t0 = time.perf_counter()
    results = run_sweep(a.records, a.jobs)
    wall = time.perf_counter() - t0
    print(format_sweep(results))
    cpu = sum(r["wall_s"] for r in results)
    print(f"sweep bench: 25 cells x {a.records:,} records, {a.jobs} processes: "
          f"wall {wall:.1f} s (goal <= 90 s), {cpu:.1f} s of cell time")
    return 0 if wall <= 90 else 1
