"""Exercises and submissions in the Django admin. Exercises are files in the repo: their
list is refreshed from there when it is opened, and is read-only here."""

from django.contrib import admin
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html

from .models import Exercise, Submission
from .services import catalog


@admin.register(Exercise)
class ExerciseAdmin(admin.ModelAdmin):
    list_display = ("order", "slug", "title", "kind", "lessons", "par", "submissions",
                    "learners", "graded_full", "gradebook")
    list_display_links = ("slug",)
    list_filter = ("kind",)
    search_fields = ("slug", "title")
    readonly_fields = ("slug", "order", "title", "kind", "lessons", "par", "source_path")

    def changelist_view(self, request, extra_context=None):
        catalog.sync()
        return super().changelist_view(request, extra_context)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _stats(self, obj) -> dict:
        return Submission.objects.filter(exercise=obj.slug).aggregate(
            n=Count("id"), learners=Count("learner", distinct=True),
            full=Count("learner", distinct=True, filter=Q(status="graded", verdict__score=1.0)))

    @admin.display(description="submissions")
    def submissions(self, obj) -> object:
        url = reverse("admin:exercises_submission_changelist") + f"?exercise={obj.slug}"
        return format_html('<a href="{}">{}</a>', url, self._stats(obj)["n"])

    @admin.display(description="learners")
    def learners(self, obj) -> int:
        return self._stats(obj)["learners"]

    @admin.display(description="learners with full credit")
    def graded_full(self, obj) -> int:
        return self._stats(obj)["full"]

    @admin.display(description="gradebook")
    def gradebook(self, obj) -> object:
        return format_html('<a href="{}?exercise={}">open</a>', reverse("gradebook:table"),
                           obj.slug)


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ("id", "exercise", "learner", "status", "attempt", "score", "created",
                    "detail")
    list_filter = ("exercise", "status", ("created", admin.DateFieldListFilter))
    search_fields = ("learner", "exercise")
    date_hierarchy = "created"
    readonly_fields = ("created", "verdict", "job")

    @admin.display(description="score")
    def score(self, obj) -> str:
        verdict = obj.verdict or {}
        if obj.status not in ("graded", "error") or "score" not in verdict:
            return "—"
        return f"{round(float(verdict['score']) * 100)} %"

    @admin.display(description="gradebook")
    def detail(self, obj) -> object:
        return format_html('<a href="{}">detail</a>', reverse("gradebook:detail", args=[obj.pk]))
