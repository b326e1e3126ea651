from django.contrib import admin

from .models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "status", "progress", "attempts", "worker", "created_at")
    list_filter = ("kind", "status")
    readonly_fields = tuple(f.name for f in Job._meta.fields)
