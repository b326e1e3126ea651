"""back-pressure: decisions replayed in a fresh simulation; the report checked against it."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from courseware.exercises.graders import GRADERS
from courseware.exercises.graders.base import variant_seed
from tests.exercises.standin import content, grade, run_job

SLUG = "back-pressure"
G = GRADERS[SLUG]


@pytest.fixture(scope="module")
def variant() -> dict:
    return G.variant(variant_seed("ada", SLUG))


def test_variants_stable_and_differ() -> None:
    assert G.variant(variant_seed("bo", SLUG)) == G.variant(variant_seed("bo", SLUG))
    assert len({json.dumps(G.variant(variant_seed(f"l{i}", SLUG))) for i in range(8)}) > 1


def test_reference_full_wrong_partial(variant: dict) -> None:
    ref, _ = grade(G, content(SLUG, "reference.py"), variant)
    assert ref.status == "graded" and ref.score == 1.0, [g.message for g in ref.goals]
    wrong, _ = grade(G, content(SLUG, "wrong.py"), variant)
    assert wrong.status == "graded" and 0 < wrong.score < 1
    assert {g.name for g in wrong.goals if not g.passed} == {"accounted", "back-off"}


def test_invalid(variant: dict) -> None:
    assert G.validate("class Controller(\n", variant)
    assert G.validate("def tick(m, t):\n    return {}\n", variant)


def test_forged_claims_are_replayed_not_believed(variant: dict) -> None:
    run = run_job(G.sandbox_job(content(SLUG, "starter.py"), variant))
    # Claims to have backed off and alerted at every tick, and a made-up account.
    decisions = json.loads(run.outputs["result.json"])["decisions"]
    forged = {"decisions": [[variant["base_rate"], False]] * len(decisions),
              "report": {"acked": 10 ** 6, "failed": []}, "score": 1.0}
    v = G.score("", variant, replace(run, outputs={"result.json": json.dumps(forged)}))
    assert v.status == "graded" and v.score < 0.5
    assert not next(g for g in v.goals if g.name == "accounted").passed
