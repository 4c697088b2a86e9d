from __future__ import annotations

import datetime as dt

from django import forms
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import render

from accounts.access import role_required
from accounts.models import Role, User
from accounts.requests import AuthenticatedRequest
from audit.models import AuditEvent

DATE = forms.DateInput(attrs={"type": "date"})


class AuditSearchForm(forms.Form):
    patient = forms.CharField(label="Patient (name or email)", max_length=100, required=False)
    user = forms.CharField(label="Staff member or user (email)", max_length=100, required=False)
    since = forms.DateField(label="From", required=False, widget=DATE)
    until = forms.DateField(label="To", required=False, widget=DATE)


def _people(text: str) -> Q:
    query = Q()
    for word in text.split()[:4]:
        query &= (
            Q(email__icontains=word) | Q(first_name__icontains=word) | Q(last_name__icontains=word)
        )
    return query


@role_required(Role.CLINIC_ADMIN)
def search(request: AuthenticatedRequest) -> HttpResponse:
    form = AuditSearchForm(request.GET or None)
    events = AuditEvent.objects.all()
    if form.is_valid():
        data = form.cleaned_data
        if data["patient"]:
            events = events.filter(
                patient_id__in=User.objects.filter(_people(data["patient"])).values("pk")
            )
        if data["user"]:
            events = events.filter(
                actor_id__in=User.objects.filter(_people(data["user"])).values("pk")
            )
        if data["since"]:
            events = events.filter(at__gte=dt.datetime.combine(data["since"], dt.time(), dt.UTC))
        if data["until"]:
            end = dt.datetime.combine(data["until"] + dt.timedelta(days=1), dt.time(), dt.UTC)
            events = events.filter(at__lt=end)
    page = Paginator(events.order_by("-at", "-id"), 100).get_page(request.GET.get("page"))
    ids = {e.actor_id for e in page} | {e.patient_id for e in page}
    people = User.objects.in_bulk([i for i in ids if i])
    rows = [(e, people.get(e.actor_id), people.get(e.patient_id)) for e in page]
    return render(request, "audit/search.html", {"form": form, "page": page, "rows": rows})
