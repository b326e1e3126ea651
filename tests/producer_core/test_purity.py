"""producer_core stays pure: no Django, no wall clock, no module-level random (except the
terminal entry points allowed by the brief)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "producer_core"
ALLOWED = {"__main__.py", "cli.py", "pacing.py"}
WALL_CLOCK = {"time", "monotonic", "perf_counter", "sleep", "time_ns", "monotonic_ns",
              "perf_counter_ns", "process_time"}


def sources():
    for path in sorted(PKG.rglob("*.py")):
        if path.name in ALLOWED and path.parent == PKG:
            continue
        yield path


def test_no_django_no_wall_clock_no_global_random_in_the_source():
    problems = []
    for path in sources():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        rel = path.relative_to(PKG.parent)
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names]
                mod = node.module if isinstance(node, ast.ImportFrom) else None
                for n in ([mod] if mod else []) + names:
                    if n and (n == "django" or n.startswith(("django.", "channels"))):
                        problems.append(f"{rel}: imports {n}")
                if mod == "time" and set(names) & WALL_CLOCK:
                    problems.append(f"{rel}: from time import {names}")
                if mod == "datetime" or "datetime" in names:
                    problems.append(f"{rel}: imports datetime")
                if mod == "random" and any(n != "Random" for n in names):
                    problems.append(f"{rel}: from random import {names}")
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if node.value.id == "time" and node.attr in WALL_CLOCK:
                    problems.append(f"{rel}:{node.lineno}: time.{node.attr}")
                if node.value.id == "random" and node.attr != "Random":
                    problems.append(f"{rel}:{node.lineno}: random.{node.attr}")
    assert problems == []


def test_importing_the_engine_does_not_import_django_or_time_sources():
    code = ("import sys, producer_core, producer_core.simulation, producer_core.invariants;"
            "sim = producer_core.Simulation(seed=1);"
            "sim.producer.send('orders', value=b'x'); sim.producer.flush();"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('django', 'channels', 'daphne')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=PKG.parent)
    assert out.stdout.strip() == "[]"


def test_the_checker_catches_a_wall_clock_call(tmp_path):
    # The AST scan above would flag this: make sure it is not vacuous.
    tree = ast.parse("import time\nx = time.monotonic()\n")
    hits = [n for n in ast.walk(tree) if isinstance(n, ast.Attribute)
            and isinstance(n.value, ast.Name) and n.value.id == "time"
            and n.attr in WALL_CLOCK]
    assert len(hits) == 1
