"""Staff screens show times in the staff member's location's zone, labelled, never bare UTC.

A clinic admin at Stamford reads an invitation's expiry, an integration's creation and the audit
trail in Eastern time; the worklist's text of an unclear reply says when it came in the same way.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from accounts.models import Role
from audit.models import AuditEvent
from fhir import services as fhir_services
from tests.factories import LocationFactory, UserFactory

pytestmark = pytest.mark.django_db

# 15:30 UTC on a December Monday is 10:30 in Stamford (EST).
NOON_ISH = dt.datetime(2026, 12, 14, 15, 30, tzinfo=dt.UTC)


@pytest.fixture
def stamford_admin():
    stamford = LocationFactory.create(
        name="Stamford, CT", slug="stamford", time_zone="America/New_York"
    )
    admin = UserFactory.create(role=Role.CLINIC_ADMIN, email="admin.times@example.org")
    admin.locations.add(stamford)
    return admin


def test_a_staff_invitation_expires_in_the_admins_local_time(login, stamford_admin):
    with time_machine.travel(NOON_ISH, tick=False):
        client = login(stamford_admin)
        client.post(
            "/invitations/staff/new/",
            {
                "email": "new.nurse@example.org",
                "first_name": "Ana",
                "last_name": "Reyes",
                "role": Role.NURSE,
            },
        )
        page = client.get("/invitations/staff/new/").content.decode()

    assert "UTC" not in page
    assert "10:30 EST" in page


def test_an_invited_member_of_staff_has_a_last_name(login, stamford_admin):
    from accounts.models import Invitation

    client = login(stamford_admin)
    sent = client.post(
        "/invitations/staff/new/",
        {
            "email": "new.nurse@example.org",
            "first_name": "Ana",
            "last_name": "Reyes",
            "role": Role.NURSE,
        },
    )

    assert sent.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.first_name, invitation.last_name) == ("Ana", "Reyes")
    page = client.get("/invitations/staff/new/").content.decode()
    assert "Ana Reyes" in page


def test_an_integration_client_was_created_in_the_admins_local_time(login, stamford_admin):
    with time_machine.travel(NOON_ISH, tick=False):
        fhir_services.create_client("Outcomes registry", ["system/Patient.read"], stamford_admin)
    page = login(stamford_admin).get("/settings/integrations/").content.decode()

    assert "UTC" not in page
    assert "10:30 EST" in page


def test_the_audit_trail_reads_in_the_admins_local_time(login, stamford_admin):
    AuditEvent.objects.create(
        at=NOON_ISH, action=AuditEvent.Action.ACCESS_ADMIN, record_type="location", record_id="1"
    )
    client = login(stamford_admin)
    page = client.get("/audit/").content.decode()

    assert "times in UTC" not in page
    assert "10:30" in page and "EST" in page
