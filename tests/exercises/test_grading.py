"""Submissions through the real service, the real sandbox and the ``grade`` command.

A tiny test grader (registered in ``graders.EXTRA``) stands in for the five exercises'
graders: it asks for ``answer()`` returning the variant's number and scores the claim the
sandboxed program writes to result.json against the number it computes itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from courseware.exercises import graders
from courseware.exercises.models import Submission
from courseware.exercises.services.grading import grade_submission, submit
from courseware.sandbox import Limits, SandboxJob

pytestmark = [pytest.mark.django_db]

HARNESS = ("import json, solution\n"
           "json.dump({'answer': solution.answer()}, open('result.json', 'w'))\n")


@dataclass
class EchoGrader:
    slug: str = "test-echo"
    kind: str = "code"

    def variant(self, seed: int) -> dict:
        return {"n": seed % 1000}

    def validate(self, text: str, variant: dict) -> str | None:
        import ast

        try:
            tree = ast.parse(text)
        except SyntaxError as exc:
            return f"Line {exc.lineno}: {exc.msg}."
        names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        return None if "answer" in names else "Define a function answer()."

    def sandbox_job(self, text: str, variant: dict) -> SandboxJob:
        return SandboxJob(files={"solution.py": text, "harness.py": HARNESS},
                          argv=["python3", "harness.py"], limits=Limits(cpu_s=3, wall_s=10))

    def score(self, text, variant, run) -> dict:
        try:
            claim = json.loads(run.outputs["result.json"])["answer"]
        except (KeyError, ValueError, TypeError):
            claim = None
        ok = claim == variant["n"]  # the truth is recomputed here, outside the sandbox
        return {"status": "graded", "message": "Right." if ok else "Not your number.",
                "goals": [{"name": "number", "passed": ok, "points": 1.0 if ok else 0.0,
                           "max_points": 1.0, "message": f"expected {variant['n']}"}]}


@pytest.fixture(autouse=True)
def echo_grader():
    graders.EXTRA["test-echo"] = EchoGrader()
    yield
    graders.EXTRA.pop("test-echo")


def _right(learner: str) -> str:
    n = graders.variant_seed(learner, "test-echo") % 1000
    return f"def answer():\n    return {n}\n"


def test_variant_seed_is_stable_and_differs_between_learners():
    assert graders.variant_seed("ada", "x") == graders.variant_seed("ada", "x")
    assert graders.variant_seed("ada", "x") != graders.variant_seed("bob", "x")


def test_right_answer_gets_full_credit_and_attempts_count():
    first = submit("test-echo", "ada", "def answer():\n    return -1\n", queue=False)
    assert Submission.objects.get(pk=first.pk).status == "queued"
    assert grade_submission(first.pk)["score"] == 0.0
    second = submit("test-echo", "ada", _right("ada"), queue=False)
    verdict = grade_submission(second.pk)
    assert verdict["status"] == "graded" and verdict["score"] == 1.0
    second.refresh_from_db()
    assert (second.status, second.attempt) == ("graded", 2)


def test_invalid_is_not_an_attempt():
    sub = submit("test-echo", "ada", "def answer(:\n", queue=False)
    verdict = grade_submission(sub.pk)
    sub.refresh_from_db()
    assert verdict["status"] == "invalid" and "Line 1" in verdict["message"]
    assert sub.attempt is None


def test_a_limit_gives_error_with_the_limit_named():
    sub = submit("test-echo", "ada", "def answer():\n    while True: pass\n", queue=False)
    verdict = grade_submission(sub.pk)
    assert verdict["status"] == "error" and verdict["score"] == 0.0
    assert "CPU" in verdict["message"]


def test_grading_is_idempotent():
    sub = submit("test-echo", "ada", _right("ada"), queue=False)
    first = grade_submission(sub.pk)
    Submission.objects.filter(pk=sub.pk).update(text="def answer():\n    return -5\n")
    assert grade_submission(sub.pk) == first


def test_queued_submission_has_a_grade_job():
    sub = submit("test-echo", "ada", _right("ada"))
    assert sub.job is not None and sub.job.kind == "grade"
    assert sub.job.params == {"submission": sub.pk}


def test_unknown_exercise_saves_nothing():
    with pytest.raises(graders.UnknownExercise):
        submit("no-such-thing", "ada", "x", queue=False)
    assert Submission.objects.count() == 0


def test_grade_command_json_last_line(tmp_path, capsys):
    path = tmp_path / "answer.py"
    path.write_text(_right("bob"))
    call_command("grade", "test-echo", str(path), "--learner", "bob", "--json")
    last = capsys.readouterr().out.strip().splitlines()[-1]
    verdict = json.loads(last)
    assert set(verdict) == {"status", "score", "goals", "message"}
    assert verdict["status"] == "graded" and verdict["score"] == 1.0
    assert set(verdict["goals"][0]) == {"name", "passed", "points", "message"}
    assert Submission.objects.get(learner="bob").verdict["score"] == 1.0


def test_instructors_group_exists():
    assert Group.objects.filter(name="instructors").exists()
