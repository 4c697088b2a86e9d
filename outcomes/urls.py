from __future__ import annotations

from django.urls import path

from outcomes import views

app_name = "outcomes"

urlpatterns = [
    path("check-in/<str:token>/", views.check_in, name="check_in"),
    path("questionnaire/<str:token>/", views.questionnaire, name="questionnaire"),
]
