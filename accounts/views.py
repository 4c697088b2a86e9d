from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from accounts.access import role_required
from accounts.models import Role
from locations.models import Location, NurseShift


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect(request.user.get_home_url())  # type: ignore[union-attr]


@role_required(Role.FRONT_DESK)
def front_desk_home(request: HttpRequest) -> HttpResponse:
    locations = Location.objects.filter(is_active=True).prefetch_related("chairs")
    return render(request, "accounts/home_front_desk.html", {"locations": locations})


@role_required(Role.NURSE)
def nurse_home(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    shifts = (
        NurseShift.objects.filter(nurse=request.user, ends_at__gte=now)
        .select_related("location")
        .order_by("starts_at")[:10]
    )
    return render(request, "accounts/home_nurse.html", {"shifts": shifts})


@role_required(Role.CLINICIAN)
def clinician_home(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/home_clinician.html")


@role_required(Role.CLINIC_ADMIN)
def clinic_admin_home(request: HttpRequest) -> HttpResponse:
    locations = Location.objects.prefetch_related("chairs", "opening_hours")
    return render(request, "accounts/home_clinic_admin.html", {"locations": locations})
