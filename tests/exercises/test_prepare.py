"""A grader's ``prepare`` (truth that does not depend on the run) runs beside the sandbox,
in another thread, before ``score``; a failing ``prepare`` does not stop the grading."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import pytest

from courseware.exercises import graders
from courseware.exercises.services.grading import compute_verdict
from courseware.sandbox import Limits, SandboxJob

PROGRAM = "import json\njson.dump({'ok': True}, open('result.json', 'w'))\n"


@dataclass
class PreparingGrader:
    slug: str = "test-prepare"
    kind: str = "code"
    fail: bool = False
    seen: dict = field(default_factory=dict)

    def variant(self, seed: int) -> dict:
        return {}

    def validate(self, text: str, variant: dict) -> str | None:
        return None

    def sandbox_job(self, text: str, variant: dict) -> SandboxJob:
        return SandboxJob(files={"main.py": PROGRAM}, argv=["python3", "main.py"],
                          limits=Limits(cpu_s=5, wall_s=30))

    def prepare(self, variant: dict) -> None:
        self.seen["thread"] = threading.current_thread().name
        if self.fail:
            raise RuntimeError("truth failed")
        self.seen["prepared"] = True

    def score(self, text, variant, run) -> dict:
        self.seen["prepared_before_score"] = self.seen.get("prepared", False)
        return {"status": "graded", "message": "", "goals": [
            {"name": "ran", "passed": run.exit_code == 0, "points": 1.0, "max_points": 1.0,
             "message": ""}]}


@pytest.fixture
def grader():
    g = PreparingGrader()
    graders.EXTRA[g.slug] = g
    yield g
    graders.EXTRA.pop(g.slug)


def test_prepare_runs_in_another_thread_before_score(grader):
    verdict = compute_verdict(grader.slug, "ada", "")
    assert verdict["status"] == "graded" and verdict["score"] == 1.0
    assert grader.seen["thread"] == "grade-prepare"
    assert grader.seen["thread"] != threading.current_thread().name
    assert grader.seen["prepared_before_score"] is True


def test_a_failing_prepare_still_grades(grader):
    grader.fail = True
    verdict = compute_verdict(grader.slug, "ada", "")
    assert verdict["status"] == "graded"
    assert grader.seen["prepared_before_score"] is False
