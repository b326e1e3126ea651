"""Bounded memory (issues 7 and 8), the short version of ``python -m bench soak --rest``: one
learner goes through every page and every lab of the site (driving each lab: speed, config,
faults, steps, workload changes, resets) four times against a live daphne, stepping away
after each pass until daphne has reaped the labs nobody watches.

Two things are checked.  What the process comes back to at rest must not grow once it is
warm (two passes: every page and lab twice, so the allocator has reached its working size):
no cache, history or per-session state grows with use.  And while the learner uses labs,
what their labs hold on top of that stays within what the labs a learner can keep may hold
(the watched one and ``LAB_KEEP_UNWATCHED_PER_SESSION`` = 2 frozen ones, each bounded by its
``buffer.memory`` of batches): how full those pools get depends on how fast the labs run,
so that part of the curve goes up and down by tens of MiB, and is bounded, not flat."""

from __future__ import annotations

import pytest

from bench import soak_bench
from tests.conftest import in_thread

pytestmark = [pytest.mark.live_soak]

KEPT_LABS = 3
# a full 32 MiB pool of 1 KiB batches with the batches' and futures' own objects: 88 MiB
# measured (lesson-debug-degraded, the heaviest preset)
LAB_BOUND_MIB = 96


def test_one_learner_through_every_page_and_lab_leaves_rss_flat(tmp_path):
    r = in_thread(soak_bench.run, minutes=0, accel=20, tmp=tmp_path, min_passes=4, rest=True)
    print("RSS curve (s:MiB):", r["curve"], r["rss"])
    assert r["passes"] >= 4 and r["labs_driven"] >= 4 * 20  # every lab of the site, 4 times
    assert r["pages"] >= 20 and not [c for c in r["http"] if c >= 500], r["http"]
    assert r["answered"] == r["commands"]  # every command of every lab answered
    at_rest = r["rss"]["at_rest_mib"]
    assert len(at_rest) == 4
    # flat at rest once warm: passes 3 and 4 against the end of pass 2
    assert r["rss"]["rest_growth_mib"] == round(max(at_rest[2:]) - at_rest[1], 1)
    assert r["rss"]["rest_growth_mib"] < soak_bench.FLAT_MIB, at_rest
    peak = max(m for _, m in r["points"])
    assert peak - max(at_rest) < KEPT_LABS * LAB_BOUND_MIB, (peak, at_rest)
