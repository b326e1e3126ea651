"""health-check: five scenarios; answers recomputed from the grader's own engine run."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from courseware.exercises.graders import GRADERS
from courseware.exercises.graders.base import variant_seed
from courseware.exercises.graders.health_check import truth
from tests.exercises.standin import content, grade, run_job

SLUG = "health-check"
G = GRADERS[SLUG]


@pytest.fixture(scope="module")
def variant() -> dict:
    return G.variant(variant_seed("ada", SLUG))


def test_variants_stable_and_differ() -> None:
    assert G.variant(variant_seed("bo", SLUG)) == G.variant(variant_seed("bo", SLUG))
    assert len({json.dumps(G.variant(variant_seed(f"l{i}", SLUG))) for i in range(8)}) > 1


def test_scenarios_tell_apart_what_they_should(variant: dict) -> None:
    t = truth(variant)
    last = {name: answers[-1]["answer"] for name, answers in t.items()}
    assert last["healthy"]["status"] == "UP" and last["recovered"]["status"] == "UP"
    assert not last["filling-buffer"]["checks"]["buffer"]
    assert not last["unreachable"]["checks"]["cluster"]
    assert not last["failing-broker"]["checks"]["sustained_failures"]
    assert last["failing-broker"]["checks"]["cluster"]


def test_reference_full_wrong_partial(variant: dict) -> None:
    ref, _ = grade(G, content(SLUG, "reference.py"), variant)
    assert ref.status == "graded" and ref.score == 1.0, [g.message for g in ref.goals]
    wrong, _ = grade(G, content(SLUG, "wrong.py"), variant)
    assert wrong.status == "graded" and 0 < wrong.score < 1
    assert next(g for g in wrong.goals if g.name == "healthy").passed


def test_invalid_and_forged(variant: dict) -> None:
    assert G.validate("def check_health(h):\n  return {\n", variant)
    assert G.validate("def health(h):\n    return {}\n", variant)
    job = G.sandbox_job(content(SLUG, "starter.py"), variant)
    run = run_job(job)
    forged = {name: [{"at_ms": 0, "answer": {"status": "UP", "checks": {}}}] * 9
              for name in ("healthy", "filling-buffer", "failing-broker", "unreachable",
                           "recovered")}
    v = G.score("", variant, replace(run, outputs={"result.json": json.dumps(forged)}))
    assert v.status == "graded" and v.score < 0.2
