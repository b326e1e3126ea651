"""Development only: where daphne's memory goes, measured from inside the process.

Off unless ``PRODUCER_LAB_MEMTRACE=<dir>`` is set (never in ``make run``).  Then
``tracemalloc`` traces allocations (``PRODUCER_LAB_MEMTRACE_FRAMES`` frames each, default 6)
and a daemon thread writes, every ``PRODUCER_LAB_MEMTRACE_EVERY`` seconds (default 10):

- ``snap-<n>.pickle``: a ``tracemalloc`` snapshot (compare two with ``python -m
  courseware.memtrace <dir> [first] [last]``: the allocation sites that grew most);
- a line in ``rss.jsonl``: seconds since start, RSS, traced bytes, ``gc`` object counts of
  the 25 most numerous types, and the sizes of the lab's registries.

``PRODUCER_LAB_MEMTRACE_FRAMES=0`` records the log without tracing (RSS as in production);
``PRODUCER_LAB_MEMTRACE_TRIM=1`` also calls glibc's ``malloc_trim(0)`` at each sample (to tell
memory the allocator keeps from memory in use).

Tracing costs CPU (a few times slower allocations): use it to find a growth, not to time.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import sys
import threading
import time
import tracemalloc
from collections import Counter
from pathlib import Path


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _pymalloc_arenas() -> int:
    """Python's small-object arenas (1 MiB each) in use: ``sys._debugmallocstats`` writes
    them to the C stderr, so it is pointed at a file for the call."""
    import tempfile

    with tempfile.TemporaryFile("w+") as tmp:
        saved = os.dup(2)
        try:
            os.dup2(tmp.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        tmp.seek(0)
        for line in tmp:
            if line.startswith("# arenas allocated current"):
                return int(line.split("=")[1].replace(",", ""))
    return -1


def _maps_mib() -> dict:
    """RSS by kind of mapping: the brk heap, other anonymous memory (malloc's thread arenas
    and mmapped blocks, pymalloc's arenas), files."""
    out = {"heap": 0, "anon": 0, "file": 0}
    kind = "file"
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()
        if head and "-" in head[0] and len(head) >= 5:
            name = head[5] if len(head) > 5 else ""
            kind = "heap" if name == "[heap]" else "anon" if not name or name.startswith(
                "[anon") else "file"
        elif line.startswith("Rss:"):
            out[kind] += int(head[1])
    return {k: round(v / 1024, 1) for k, v in out.items()}


def _registry_sizes() -> dict:
    """The labs this process owns: preset, virtual time, buffer pool bytes in use and
    waiters, speed (best effort: read from another thread while the loop runs)."""
    out: dict = {}
    try:
        from courseware.lab.registry import registry

        for lab_id, runner in list(registry.labs.items()):
            session = runner.session
            pool = session.sim.producer.accumulator.pool if session.sim else None
            out[lab_id[-12:]] = {
                "preset": session.preset_id, "now_ms": session.now_ms,
                "speed": session.pacer.speed, "viewers": len(runner.viewers),
                "pool_used_mib": round(pool.used_memory() / 2**20, 1) if pool else None,
                "pool_waiters": pool.queued() if pool else None}
    except Exception as exc:  # noqa: BLE001 - a debugging aid must not break the server
        out["error"] = repr(exc)[:200]
    return out


def _loop(folder: Path, every: float, trim: bool) -> None:
    t0, n = time.monotonic(), 0
    while True:
        time.sleep(every)
        n += 1
        try:
            if tracemalloc.is_tracing():
                snap = tracemalloc.take_snapshot()
                snap.dump(str(folder / f"snap-{n:03d}.pickle"))
            if trim:
                ctypes.CDLL("libc.so.6").malloc_trim(0)
            counts = Counter(type(o).__name__ for o in gc.get_objects())
            line = {"t": round(time.monotonic() - t0, 1), "n": n, "rss_mib": round(_rss_mib(), 1),
                    "traced_mib": round(tracemalloc.get_traced_memory()[0] / 2**20, 1),
                    "traced_peak_mib": round(tracemalloc.get_traced_memory()[1] / 2**20, 1),
                    "pymalloc_arenas": _pymalloc_arenas(), "maps_mib": _maps_mib(),
                    "threads": threading.active_count(),
                    "gc_objects": dict(counts.most_common(25)),
                    "registries": _registry_sizes()}
            with open(folder / "rss.jsonl", "a") as fh:
                fh.write(json.dumps(line) + "\n")
        except Exception as exc:  # noqa: BLE001
            print("memtrace:", repr(exc), file=sys.stderr)


def install() -> None:
    """Start tracing if ``PRODUCER_LAB_MEMTRACE`` names a directory (called by asgi.py)."""
    where = os.environ.get("PRODUCER_LAB_MEMTRACE")
    if not where:
        return
    folder = Path(where)
    folder.mkdir(parents=True, exist_ok=True)
    frames = int(os.environ.get("PRODUCER_LAB_MEMTRACE_FRAMES", "6"))
    if frames:
        tracemalloc.start(frames)
    every = float(os.environ.get("PRODUCER_LAB_MEMTRACE_EVERY", "10"))
    trim = os.environ.get("PRODUCER_LAB_MEMTRACE_TRIM") == "1"
    threading.Thread(target=_loop, args=(folder, every, trim), name="memtrace", daemon=True).start()


def compare(folder: Path, first: int | None = None, last: int | None = None,
            top: int = 25) -> None:
    snaps = sorted(folder.glob("snap-*.pickle"))
    a = tracemalloc.Snapshot.load(str(snaps[(first or 1) - 1]))
    b = tracemalloc.Snapshot.load(str(snaps[(last or len(snaps)) - 1]))
    filters = [tracemalloc.Filter(False, tracemalloc.__file__)]
    a, b = a.filter_traces(filters), b.filter_traces(filters)
    for key in ("lineno", "traceback"):
        print(f"== grew most, by {key} ==")
        for stat in b.compare_to(a, key)[:top if key == "lineno" else 8]:
            print(f"{stat.size_diff / 2**20:+8.2f} MiB {stat.count_diff:+8d} blocks  "
                  f"(now {stat.size / 2**20:.2f} MiB)")
            frames = stat.traceback.format() if key == "traceback" else [str(stat.traceback)]
            for frame in frames:
                print("      ", frame.strip())


if __name__ == "__main__":
    args = sys.argv[1:]
    compare(Path(args[0]), *(int(a) for a in args[1:3]))
