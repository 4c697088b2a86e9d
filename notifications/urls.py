from __future__ import annotations

from django.urls import path

from notifications import views

app_name = "notifications"

# Give these addresses to the Twilio number (README, "Two-way texts"): SITE_URL + the path.
urlpatterns = [
    path("twilio/status/", views.twilio_status, name="twilio_status"),
    path("twilio/inbound/", views.twilio_inbound, name="twilio_inbound"),
]
