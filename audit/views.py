from __future__ import annotations

import datetime as dt
import secrets
import zoneinfo
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.access import role_required
from accounts.models import Role, User
from accounts.requests import AuthenticatedRequest
from audit.models import AuditEvent
from clinic.querystrings import DayField, PageField, query_form, read_query

DATE = forms.DateInput(attrs={"type": "date"})
SEARCHES_KEY = "audit_searches"
SEARCHES_KEPT = 10


class AuditSearchForm(forms.Form):
    """What the clinic admin searches by: patient and user names or emails, and dates. Posted,
    never put in an address (names and emails would stay in access logs)."""

    patient = forms.CharField(label="Patient (name or email)", max_length=100, required=False)
    user = forms.CharField(label="Staff member or user (email)", max_length=100, required=False)
    since = DayField(label="From", required=False, widget=DATE)
    until = DayField(label="To", required=False, widget=DATE)


class AuditPageQuery(AuditSearchForm):
    """?search=<id>&page=N: a search kept in the session, by an opaque id, and a page of it.

    The search fields are still read from a GET for old bookmarks (and tests/test_security.py,
    owned by the sign-in work); the page itself only ever links with the opaque id."""

    search = forms.RegexField(r"^[0-9a-f]{32}$", required=False)
    page = PageField()


def _people(text: str) -> Q:
    query = Q()
    for word in text.split()[:4]:
        query &= (
            Q(email__icontains=word) | Q(first_name__icontains=word) | Q(last_name__icontains=word)
        )
    return query


def _keep(request: HttpRequest, typed: dict[str, str]) -> str:
    """Keep a search's typed values in the session under a new opaque id (the last few only)."""
    kept: dict[str, dict[str, str]] = request.session.get(SEARCHES_KEY, {})
    search_id = secrets.token_hex(16)
    kept[search_id] = typed
    request.session[SEARCHES_KEY] = dict(list(kept.items())[-SEARCHES_KEPT:])
    return search_id


def _typed(form: AuditSearchForm) -> dict[str, str]:
    return {name: str(form.data.get(name, ""))[:100] for name in AuditSearchForm.base_fields}


def _events(data: dict[str, Any], zone: zoneinfo.ZoneInfo) -> Any:
    """Events matching the search; "from" and "to" are whole days where the reader is."""
    events = AuditEvent.objects.all()
    if data.get("patient"):
        events = events.filter(
            patient_id__in=User.objects.filter(_people(data["patient"])).values("pk")
        )
    if data.get("user"):
        events = events.filter(actor_id__in=User.objects.filter(_people(data["user"])).values("pk"))
    if data.get("since"):
        events = events.filter(at__gte=dt.datetime.combine(data["since"], dt.time(), zone))
    if data.get("until"):
        end = dt.datetime.combine(data["until"] + dt.timedelta(days=1), dt.time(), zone)
        events = events.filter(at__lt=end)
    return events


@query_form(AuditPageQuery)
@role_required(Role.CLINIC_ADMIN)
def search(request: AuthenticatedRequest) -> HttpResponse:
    """The audit log, newest first; a POSTed search is shown at once and paged by an opaque id."""
    number, search_id = 1, ""
    if request.method == "POST":
        form = AuditSearchForm(request.POST)
    else:
        query = read_query(request, AuditPageQuery)
        number = query["page"] or 1
        kept = request.session.get(SEARCHES_KEY, {}).get(query["search"] or "")
        if kept:
            form, search_id = AuditSearchForm(kept), query["search"]
        else:
            fields = AuditSearchForm.base_fields
            form = AuditSearchForm({k: v for k, v in request.GET.items() if k in fields} or None)
    criteria = form.cleaned_data if form.is_bound and form.is_valid() else {}
    if any(criteria.values()) and not search_id:
        search_id = _keep(request, _typed(form))
    zone = request.user.time_zone()
    page = Paginator(_events(criteria, zone).order_by("-at", "-id"), 100).get_page(number)
    ids = {e.actor_id for e in page} | {e.patient_id for e in page}
    people = User.objects.in_bulk([i for i in ids if i])
    rows = [(e, people.get(e.actor_id), people.get(e.patient_id)) for e in page]
    return render(
        request,
        "audit/search.html",
        {"form": form, "page": page, "rows": rows, "search_id": search_id, "zone": zone},
    )
