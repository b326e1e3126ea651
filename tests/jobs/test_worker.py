"""The worker as ``make run`` starts it: a real ``manage.py worker`` process on a real database.

A job is saved before it runs, the worker runs it, a SIGKILLed worker's job runs again when a
worker comes back, and it finishes exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _env(db: Path) -> dict[str, str]:
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{db}", DJANGO_SETTINGS_MODULE="courseware.settings",
               JOBS_LEASE_SECONDS="3", JOBS_HEARTBEAT_SECONDS="0.5", PYTHONUNBUFFERED="1")
    env.pop("REDIS_URL", None)
    return env


def _manage(env, *args, check=True) -> str:
    done = subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    if check and done.returncode:
        raise AssertionError(done.stdout + done.stderr)
    return done.stdout


SHELL = """
import json, sys
from courseware.jobs.models import Job
from courseware.jobs.services import submit
cmd = sys.argv[1]
if cmd == "submit":
    print(submit(sys.argv[2], json.loads(sys.argv[3]), owner="test").id)
else:
    j = Job.objects.get(pk=sys.argv[2])
    waited = (j.started_at - j.created_at).total_seconds() if j.started_at else None
    print(json.dumps({"status": j.status, "attempts": j.attempts, "result": j.result,
                      "error": j.error, "progress": j.progress, "queued_s": waited}))
"""


def _py(env, *args) -> str:
    code = "import django; django.setup()\n" + SHELL
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def _state(env, job_id) -> dict:
    return json.loads(_py(env, "get", job_id))


def _wait(env, job_id, pred, timeout=40.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        st = _state(env, job_id)
        if pred(st):
            return st
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} stuck: {st}")
        time.sleep(0.2)


@pytest.fixture
def env(tmp_path):
    env = _env(tmp_path / "db.sqlite3")
    _manage(env, "migrate", "--noinput")
    return env


def _start_worker(env, log: Path, *args: str) -> subprocess.Popen:
    with open(log, "a") as out:  # the child keeps its own descriptor
        return subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "worker", *args],
                                cwd=ROOT,
                                env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def test_a_saved_job_is_run_by_the_worker_and_failures_are_told(env, tmp_path):
    ok = _py(env, "submit", "jobs.echo", json.dumps({"x": 1}))
    bad = _py(env, "submit", "jobs.wait", json.dumps({"seconds": 0.1, "fail": "no broker"}))
    assert _state(env, ok)["status"] == "queued"  # saved before any worker exists
    worker = _start_worker(env, tmp_path / "worker.log")
    try:
        assert _wait(env, ok, lambda s: s["status"] == "done")["result"] == {"echo": {"x": 1}}
        failed = _wait(env, bad, lambda s: s["status"] == "failed")
        assert failed["error"] == "no broker"
    finally:
        _stop(worker)


def test_a_killed_workers_job_runs_again_and_finishes_once(env, tmp_path):
    # Long enough that a loaded machine (each _state() is a fresh Django process) still kills
    # the worker mid-job.
    job = _py(env, "submit", "jobs.wait", json.dumps({"seconds": 12}))
    log = tmp_path / "worker.log"
    first = _start_worker(env, log)
    try:
        _wait(env, job, lambda s: s["status"] == "running" and s["progress"] > 0.1)
        os.killpg(first.pid, signal.SIGKILL)  # mid-job, no chance to clean up
        first.wait(10)
        assert _state(env, job)["status"] == "running"  # nobody has noticed yet
    finally:
        _stop(first)
    second = _start_worker(env, log)
    try:
        st = _wait(env, job, lambda s: s["status"] == "done", timeout=60)
        assert st["attempts"] == 2 and st["result"] == {"waited": 12.0}
        time.sleep(1.5)  # the retired first task row must not run the job a third time
        assert _state(env, job)["attempts"] == 2
    finally:
        _stop(second)


def test_an_idle_worker_starts_a_new_job_at_once_not_at_its_next_poll(env, tmp_path):
    # A 60 s poll interval: only the wake-up (courseware/jobs/wakeup.py) can start the second
    # job within seconds of its submission.
    first = _py(env, "submit", "jobs.echo", json.dumps({"x": 1}))
    worker = _start_worker(env, tmp_path / "worker.log", "--interval", "60")
    try:
        _wait(env, first, lambda s: s["status"] == "done")
        time.sleep(1.0)  # the worker has found the queue empty and waits out its interval
        job = _py(env, "submit", "jobs.echo", json.dumps({"x": 2}))
        st = _wait(env, job, lambda s: s["status"] == "done", timeout=40)
        assert st["result"] == {"echo": {"x": 2}}
        assert st["queued_s"] < 5, st
    finally:
        _stop(worker)
