from __future__ import annotations

from django.urls import path

from fhir import views

app_name = "fhir"

urlpatterns = [
    path("fhir/metadata", views.metadata, name="metadata"),
    path("fhir/Patient/<str:resource_id>/$everything", views.everything, name="everything"),
    path("fhir/<str:resource_type>", views.search_type, name="search"),
    path("fhir/<str:resource_type>/<str:resource_id>", views.read, name="read"),
    path("fhir/", views.unknown, name="base"),
    path("fhir/<path:rest>", views.unknown, name="unknown"),
    path("settings/integrations/", views.clients, name="clients"),
    path(
        "settings/integrations/<uuid:public_id>/revoke/",
        views.revoke_client,
        name="revoke_client",
    ),
]
