from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from clinic import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("intake/", include("intake.urls")),
    path("review/", include("review.urls")),
    path("audit/", include("audit.urls")),
    path("nurse/", include("charting.urls")),
    path("sms/", include("notifications.urls")),
    path("", include("fhir.urls")),
    path("", include("scheduling.urls")),
    path("", include("outcomes.urls")),
    path("", include("accounts.urls")),
]

handler400 = "clinic.views.bad_request"
handler403 = "clinic.views.permission_denied"
handler404 = "clinic.views.page_not_found"
handler500 = "clinic.views.server_error"
