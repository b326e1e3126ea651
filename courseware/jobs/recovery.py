"""Re-queue the jobs of dead workers; renew the leases of this worker's running jobs."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone

from . import worker_identity
from .models import Job

log = logging.getLogger(__name__)


def renew(worker: str, lease_s: float) -> int:
    return Job.objects.filter(worker=worker, status=Job.Status.RUNNING).update(
        lease_until=timezone.now() + timedelta(seconds=lease_s))


def recover() -> list[str]:
    """Queue again every running job whose lease lapsed or whose worker died on this host.

    The old django-tasks row of such a job is marked failed so no worker runs it as well;
    the job keeps its id, so pages polling it see it go back to "queued" and then finish.
    """
    from .services import enqueue

    now = timezone.now()
    stale = []
    for job in Job.objects.filter(status=Job.Status.RUNNING):
        lapsed = job.lease_until is None or job.lease_until < now
        if not (lapsed or worker_identity.is_dead_here(job.worker)):
            continue
        taken = Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING,
                                   worker=job.worker).update(status=Job.Status.QUEUED,
                                                             worker="", lease_until=None,
                                                             progress_text="queued again")
        if taken:
            _retire_task_row(job.task_result_id)
            enqueue(job)
            stale.append(str(job.pk))
            log.warning("job %s (%s) re-queued: worker %s is gone", job.pk, job.kind,
                        job.worker)
    return stale


def _retire_task_row(task_result_id: str) -> None:
    if not task_result_id:
        return
    try:
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # pragma: no cover - another backend
        return
    DBTaskResult.objects.filter(pk=task_result_id).exclude(
        status__in=["SUCCESSFUL", "FAILED"]).update(status="FAILED", finished_at=timezone.now())
