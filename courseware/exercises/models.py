"""A learner's submission to an exercise, saved before it is graded (docs/GRADING.md)."""

from __future__ import annotations

from django.db import models


class Submission(models.Model):
    STATUSES = tuple((s, s) for s in ("queued", "running", "graded", "invalid", "error"))

    exercise = models.SlugField(max_length=64)
    learner = models.CharField(max_length=150)
    text = models.TextField()
    created = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=STATUSES, default="queued")
    # Counted attempts only: None until graded, and for ``invalid`` submissions.
    attempt = models.PositiveIntegerField(null=True, blank=True)
    verdict = models.JSONField(null=True, blank=True)
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="submissions")

    class Meta:
        ordering = ("-created", "-id")
        indexes = (models.Index(fields=["exercise", "learner"]),)

    def __str__(self) -> str:
        return f"{self.exercise} by {self.learner} ({self.status})"


class Exercise(models.Model):
    """The admin's copy of an exercise's headline facts; the exercise itself is files in
    ``courseware/content/exercises/<slug>/`` (``services.catalog.sync`` refreshes this)."""

    slug = models.SlugField(max_length=64, unique=True)
    order = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, blank=True)
    lessons = models.CharField(max_length=200, blank=True)
    par = models.PositiveIntegerField(null=True, blank=True)
    source_path = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ("order", "slug")

    def __str__(self) -> str:
        return f"{self.slug} — {self.title}"
