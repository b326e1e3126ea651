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


def test_the_programs_own_record_is_not_believed(variant: dict) -> None:
    # The simulation runs on the trusted side; result.json (what the program says it did,
    # and a score) is for the sample run only and changes nothing.
    run = run_job(G.sandbox_job(content(SLUG, "starter.py"), variant))
    assert run.peer is not None and run.peer_error is None
    honest = G.score("", variant, run)
    decisions = json.loads(run.outputs["result.json"])["decisions"]
    forged = {"decisions": [[variant["base_rate"] * 0.1, True]] * len(decisions),
              "report": {"acked": 10 ** 6, "failed": []}, "score": 1.0}
    v = G.score("", variant, replace(run, outputs={"result.json": json.dumps(forged)}))
    assert v.status == "graded" and v.score == honest.score < 0.5
    assert not next(g for g in v.goals if g.name == "accounted").passed


def test_the_trusted_run_is_the_same_simulation_the_program_saw(variant: dict) -> None:
    # The decisions the program recorded are the ones the trusted run used, tick by tick.
    run = run_job(G.sandbox_job(content(SLUG, "reference.py"), variant))
    mine = json.loads(run.outputs["result.json"])
    assert mine["decisions"] == run.peer["decisions"]
    assert mine["report"]["acked"] == sum(1 for e in run.peer["outcome"].values() if e is None)


def test_a_program_that_stops_answering_is_an_error(variant: dict) -> None:
    quits = content(SLUG, "reference.py").replace(
        "    def tick(self, metrics, now_ms):\n",
        "    def tick(self, metrics, now_ms):\n        if now_ms > 3000:\n"
        "            raise SystemExit(0)\n")
    v, _ = grade(G, quits, variant)
    assert v.status == "error" and "did not finish" in v.message, v.message
    nonsense = content(SLUG, "reference.py").replace(
        'return {"rate": self.base_rate, "alert": False}',
        'return {"rate": float("nan"), "alert": False}')
    v, _ = grade(G, nonsense, variant)
    assert v.status == "error" and "not a rate" in v.message, v.message
