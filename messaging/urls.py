from __future__ import annotations

from django.urls import path

from messaging import views

app_name = "messaging"

urlpatterns = [
    path("settings/<slug:slug>/reminders/", views.reminder_rules, name="reminder_rules"),
]
