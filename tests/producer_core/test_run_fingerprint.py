"""A fixed seed's run has a fingerprint, and refactors of the engine must not move it.

For a few presets, a hash of everything a run shows — the stored RecordBatch bytes per
partition, the producer's metrics, the application's stats, the trace line for line, a
snapshot every 100 ms and the number of scheduler steps (room replays seek by steps) —
is compared with ``run_fingerprints.json``, recorded before the hot-path work on the
sender, accumulator, broker and metrics.  A performance change that alters any byte,
metric, event or step fails here with the part that moved.

A change that is *meant* to alter runs (a fidelity fix) re-records the file, and says so
in its commit::

    .venv/bin/python tests/producer_core/test_run_fingerprint.py --write
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

from producer_core.scenario import Scenario

GOLDEN = Path(__file__).with_name("run_fingerprints.json")
PRESETS = ("kafka-defaults", "lesson-compression", "lesson-buffer", "lesson-failover",
           "mistake-blocking-send-before", "incident")
UNTIL_MS = 1500
SNAPSHOT_EVERY_MS = 100


def _digest(value: object) -> str:
    return hashlib.sha256(repr(value).encode()).hexdigest()[:20]


def fingerprint(preset: str) -> dict[str, object]:
    sim = Scenario.preset(preset).build()
    sim.enable_trace(300_000)
    snapshots = []
    t = 0
    while t < UNTIL_MS:
        t += SNAPSHOT_EVERY_MS
        sim.run_until(t)
        snapshots.append(sim.snapshot())
    logs = {(topic, p): sim.cluster.log(topic, p)
            for topic in sorted(sim.cluster.topics()) for p in sim.cluster.partitions_for(topic)}
    trace = sim.trace_lines()
    return {"bytes": _digest(logs), "metrics": _digest(sim.producer.metrics()),
            "app": _digest([w.stats() for w in sim.workloads]), "trace": _digest(trace),
            "snapshots": _digest(snapshots), "trace_lines": len(trace),
            "steps": sim.scheduler.steps}


@pytest.mark.parametrize("preset", PRESETS)
def test_a_fixed_seed_run_keeps_its_fingerprint(preset):
    expected = json.loads(GOLDEN.read_text())[preset]
    got = fingerprint(preset)
    assert got["trace_lines"] > 1000 and got["steps"] > 1000  # a run that did something
    moved = {k: (expected[k], got[k]) for k in expected if expected[k] != got[k]}
    assert not moved, f"{preset}: the run changed in {sorted(moved)} (expected, got): {moved}"


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: test_run_fingerprint.py --write   (re-records run_fingerprints.json)")
    GOLDEN.write_text(json.dumps({p: fingerprint(p) for p in PRESETS}, indent=1,
                                 sort_keys=True) + "\n")
    print(f"wrote {GOLDEN}")
