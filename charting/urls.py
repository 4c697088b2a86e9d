from __future__ import annotations

from django.urls import path

from charting import views

app_name = "charting"

urlpatterns = [
    path("", views.day, name="day"),
    path("sessions/<uuid:public_id>/", views.chart, name="chart"),
    path("sessions/<uuid:public_id>/print/", views.print_view, name="print"),
    path("to-cosign/", views.to_cosign, name="to_cosign"),
]
