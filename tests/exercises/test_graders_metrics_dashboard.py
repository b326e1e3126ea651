"""metrics-dashboard: reported figures compared with a pristine engine run."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from courseware.exercises.graders import GRADERS
from courseware.exercises.graders.base import variant_seed
from courseware.exercises.graders.metrics_dashboard import truth
from tests.exercises.standin import content, grade, run_job

SLUG = "metrics-dashboard"
G = GRADERS[SLUG]


@pytest.fixture(scope="module")
def variant() -> dict:
    return G.variant(variant_seed("ada", SLUG))


def test_variants_stable_and_differ() -> None:
    assert G.variant(variant_seed("bo", SLUG)) == G.variant(variant_seed("bo", SLUG))
    assert len({json.dumps(G.variant(variant_seed(f"l{i}", SLUG))) for i in range(8)}) > 1


def test_truth_sees_both_error_types(variant: dict) -> None:
    t = truth(variant)
    assert set(t["error_rate_per_s"]) == {"NotEnoughReplicasError", "NotLeaderOrFollowerError"}
    assert set(t["records_per_s"]) == {"orders", "clicks"}


def test_reference_full_wrong_partial_starter_low(variant: dict) -> None:
    ref, _ = grade(G, content(SLUG, "reference.py"), variant)
    assert ref.status == "graded" and ref.score == 1.0, [g.message for g in ref.goals]
    wrong, _ = grade(G, content(SLUG, "wrong.py"), variant)
    assert wrong.status == "graded" and 0 < wrong.score < 1
    assert not next(g for g in wrong.goals if g.name == "error_rate_per_s").passed
    start, _ = grade(G, content(SLUG, "starter.py"), variant)
    assert start.score < 0.3


def test_invalid_and_forged(variant: dict) -> None:
    assert G.validate("class Collector(:\n", variant)
    assert G.validate("def report():\n    return {}\n", variant)
    run = run_job(G.sandbox_job(content(SLUG, "starter.py"), variant))
    forged = {"records_per_s": {"orders": 1e9, "clicks": 1e9}, "batch_size_avg": 16384,
              "buffer_utilisation_pct": 1.0, "latency_ms": {"p50": 0, "p95": 0, "p99": 0},
              "error_rate_per_s": {}}
    v = G.score("", variant, replace(run, outputs={"result.json": json.dumps(forged)}))
    assert v.status == "graded" and v.score < 0.3
