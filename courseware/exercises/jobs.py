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
