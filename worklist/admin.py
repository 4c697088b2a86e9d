from __future__ import annotations

from django.contrib import admin

from worklist.models import Task


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin[Task]):
    list_display = ["cause", "queue", "status", "opened_at", "closed_at"]
    list_filter = ["queue", "cause", "status"]
    readonly_fields = [f.name for f in Task._meta.fields]
