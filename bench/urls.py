"""The app's URLs plus the benchmark's reference pages (bench/settings.py only)."""

from __future__ import annotations

from django.urls import path

from bench import server
from clinic.urls import handler400, handler403, handler404, handler500, urlpatterns

urlpatterns = [
    path("bench/floor/", server.floor, name="bench_floor"),
    path("bench/floor/staff/", server.staff_floor, name="bench_staff_floor"),
    path("bench/floor/bare/", server.bare_floor, name="bench_bare_floor"),
    *urlpatterns,
]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
