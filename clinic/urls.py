from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from clinic import views

# Each app's URLs in its own namespace, served by its own views (docs/architecture.md#urls).
urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("intake/", include("intake.urls")),
    path("review/", include("review.urls")),
    path("audit/", include("audit.urls")),
    path("nurse/", include("charting.urls")),
    path("sms/", include("notifications.urls")),
    path("", include("billing.urls")),
    path("", include("fhir.urls")),
    path("", include("scheduling.urls")),
    path("", include("messaging.urls")),
    path("", include("outcomes.urls")),
    path("", include("paperwork.urls")),
    path("", include("accounts.urls")),
]

handler400 = "clinic.views.bad_request"
handler403 = "clinic.views.permission_denied"
handler404 = "clinic.views.page_not_found"
handler500 = "clinic.views.server_error"
