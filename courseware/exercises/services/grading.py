"""Save a submission, then grade it once: variant → validate → sandbox → score → verdict.

``grade_submission`` is idempotent: a submission with a stored verdict is left alone, and the
verdict is written with a conditional update so two runs of the job store it once.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict, is_dataclass

from django.db import transaction

from courseware import sandbox
from courseware.exercises import graders
from courseware.exercises.models import Submission

log = logging.getLogger(__name__)
OUTPUT_CAP = 8 * 1024
LIMIT_MESSAGES = {
    "cpu": "Stopped after {cpu_s} s of CPU time.",
    "wall": "Stopped after {wall_s} s of wall-clock time.",
    "memory": "Stopped: the program used more than {memory_mb} MB of memory.",
    "output": "Stopped: the program wrote more output than allowed ({output_kb} KB).",
    "processes": "Stopped: the program started more than {processes} processes or threads.",
}


class SubmissionError(ValueError):
    pass


def submit(slug: str, learner: str, text: str, *, queue: bool = True,
           owner: str | None = None) -> Submission:
    """Save the submission (it exists before any worker sees it), then queue its grading.

    ``owner`` is who may read the job at ``/jobs/<id>/`` (a page passes ``owner_of(request)``).
    """
    graders.get(slug)  # an unknown slug is refused before anything is saved
    if not learner:
        raise SubmissionError("A submission needs a learner.")
    submission = Submission.objects.create(exercise=slug, learner=learner, text=text)
    if queue:
        from courseware.jobs.services import submit as submit_job

        job = submit_job("grade", {"submission": submission.pk},
                         owner=owner or f"learner:{learner}")
        Submission.objects.filter(pk=submission.pk).update(job=job)
        submission.job = job
    return submission


def _verdict(status: str, message: str, *, score: float = 0.0, goals=(), output: str = "",
             replay=None) -> dict:
    return {"status": status, "score": score, "goals": list(goals), "message": message,
            "output": output[-OUTPUT_CAP:], "replay": replay}


def _as_dict(verdict) -> dict:
    if is_dataclass(verdict):
        verdict = asdict(verdict)
    verdict = dict(verdict)
    goals = verdict.get("goals") or []
    verdict["goals"] = [asdict(g) if is_dataclass(g) else dict(g) for g in goals]
    if verdict.get("status", "graded") == "graded":
        total = sum(g.get("max_points", 0) for g in verdict["goals"])
        got = sum(g.get("points", 0) for g in verdict["goals"])
        verdict["score"] = round(got / total, 4) if total else 0.0
    verdict.setdefault("status", "graded")
    verdict.setdefault("message", "")
    verdict.setdefault("replay", None)
    verdict["output"] = (verdict.get("output") or "")[-OUTPUT_CAP:]
    return verdict


def _run_beside(job, grader, variant: dict):
    """Run the sandbox while the grader's ``prepare`` computes the truth it can compute
    without the run (the sandbox is another process: the two use both cores)."""
    prepare = getattr(grader, "prepare", None)
    if prepare is None:
        return sandbox.run(job)

    def quietly() -> None:
        try:
            prepare(variant)
        except Exception:  # score() recomputes it and reports the failure
            log.exception("prepare failed for %s", getattr(grader, "slug", grader))

    helper = threading.Thread(target=quietly, name="grade-prepare", daemon=True)
    helper.start()
    try:
        return sandbox.run(job)
    finally:
        helper.join()


def compute_verdict(slug: str, learner: str, text: str) -> dict:
    grader = graders.get(slug)
    variant = grader.variant(graders.variant_seed(learner, slug))
    problem = grader.validate(text, variant)
    if problem:
        return _verdict("invalid", problem)
    job = grader.sandbox_job(text, variant)
    run = _run_beside(job, grader, variant) if job is not None else None
    if run is not None:
        output = (run.stdout + run.stderr)[-OUTPUT_CAP:]
        if run.killed:
            limits = asdict(job.limits)
            return _verdict("error", LIMIT_MESSAGES.get(run.killed, "Stopped.").format(**limits),
                            output=output) | {"timing": {"sandbox_ms": run.wall_ms}}
        if run.exit_code != 0:
            return _verdict("error", f"Your program stopped with exit code {run.exit_code}; "
                            "its output below says why.", output=output) | {
                                "timing": {"sandbox_ms": run.wall_ms}}
    verdict = _as_dict(grader.score(text, variant, run))
    if run is not None:
        verdict["timing"] = {"sandbox_ms": run.wall_ms}
    if run is not None and not verdict["output"]:
        verdict["output"] = (run.stdout + run.stderr)[-OUTPUT_CAP:]
    if run is not None and run.isolation == "reduced":
        verdict["message"] = (verdict["message"] + " (Isolation was reduced: bubblewrap is "
                              "not installed on this server.)").strip()
    return verdict


def grade_submission(submission_id: int) -> dict:
    """Grade once and return the stored verdict (the stored one if it was graded already)."""
    submission = Submission.objects.get(pk=submission_id)
    if submission.verdict is not None:
        return submission.verdict
    Submission.objects.filter(pk=submission_id, verdict__isnull=True).update(status="running")
    started = time.monotonic()
    verdict = compute_verdict(submission.exercise, submission.learner, submission.text)
    # How long grading took in the worker (the gradebook's detail and CSV show it).
    verdict["timing"] = {**verdict.get("timing", {}),
                         "grading_ms": int((time.monotonic() - started) * 1000)}
    with transaction.atomic():
        attempt = None
        if verdict["status"] != "invalid":
            attempt = Submission.objects.filter(
                exercise=submission.exercise, learner=submission.learner,
                status__in=("graded", "error"), pk__lt=submission.pk).count() + 1
        stored = Submission.objects.filter(pk=submission_id, verdict__isnull=True).update(
            verdict=verdict, status=verdict["status"], attempt=attempt)
    if not stored:  # another run stored it first; keep that one
        return Submission.objects.get(pk=submission_id).verdict
    return verdict
