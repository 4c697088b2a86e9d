from __future__ import annotations

from django.urls import path

from outcomes import views, visit_views

app_name = "outcomes"

urlpatterns = [
    path("check-in/<str:token>/", views.check_in, name="check_in"),
    path("questionnaire/<str:token>/", views.questionnaire, name="questionnaire"),
    path("my-progress/", views.mine, name="mine"),
    path("outcomes/patients/<uuid:public_id>/", views.patient, name="patient"),
    path("outcomes/visits/<uuid:public_id>/", visit_views.visit_note, name="visit_note"),
    path("outcomes/<slug:slug>/dashboard/", views.dashboard, name="dashboard"),
    path("outcomes/<slug:slug>/dashboard.csv", views.dashboard_csv, name="dashboard_csv"),
    path(
        "outcomes/<slug:slug>/dashboard/<slug:figure>/",
        views.dashboard_sessions,
        name="dashboard_sessions",
    ),
    path(
        "outcomes/<slug:slug>/dashboard/<slug:figure>/",
        views.dashboard_sessions,
        name="dashboard_sessions",
    ),
]
