"""daphne's and the worker's collector settings (courseware/collector.py) are in force."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _thresholds_after(code: str) -> list[int]:
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, check=True).stdout
    return [int(x) for x in out.split()]


def test_the_asgi_application_freezes_what_it_loaded_and_widens_the_young_generation():
    gen0, frozen = _thresholds_after(
        "import gc, courseware.asgi; print(gc.get_threshold()[0], gc.get_freeze_count())")
    assert gen0 == 100_000
    assert frozen > 10_000  # Django and the apps, out of the collector's generations


def test_tune_keeps_the_older_generations_thresholds():
    gen0, gen1, gen2 = _thresholds_after(
        "import gc; gc.set_threshold(700, 7, 9); from courseware import collector; "
        "collector.tune(); print(*gc.get_threshold())")
    assert (gen0, gen1, gen2) == (100_000, 7, 9)


def test_the_young_generations_are_collected_once_grown_and_only_then():
    import gc

    from courseware import collector

    was_enabled = gc.isenabled()
    gc.disable()  # nothing collects behind the test's back
    try:
        gc.collect()
        assert collector.collect_young_if_grown(min_objects=1_000) == 0  # nothing grew

        def cycle():
            a, b = [], []
            a.append(b)
            b.append(a)

        for _ in range(1_000):
            cycle()  # 2,000 lists freed by nothing but the collector
        assert collector.collect_young_if_grown(min_objects=50_000) == 0  # not grown enough
        assert collector.collect_young_if_grown(min_objects=1_000) >= 2_000
        assert collector.collect_young_if_grown(min_objects=1_000) == 0
    finally:
        if was_enabled:
            gc.enable()
