"""Courseware in the database (loaded from courseware/content by `load_courseware`) and
each learner's progress and answers.

A learner is either a signed-in user or an anonymous visitor identified by a random
``anon_id`` kept in the session; on sign-in the anonymous rows are merged into the user's.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Lesson(models.Model):
    """One lesson: Markdown with front matter (slug, title, order, summary)."""

    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    order = models.PositiveIntegerField(db_index=True)
    summary = models.CharField(max_length=500, blank=True)
    body = models.TextField(help_text="Markdown; ```lab preset=ID``` embeds a lab, "
                                      "```checkpoint``` blocks become questions.")
    source_path = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order"]  # noqa: RUF012 (Django Meta)

    def __str__(self) -> str:
        return f"{self.order}. {self.title}"


class Question(models.Model):
    """A checked question: a lesson checkpoint, an auto-checked quiz question whose answer
    the engine computes, or an interview question with a model answer and rubric."""

    class Kind(models.TextChoices):
        CHOICE = "choice", "Multiple choice"
        NUMERIC = "numeric", "Numeric"
        COMPUTED = "computed", "Numeric, answer computed by the engine"
        INTERVIEW = "interview", "Interview (free text, self-checked)"

    slug = models.SlugField(unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    lesson = models.ForeignKey(Lesson, null=True, blank=True, on_delete=models.CASCADE,
                               related_name="questions")
    order = models.PositiveIntegerField(default=0)
    page = models.CharField(max_length=200, blank=True,
                            help_text="URL path of the non-lesson page showing this checkpoint")
    title = models.CharField(max_length=200, blank=True)
    prompt = models.TextField(help_text="Markdown")
    choices = models.JSONField(default=list, blank=True)
    # choice: index of the correct choice; numeric: the number; computed: null (engine).
    answer = models.JSONField(null=True, blank=True)
    tolerance = models.FloatField(default=0.0, help_text="relative tolerance for numbers")
    compute = models.CharField(max_length=100, blank=True,
                               help_text="name of the engine computation (computed kind)")
    params = models.JSONField(default=dict, blank=True,
                              help_text="arguments of the engine computation")
    explanation = models.TextField(blank=True, help_text="Markdown shown after answering")
    model_answer = models.TextField(blank=True, help_text="Markdown (interview)")
    rubric = models.JSONField(default=list, blank=True)
    demo_preset = models.CharField(max_length=100, blank=True)
    demo_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["kind", "order", "slug"]  # noqa: RUF012

    def __str__(self) -> str:
        return self.title or self.slug


class LearnerQuerySet(models.QuerySet):
    def for_learner(self, learner: dict) -> LearnerQuerySet:
        """Rows of one learner; ``learner`` is {"user": u} or {"anon_id": s}."""
        return self.filter(**learner)


class LessonProgress(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.CASCADE)
    anon_id = models.CharField(max_length=64, blank=True, db_index=True)
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE)
    visited_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = LearnerQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "lesson progress"

    @property
    def completed(self) -> bool:
        return self.completed_at is not None


class Answer(models.Model):
    """A learner's latest answer to a question (saved before it is checked)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.CASCADE)
    anon_id = models.CharField(max_length=64, blank=True, db_index=True)
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    text = models.TextField(blank=True)
    correct = models.BooleanField(null=True)
    revealed = models.BooleanField(default=False)
    # Wrong tries so far: the first gets a hint, the second (or a request) the answer.
    wrong_attempts = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LearnerQuerySet.as_manager()


class DebugSubmission(models.Model):
    """An answer to a debug-this scenario: the causes named and the fix to replay."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.CASCADE)
    anon_id = models.CharField(max_length=64, blank=True, db_index=True)
    scenario = models.SlugField()
    causes = models.JSONField(default=list)
    fix = models.JSONField(default=dict)
    passed = models.BooleanField(null=True)
    result = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = LearnerQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]  # noqa: RUF012
