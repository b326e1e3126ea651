"""The ``grade`` job kind: grade one saved submission (idempotent)."""

from __future__ import annotations

from courseware.jobs.kinds import JobError, job_kind

from .models import Submission
from .services.grading import grade_submission


@job_kind("grade")
def grade(params: dict, progress) -> dict:
    try:
        submission_id = int(params["submission"])
    except (KeyError, TypeError, ValueError) as exc:
        raise JobError("This grading job names no submission.") from exc
    if not Submission.objects.filter(pk=submission_id).exists():
        raise JobError("This submission no longer exists.")
    progress(0.1, "grading", force=True)
    verdict = grade_submission(submission_id)
    return {"submission": submission_id, "status": verdict["status"], "score": verdict["score"]}


@job_kind("exercises.sample_run")
def sample_run(params: dict, progress) -> dict:
    """Run the learner's code on their workload in the sandbox (or their config through the
    engine): its output, errors and report, no score. Not a submission, not an attempt."""
    from .services import sampling

    try:
        slug, learner, text = str(params["slug"]), str(params["learner"]), str(params["text"])
    except (KeyError, TypeError) as exc:
        raise JobError("This run names no exercise or no code.") from exc
    progress(0.1, "running in the sandbox", force=True)
    return sampling.sample_run(slug, learner, text)


@job_kind("exercises.sweep")
def sweep(params: dict, progress) -> dict:
    """batching-benchmark: the 5 × 5 grid; compression-comparison: every codec — real engine
    runs on the learner's workload, one progress step per run."""
    from .services import sampling

    try:
        slug, learner = str(params["slug"]), str(params["learner"])
    except (KeyError, TypeError) as exc:
        raise JobError("This sweep names no exercise.") from exc
    return sampling.sweep(slug, learner, progress)
