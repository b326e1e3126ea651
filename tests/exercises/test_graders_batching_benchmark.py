"""batching-benchmark: reference full marks, wrong partial, invalid refused, forgery caught."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from courseware.exercises.graders import GRADERS
from courseware.exercises.graders.base import variant_seed
from tests.exercises.standin import content, grade, run_job

SLUG = "batching-benchmark"
G = GRADERS[SLUG]


@pytest.fixture(scope="module")
def variant() -> dict:
    return G.variant(variant_seed("ada", SLUG))


def test_variants_stable_for_one_learner_and_differ_between_learners() -> None:
    assert G.variant(variant_seed("ada", SLUG)) == G.variant(variant_seed("ada", SLUG))
    seen = {json.dumps(G.variant(variant_seed(f"learner{i}", SLUG)), sort_keys=True)
            for i in range(8)}
    assert len(seen) > 1
    assert variant_seed("ada", SLUG) != variant_seed("ada", "health-check")


def test_reference_gets_full_credit(variant: dict) -> None:
    v, msg = grade(G, content(SLUG, "reference.py"), variant)
    assert msg is None
    assert v.status == "graded", v.message
    assert v.score == 1.0, [g for g in v.goals if not g.passed]


def test_wrong_gets_partial_credit(variant: dict) -> None:
    v, _ = grade(G, content(SLUG, "wrong.py"), variant)
    assert v.status == "graded"
    assert 0.0 < v.score < 1.0
    failed = {g.name for g in v.goals if not g.passed}
    assert "latency" in failed and "latency-goal" in failed
    assert {"throughput", "total-time", "grid"}.isdisjoint(failed)


@pytest.mark.parametrize("text", ["def benchmark(w):\n  return [\n",
                                  "def benchmark(w):\n    return []\n"])
def test_invalid_is_refused_before_running(text: str, variant: dict) -> None:
    assert G.validate(text, variant)


def test_starter_is_valid_but_scores_low(variant: dict) -> None:
    v, msg = grade(G, content(SLUG, "starter.py"), variant)
    assert msg is None and v.status == "graded" and v.score < 0.5


def test_forged_result_file_scores_low(variant: dict) -> None:
    # The program writes its own result.json after the harness would: made-up numbers.
    forged = json.dumps({"table": [{"batch_kb": b, "linger_ms": lg, "total_ms": 1,
                                    "records_per_s": 10 ** 9, "avg_latency_ms": 0.01}
                                   for b in (4, 16, 32, 64, 128) for lg in (0, 5, 20, 50, 100)],
                         "answer": {"batch.size": 4096, "linger.ms": 0}})
    job = G.sandbox_job("def benchmark(w):\n    return []\n"
                        "def choose_config(w, g):\n    return {}\n", variant)
    run = run_job(job)
    run = replace(run, outputs={"result.json": forged})
    v = G.score("", variant, run)
    assert v.status == "graded"
    assert v.score <= 0.25
    assert not any(g.passed for g in v.goals if g.name in ("throughput", "latency",
                                                           "total-time"))


def test_crash_is_an_error(variant: dict) -> None:
    v, _ = grade(G, "def benchmark(w):\n    raise RuntimeError('boom')\n"
                    "def choose_config(w, g):\n    return {}\n", variant)
    assert v.status == "error" and "boom" in v.output
