from __future__ import annotations

from django.urls import path

from messaging import views

# Mounted in scheduling's namespace by clinic/urls.py: the settings page kept its address and
# name ("scheduling:reminder_rules") when it moved up (docs/architecture.md#apps-and-layers).
urlpatterns = [
    path("settings/<slug:slug>/reminders/", views.reminder_rules, name="reminder_rules"),
]
