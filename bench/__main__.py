"""``python -m bench``: every benchmark; ``python -m bench send|sweep|compression|live`` one
(extra arguments go to that benchmark)."""

from __future__ import annotations

import importlib
import inspect
import sys

BENCHES = {"send": "bench.send_bench", "sweep": "bench.sweep_bench",
           "compression": "bench.compression_bench", "live": "bench.live_bench",
           "live-cost": "bench.live_cost_bench",
           "rooms": "bench.room_bench",
           "sandbox": "bench.sandbox_bench",
           "grading": "bench.grading_bench",
           "fuzz": "bench.fuzz_bench",
           "classroom": "bench.classroom_bench", "soak": "bench.soak_bench"}


def run_one(name: str, rest: list[str]) -> int:
    mod = importlib.import_module(BENCHES[name])
    if inspect.signature(mod.main).parameters:
        return mod.main(rest) or 0
    # a benchmark that parses sys.argv itself
    saved = sys.argv
    sys.argv = [f"bench {name}", *rest]
    try:
        return mod.main() or 0
    finally:
        sys.argv = saved


def main(argv: list[str]) -> int:
    names = argv[:1] or list(BENCHES)
    rest = argv[1:]
    status = 0
    for name in names:
        if name not in BENCHES:
            print(f"unknown benchmark {name!r}; known: {', '.join(BENCHES)}", file=sys.stderr)
            return 2
        print(f"\n### bench {name}", flush=True)
        status = run_one(name, rest) or status
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
