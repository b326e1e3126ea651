"""The course in the Django admin: lessons and questions (loaded from the repo by
``load_courseware``; edits here last until the next load), and learners' progress."""

from django.contrib import admin

from .models import Answer, DebugSubmission, Lesson, LessonProgress, Question


class QuestionInline(admin.StackedInline):
    model = Question
    extra = 0
    fields = ("slug", "kind", "order", "prompt", "choices", "answer", "tolerance", "explanation")


@admin.register(Lesson)
class LessonAdmin(admin.ModelAdmin):
    list_display = ("order", "title", "slug", "source_path", "updated_at")
    list_display_links = ("title",)
    search_fields = ("title", "summary", "body")
    prepopulated_fields = {"slug": ("title",)}  # noqa: RUF012 (Django admin API)
    inlines = (QuestionInline,)


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ("slug", "kind", "lesson", "order", "title")
    list_filter = ("kind", "lesson")
    search_fields = ("slug", "title", "prompt")


@admin.register(LessonProgress)
class LessonProgressAdmin(admin.ModelAdmin):
    list_display = ("lesson", "user", "anon_id", "visited_at", "completed_at")
    list_filter = ("lesson",)


@admin.register(Answer)
class AnswerAdmin(admin.ModelAdmin):
    list_display = ("question", "user", "anon_id", "correct", "revealed", "updated_at")
    list_filter = ("correct", "revealed")


@admin.register(DebugSubmission)
class DebugSubmissionAdmin(admin.ModelAdmin):
    list_display = ("scenario", "user", "anon_id", "passed", "created_at")
    list_filter = ("scenario", "passed")
