from __future__ import annotations

from django.urls import path

from review import views

app_name = "review"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("protocols/", views.templates, name="templates"),
    path("<uuid:public_id>/", views.summary, name="summary"),
    path("<uuid:public_id>/approve/", views.approve, name="approve"),
    path("<uuid:public_id>/decline/", views.decline, name="decline"),
    path("<uuid:public_id>/more-info/", views.more_info, name="more_info"),
    path("<uuid:public_id>/acknowledge/", views.acknowledge, name="acknowledge"),
]
