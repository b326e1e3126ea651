"""A worker SIGKILLed mid-grading: after a restart every submission has exactly one verdict."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.jobs.test_worker import _env, _manage, _start_worker, _stop

ROOT = Path(__file__).resolve().parents[2]
SHELL = """
import json, sys
import django
django.setup()
from courseware.exercises.models import Submission
from courseware.exercises.services.grading import submit
from courseware.exercises import graders
if sys.argv[1] == "submit":
    for learner in ("ada", "bob", "cy"):
        n = graders.variant_seed(learner, "test-slow") % 1000
        submit("test-slow", learner, f"def answer():\\n    return {n}\\n")
print(json.dumps([{"id": s.pk, "status": s.status, "verdict": s.verdict,
                   "attempts": s.job.attempts if s.job else None}
                  for s in Submission.objects.order_by("pk")]))
"""


def _py(env, *args) -> list[dict]:
    done = subprocess.run([sys.executable, "-c", SHELL, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _wait(env, pred, timeout=90.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        rows = _py(env, "get")
        if pred(rows):
            return rows
        assert time.monotonic() < deadline, rows
        time.sleep(0.3)


def test_killed_worker_mid_grading_every_submission_graded_once(tmp_path):
    env = _env(tmp_path / "db.sqlite3")
    env["EXERCISE_EXTRA_GRADERS"] = json.dumps({"test-slow": "tests.exercises.slow_grader"})
    _manage(env, "migrate", "--noinput")
    rows = _py(env, "submit")
    assert [r["status"] for r in rows] == ["queued"] * 3  # saved before any worker runs
    log = tmp_path / "worker.log"
    first = _start_worker(env, log)
    try:
        _wait(env, lambda rs: any(r["status"] == "running" for r in rs))
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
    finally:
        _stop(first)
    second = _start_worker(env, log)
    try:
        rows = _wait(env, lambda rs: all(r["verdict"] is not None for r in rs))
        time.sleep(1.5)  # nothing may grade a submission a second time afterwards
        again = _py(env, "get")
    finally:
        _stop(second)
    assert again == rows
    assert [r["verdict"]["score"] for r in rows] == [1.0, 1.0, 1.0]
    assert {r["status"] for r in rows} == {"graded"}
    assert any(r["attempts"] == 2 for r in rows)  # the killed one ran again
