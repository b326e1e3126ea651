from django.contrib import admin

from .models import Submission


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ("id", "exercise", "learner", "status", "attempt", "created")
    list_filter = ("exercise", "status")
    search_fields = ("learner",)
    readonly_fields = ("created", "verdict", "job")
