"""``manage.py grade EXERCISE FILE [--learner NAME] [--json]``: save and grade one submission.

It grades in-process (a management command, not daphne) through the same service the
worker's ``grade`` job calls, so the stored submission and verdict are the same.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from courseware.exercises import graders
from courseware.exercises.services.grading import SubmissionError, grade_submission, submit


class Command(BaseCommand):
    help = "Save and grade one submission; with --json the last line is the verdict."

    def add_arguments(self, parser):
        parser.add_argument("exercise")
        parser.add_argument("file")
        parser.add_argument("--learner", default="cli")
        parser.add_argument("--json", action="store_true")

    def handle(self, exercise, file, learner, json: bool = False, **_):
        try:
            text = Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from exc
        try:
            submission = submit(exercise, learner, text, queue=False)
        except (graders.UnknownExercise, SubmissionError) as exc:
            raise CommandError(str(exc)) from exc
        verdict = grade_submission(submission.pk)
        if json:
            self.stdout.write(_json_line(verdict))
            return
        self.stdout.write(f"submission {submission.pk}: {verdict['status']} "
                          f"score {verdict['score']:.2f} — {verdict['message']}")
        for goal in verdict["goals"]:
            mark = "✓" if goal.get("passed") else "✗"
            self.stdout.write(f"  {mark} {goal.get('name')}: {goal.get('points', 0)}/"
                              f"{goal.get('max_points', 0)} {goal.get('message', '')}")


def _json_line(verdict: dict) -> str:
    goals = [{k: g.get(k) for k in ("name", "passed", "points", "message")}
             for g in verdict["goals"]]
    return json.dumps({"status": verdict["status"], "score": verdict["score"], "goals": goals,
                       "message": verdict["message"]})
