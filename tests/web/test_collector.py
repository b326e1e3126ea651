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
