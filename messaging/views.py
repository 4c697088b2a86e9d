"""The pages of messaging: the location's reminder settings."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from accounts.access import role_required
from accounts.models import Role
from accounts.requests import AuthenticatedRequest
from locations.models import Location
from messaging import reminders
from scheduling.forms import ReminderRuleForm
from scheduling.models import ReminderKind, ReminderRule


@role_required(Role.CLINIC_ADMIN)
def reminder_rules(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    """Settings → Reminder rules: each kind of message at a location, on or off, when, its
    texts, with a preview for a fictional patient. "Preview" shows unsaved changes; "Save"
    keeps them."""
    location = get_object_or_404(Location, slug=slug, is_active=True)
    saved = {rule.kind: rule for rule in ReminderRule.objects.filter(location=location)}
    rules = reminders.rules_for(location.pk)
    posted = request.POST.get("kind") if request.method == "POST" else None
    if posted is not None and posted not in ReminderKind.values:
        messages.error(request, "That kind of message does not exist; nothing was changed.")
        return redirect("messaging:reminder_rules", slug=location.slug)
    kinds = []
    for kind, label in ReminderKind.choices:
        instance = saved.get(kind) or ReminderRule(location=location, kind=kind)
        form = ReminderRuleForm(
            request.POST if kind == posted else None, instance=instance, prefix=kind
        )
        rule = rules[kind]
        if kind == posted and form.is_valid():
            if request.POST.get("action") == "save":
                form.save()
                messages.success(request, f"Saved: {label}.")
                return redirect("messaging:reminder_rules", slug=location.slug)
            data = form.cleaned_data
            rule = reminders.Rule(
                kind=kind,
                enabled=data["enabled"],
                hours=data["hours"] or rule.hours,
                local_time=data["local_time"] or rule.local_time,
                email_subject=data["email_subject"],
                email_text=data["email_text"],
                email_html=data["email_html"],
                sms_text=data["sms_text"],
            )
        kinds.append(
            {
                "kind": kind,
                "label": label,
                "form": form,
                "rule": rule,
                "open": kind == posted,
                "preview": reminders.preview(location, rule),
            }
        )
    return render(request, "messaging/reminder_rules.html", {"location": location, "kinds": kinds})
