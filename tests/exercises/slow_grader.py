"""A test grader whose sandboxed program takes a while (the worker is killed meanwhile)."""

from __future__ import annotations

import json

from courseware.sandbox import Limits, SandboxJob


class SlowGrader:
    slug = "test-slow"
    kind = "code"

    def variant(self, seed: int) -> dict:
        return {"n": seed % 1000}

    def validate(self, text: str, variant: dict) -> str | None:
        return None if "def answer" in text else "Define a function answer()."

    def sandbox_job(self, text: str, variant: dict) -> SandboxJob:
        harness = ("import json, time, solution\ntime.sleep(2)\n"
                   "json.dump({'answer': solution.answer()}, open('result.json', 'w'))\n")
        return SandboxJob(files={"solution.py": text, "harness.py": harness},
                          argv=["python3", "harness.py"], limits=Limits(wall_s=15))

    def score(self, text, variant, run) -> dict:
        claim = json.loads(run.outputs.get("result.json", "{}")).get("answer")
        ok = claim == variant["n"]
        return {"status": "graded", "message": "ok" if ok else "wrong",
                "goals": [{"name": "n", "passed": ok, "points": float(ok), "max_points": 1.0,
                           "message": ""}]}


GRADER = SlowGrader()
