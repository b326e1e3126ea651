"""The one django-tasks task: run a saved :class:`Job` by its kind, at most once to completion.

Idempotent: a job already finished is left alone, and a job another live worker holds is
skipped, so a task that runs twice (a re-queued job whose first worker came back) grades or
replays nothing twice.
"""

from __future__ import annotations

import logging
import traceback
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

try:  # Django 6 ships the tasks framework; on 5.2 the django-tasks backport provides it
    from django.tasks import task
except ImportError:  # pragma: no cover - depends on the Django version
    from django_tasks import task

from courseware import collector

from . import worker_identity
from .kinds import KINDS, JobError, Progress
from .models import Job

log = logging.getLogger(__name__)


def lease_seconds() -> float:
    return float(getattr(settings, "JOBS_LEASE_SECONDS", 30))


def claim(job_id: str, worker: str) -> Job | None:
    """Take the job for ``worker`` if it is queued or its lease lapsed; None otherwise."""
    now = timezone.now()
    taken = Job.objects.filter(pk=job_id).filter(
        Q(status=Job.Status.QUEUED) | Q(status=Job.Status.RUNNING, lease_until__lt=now)
    ).update(status=Job.Status.RUNNING, worker=worker, started_at=now,
             lease_until=now + timedelta(seconds=lease_seconds()), progress=0.0,
             progress_text="", attempts=F("attempts") + 1)
    return Job.objects.get(pk=job_id) if taken else None


@task()
def run_job(job_id: str) -> str:
    worker = worker_identity.current()
    job = claim(job_id, worker)
    if job is None:
        return "skipped"
    fn = KINDS.get(job.kind)

    def write(fraction: float, text: str) -> None:
        Job.objects.filter(pk=job.pk, worker=worker).update(progress=fraction,
                                                            progress_text=text)

    mine = Job.objects.filter(pk=job.pk, worker=worker, status=Job.Status.RUNNING)
    try:
        return _run(job, fn, write, mine)
    finally:
        # The job's simulations are garbage now, in the collector's old generation, which
        # the worker's settings collect rarely (courseware/collector.py): free them before
        # the next job, not millions of allocations later.
        collector.collect_all()


def _run(job, fn, write, mine) -> str:
    try:
        if fn is None:
            raise JobError(f"This server does not know the job kind {job.kind!r}.")
        result = fn(job.params, Progress(write))
    except JobError as exc:
        mine.update(status=Job.Status.FAILED, error=str(exc), finished_at=timezone.now(),
                    lease_until=None)
        return "failed"
    except Exception as exc:
        log.exception("job %s (%s) failed", job.pk, job.kind)
        mine.update(status=Job.Status.FAILED, finished_at=timezone.now(), lease_until=None,
                    error="The server could not finish this; it has been logged.",
                    error_detail="".join(traceback.format_exception(exc))[-20000:])
        return "failed"
    mine.update(status=Job.Status.DONE, result=result, progress=1.0, lease_until=None,
                finished_at=timezone.now())
    return "done"
