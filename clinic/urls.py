from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from clinic import views
from intake import urls as intake_urls
from messaging import urls as messaging_urls
from scheduling import urls as scheduling_urls
from scheduling.views import patient as patient_views

# The patient's home keeps its address and name (/intake/, "intake:home": every link, redirect
# and User.get_home_url() already use them) but is drawn by scheduling, the layer that knows
# both the intake and the appointments (docs/roles/patient.md#the-patients-home).
intake_patterns = [
    path("", patient_views.home, name="home"),
    *intake_urls.urlpatterns,
]

# Messaging's settings page keeps the address and name it had in scheduling
# ("scheduling:reminder_rules"); scheduling cannot include it, being below messaging
# (docs/architecture.md#apps-and-layers).
scheduling_patterns = [*scheduling_urls.urlpatterns, *messaging_urls.urlpatterns]

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("intake/", include((intake_patterns, intake_urls.app_name))),
    path("review/", include("review.urls")),
    path("audit/", include("audit.urls")),
    path("nurse/", include("charting.urls")),
    path("sms/", include("notifications.urls")),
    path("", include("billing.urls")),
    path("", include("fhir.urls")),
    path("", include((scheduling_patterns, scheduling_urls.app_name))),
    path("", include("outcomes.urls")),
    path("", include("accounts.urls")),
]

handler400 = "clinic.views.bad_request"
handler403 = "clinic.views.permission_denied"
handler404 = "clinic.views.page_not_found"
handler500 = "clinic.views.server_error"
