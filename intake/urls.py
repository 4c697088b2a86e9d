from __future__ import annotations

from django.urls import path

from intake import views

app_name = "intake"

# The patient's home at /intake/ is scheduling's ("scheduling:patient_home"): it shows the
# appointments, which intake may not know of (docs/architecture.md#urls).
urlpatterns = [
    path("start/", views.start, name="start"),
    path("<uuid:public_id>/review/", views.review, name="review"),
    path("<uuid:public_id>/submit/", views.submit, name="submit"),
    path("<uuid:public_id>/submitted/", views.submitted, name="submitted"),
    # Before the steps: "insurance-card" is a slug too.
    path("<uuid:public_id>/insurance-card/", views.insurance_card, name="insurance_card"),
    path("<uuid:public_id>/<slug:slug>/", views.step, name="step"),
]
