"""Who may open the pages of each audience: one decorator per audience."""

from __future__ import annotations

from accounts.access import role_required
from accounts.models import Role

desk_only = role_required(Role.FRONT_DESK, Role.CLINIC_ADMIN)
clinicians_only = role_required(Role.CLINICIAN)
patient_only = role_required(Role.PATIENT)
