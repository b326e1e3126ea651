"""``python -m producer_core.check --seeds 10000``: the invariants over many random runs.

Each seed draws a random producer config, cluster, application threads and fault script
(``invariants.random_scenario``), runs it to completion and checks every invariant
(``invariants.check_seed``: futures complete exactly once, idempotence keeps the logs free
of loss, duplicates and reordering, the pool returns to ``buffer.memory``, batches respect
``batch.size``, in-flight limits hold, nothing completes after the delivery timeout plus
one request timeout).  A seed whose run raises counts as a failure too.

Prints how many seeds ran clean and, for the first failing seed, its violations and the
command that replays it::

    python -m producer_core.check --seeds 10000            # all cores
    python -m producer_core.check --seed 4711 --verbose    # replay one seed
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any


def run_seed(seed: int, checker: Callable[[int], list[str]] | None = None
             ) -> tuple[int, list[str]]:
    """``(seed, violations)``; an exception in the run is reported as a violation.
    ``checker`` defaults to ``invariants.check_seed``."""
    if checker is None:
        from producer_core.invariants import check_seed as checker
    try:
        return seed, checker(seed)
    except Exception:  # noqa: BLE001 - a crash is a finding to report, not to hide
        return seed, ["run raised:\n" + traceback.format_exc(limit=8)]


def check_range(start: int, count: int, jobs: int = 1, *, stop_on_first: bool = False,
                progress: Any = None, checker: Callable[[int], list[str]] | None = None
                ) -> dict:
    """Check seeds ``start .. start+count-1``; returns counts and failures by seed.
    A custom ``checker`` runs in this process (``jobs`` is then ignored)."""
    seeds = range(start, start + count)
    failures: dict[int, list[str]] = {}
    done = 0

    def take(seed: int, violations: list[str]) -> bool:
        nonlocal done
        done += 1
        if violations:
            failures[seed] = violations
        if progress is not None:
            progress(done, count, len(failures))
        return bool(violations) and stop_on_first

    if jobs <= 1 or checker is not None:
        for seed in seeds:
            if take(*run_seed(seed, checker)):
                break
    else:
        import multiprocessing as mp

        ctx = mp.get_context("fork" if hasattr(os, "fork") else "spawn")
        with ctx.Pool(jobs) as pool:
            for seed, violations in pool.imap_unordered(run_seed, seeds, chunksize=4):
                if take(seed, violations):
                    pool.terminate()
                    break
    return {"checked": done, "clean": done - len(failures),
            "failed": sorted(failures), "failures": failures}


def replay_command(seed: int) -> str:
    return f"python -m producer_core.check --seed {seed} --verbose"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m producer_core.check",
                                description="Run the producer invariants over many seeds.")
    p.add_argument("--seeds", type=int, default=1000, help="how many seeds (default 1000)")
    p.add_argument("--start", type=int, default=0, help="first seed (default 0)")
    p.add_argument("--seed", type=int, help="check just this seed")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                   help="worker processes (default: all cores)")
    p.add_argument("--stop-on-first", action="store_true")
    p.add_argument("--verbose", action="store_true",
                   help="print the scenario of each failing (or the single) seed")
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    if a.seeds < 1 or (a.seed is not None and a.seed < 0) or a.start < 0:
        p.error("seeds must be >= 1 and seed numbers >= 0")
    from producer_core import invariants

    if a.seed is not None:
        seed, violations = run_seed(a.seed)
        if a.verbose or a.json:
            print(json.dumps(invariants.random_scenario(seed), indent=1))
        print(f"seed {seed}: " + ("clean" if not violations else
                                   f"{len(violations)} violation(s)"))
        for v in violations:
            print(f"  - {v}")
        return 1 if violations else 0

    tty = sys.stderr.isatty()

    def progress(done: int, total: int, failed: int) -> None:
        if tty and (done % 50 == 0 or done == total):
            sys.stderr.write(f"\r{done}/{total} seeds, {failed} failing\x1b[K")

    result = check_range(a.start, a.seeds, max(1, a.jobs), stop_on_first=a.stop_on_first,
                         progress=progress)
    if tty:
        sys.stderr.write("\n")
    if a.json:
        print(json.dumps(dict(result), default=str))
        return 1 if result["failed"] else 0
    print(report(result, a.start, verbose=a.verbose))
    return 1 if result["failed"] else 0


def report(result: dict, start: int, *, verbose: bool = False) -> str:
    """The human summary: clean count, first failure, replay command."""
    from producer_core import invariants

    n = result["checked"]
    lines = [f"{result['clean']} of {n} seeds ran clean (seeds {start}..{start + n - 1})"]
    if result["failed"]:
        first = result["failed"][0]
        lines.append(f"{len(result['failed'])} failing seed(s): {result['failed'][:20]}")
        lines.append(f"first failing seed {first}:")
        lines += [f"  - {v}" for v in result["failures"][first][:10]]
        if verbose:
            lines.append(json.dumps(invariants.random_scenario(first), indent=1))
        lines.append(f"replay: {replay_command(first)}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
