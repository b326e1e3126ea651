"""Diagnostic job kinds: used by the worker's own tests and by ``manage.py worker --check``."""

from __future__ import annotations

import time

from .kinds import JobError, job_kind


@job_kind("jobs.echo")
def echo(params: dict, progress) -> dict:
    return {"echo": params}


@job_kind("jobs.wait")
def wait(params: dict, progress) -> dict:
    """Waits ``seconds`` (at most 60) reporting progress: lets tests kill a worker mid-job."""
    seconds = min(60.0, float(params.get("seconds", 1)))
    steps = max(1, int(seconds * 10))
    for i in range(steps):
        time.sleep(seconds / steps)
        progress((i + 1) / steps, f"step {i + 1} of {steps}")
    if params.get("fail"):
        raise JobError(str(params["fail"]))
    return {"waited": seconds}
