from django.urls import path

from paperwork import views

app_name = "paperwork"

urlpatterns = [
    path("good-faith-estimate/", views.notice, name="notice"),
    path("paperwork/", views.mine, name="mine"),
    path("paperwork/request/", views.request_mine, name="request"),
    path("paperwork/superbill/", views.superbill_mine, name="superbill"),
    path("paperwork/estimates/<uuid:public_id>/", views.estimate_page, name="estimate"),
    path("paperwork/estimates/<uuid:public_id>/pdf/", views.estimate_pdf, name="estimate_pdf"),
    path(
        "paperwork/estimates/<uuid:public_id>/acknowledge/",
        views.acknowledge,
        name="acknowledge",
    ),
    path("desk/patients/<uuid:public_id>/estimate/", views.request_for, name="request_for"),
    path("desk/patients/<uuid:public_id>/superbill/", views.superbill_for, name="superbill_for"),
    path("review/plans/<uuid:public_id>/diagnoses/", views.plan_diagnoses, name="diagnoses"),
]
