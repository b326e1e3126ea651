"""Submit heavy work to the worker processes and read how it goes.

    job = submit("replay", {"fix": "..."}, owner=owner_of(request))   # saved, then queued
    job = visible_job(job_id, owner_of(request))                      # None if not theirs

Views call these; the work itself runs in ``manage.py worker`` (never in daphne).
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from . import wakeup
from .kinds import KINDS
from .models import Job


def owner_of(request_or_scope) -> str:
    """Who a job belongs to: the signed-in user, else a digest of the session key."""
    user = getattr(request_or_scope, "user", None)
    if user is None and isinstance(request_or_scope, dict):
        user = request_or_scope.get("user")
    if user is not None and getattr(user, "is_authenticated", False):
        return f"user:{user.pk}"
    session = getattr(request_or_scope, "session", None)
    if session is None and isinstance(request_or_scope, dict):
        session = request_or_scope.get("session")
    if session is None:
        return ""
    if not session.session_key:
        session.save()
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{session.session_key}".encode()).hexdigest()
    return "session:" + digest[:40]


def submit(kind: str, params: dict, *, owner: str = "") -> Job:
    """Save a job and queue it; the row exists before any worker can see the task."""
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    with transaction.atomic():
        job = Job.objects.create(kind=kind, params=params, owner=owner)
    enqueue(job)
    return job


def enqueue(job: Job) -> None:
    """Queue (or queue again) the task that runs ``job``."""
    from .tasks import run_job

    result = run_job.enqueue(str(job.id))
    Job.objects.filter(pk=job.pk).update(task_result_id=str(result.id))
    job.task_result_id = str(result.id)
    # An idle worker starts it now rather than at its next poll (docs/JOBS.md).
    transaction.on_commit(wakeup.notify)


def visible_job(job_id, owner: str) -> Job | None:
    """The job if ``owner`` may see it (staff see every job through the admin, not here)."""
    try:
        job = Job.objects.get(pk=job_id)
    except (Job.DoesNotExist, ValidationError, ValueError):
        return None
    return job if owner and job.owner == owner else None
