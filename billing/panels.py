"""The patient page's payments panel: balance, card on file, open charges (with waive and
refund), packages; the desk only (docs/payments.md#the-ledger)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q
from django.utils import timezone

from accounts.models import Role
from billing import services
from billing.models import Charge, ChargeState, Credit, Package
from scheduling.patient_panels import Panel

if TYPE_CHECKING:
    from accounts.models import User
    from accounts.requests import AuthenticatedRequest

DESK = (Role.FRONT_DESK, Role.CLINIC_ADMIN)


def context(request: AuthenticatedRequest, patient: User) -> dict[str, Any] | None:
    if request.user.role not in DESK:
        return None
    charges = list(Charge.objects.filter(patient=patient).select_related("location")[:20])
    return {
        "balance": services.balance(patient),
        "card": services.current_card(patient),
        "charges": charges,
        "waivable": (
            ChargeState.SCHEDULED,
            ChargeState.OPEN,
            ChargeState.PENDING,
            ChargeState.FAILED,
            ChargeState.REQUIRES_ACTION,
        ),
        "refundable": (ChargeState.SUCCEEDED,),
        "credits": Credit.objects.filter(patient=patient).select_related("package"),
        "packages": Package.objects.filter(
            Q(valid_until__isnull=True) | Q(valid_until__gt=timezone.now())
        ).select_related("location"),
        "entries": list(services.statement(patient).order_by("-recorded_at", "-id")[:20]),
        "is_admin": request.user.role == Role.CLINIC_ADMIN,
        "patient": patient,
    }


BALANCE = Panel(name="billing", template="billing/_panel.html", context=context, order=60)
