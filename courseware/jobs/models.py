"""A durable unit of heavy work: saved before it runs, run by a worker, leased while it runs.

The queue under it is django-tasks' database backend (one ``run_job`` task per job); this row
is what the pages read (status, progress, result) and what makes a killed worker's job run
again: a running job holds a lease its worker keeps renewing, and any worker re-queues a job
whose lease lapsed or whose worker process is gone (``courseware.jobs.recovery``).
"""

from __future__ import annotations

import uuid

from django.db import models


class Job(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=40, db_index=True)
    params = models.JSONField(default=dict)
    owner = models.CharField(max_length=64, blank=True, db_index=True,
                             help_text="who may read it: a session-key digest or 'user:<id>'")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED,
                              db_index=True)
    progress = models.FloatField(default=0.0)
    progress_text = models.CharField(max_length=200, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="what the learner is told")
    error_detail = models.TextField(blank=True, help_text="traceback, for admins")
    attempts = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=100, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    task_result_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        indexes = (models.Index(fields=["status", "lease_until"]),)

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    def as_json(self) -> dict:
        """What the status endpoint and pages show (never the traceback)."""
        return {"id": str(self.id), "kind": self.kind, "status": self.status,
                "progress": round(self.progress, 3), "text": self.progress_text,
                "result": self.result if self.status == self.Status.DONE else None,
                "error": self.error if self.status == self.Status.FAILED else ""}
