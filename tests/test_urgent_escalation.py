"""The urgent path end to end with a real Celery worker on real Redis and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from intake.models import UrgentFlag
from intake.tasks import sweep_urgent_flags
from review import services
from review.models import ProtocolTemplate
from tests.factories import LocationFactory, UserFactory
from tests.intake_data import fill_intake

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def team():
    stamford = LocationFactory.create(slug="stamford", name="Stamford")
    irvine = LocationFactory.create(slug="irvine", name="Irvine", time_zone="America/Los_Angeles")
    here = UserFactory.create(role=Role.CLINICIAN, email="stamford.doc@example.org")
    here.locations.set([stamford])
    elsewhere = UserFactory.create(role=Role.CLINICIAN, email="irvine.doc@example.org")
    elsewhere.locations.set([irvine])
    return here, elsewhere


def test_an_urgent_intake_notifies_the_locations_clinicians_and_blocks_booking(
    celery_worker, team, login
):
    here, _elsewhere = team
    patient = UserFactory.create(role=Role.PATIENT, email="urgent.patient@example.org")
    draft = fill_intake(patient, changes={"mood": {"phq9_9": "2"}})
    patient_client = login(patient)

    started = time.monotonic()
    response = patient_client.post(reverse("intake:submit", args=[draft.public_id]))
    assert response.status_code == 302

    mails = celery_worker.wait_for_mail(1, timeout=60)
    elapsed = time.monotonic() - started
    assert elapsed < 60
    assert "To: stamford.doc@example.org" in mails[0]
    assert "irvine.doc@example.org" not in "".join(mails)
    # The message names no patient: only the location and a link with an opaque id.
    assert "Avery" not in mails[0] and "Testperson" not in mails[0]
    assert str(draft.public_id) in mails[0]
    flag = UrgentFlag.objects.get(intake=draft)
    assert flag.notified_at is not None

    # The in-app notice on the clinician's home page.
    queue = login(here).get(reverse("review:queue")).content.decode()
    assert "Urgent safety flags waiting for acknowledgement (1)" in queue

    template = ProtocolTemplate.objects.get(is_default=True)
    draft.refresh_from_db()
    services.approve(draft, here, {f: getattr(template, f) for f in services.PLAN_FIELDS})
    with pytest.raises(services.NotBookable):
        services.assert_bookable(patient)

    services.acknowledge(flag, here, "Spoke with the patient; safety plan in place.")
    assert services.assert_bookable(patient).patient == patient

    # A duplicate task finds the notification done and sends nothing more.
    from intake.tasks import notify_urgent_flag

    notify_urgent_flag.delay(flag.pk)
    # The worker takes tasks in order: once a later flag's notice has arrived, the duplicate
    # has run too.
    other = fill_intake(UserFactory.create(role=Role.PATIENT))
    other.refresh_from_db()
    later = UrgentFlag.objects.create(intake=other, patient=other.patient, location=other.location)
    notify_urgent_flag.delay(later.pk)
    mails = celery_worker.wait_for_mail(2)
    assert len(mails) == 2
    assert [str(draft.public_id) in mail for mail in mails].count(True) == 1
    assert [str(other.public_id) in mail for mail in mails].count(True) == 1


def test_the_sweep_resends_a_notification_whose_message_was_lost(celery_worker, team):
    patient = UserFactory.create(role=Role.PATIENT)
    intake = fill_intake(patient)
    intake.refresh_from_db()  # the services saved its location on their own copy
    # A flag whose task never reached the broker (Redis was down at submit time).
    flag = UrgentFlag.objects.create(intake=intake, patient=patient, location=intake.location)
    UrgentFlag.objects.filter(pk=flag.pk).update(raised_at=timezone.now() - dt.timedelta(minutes=2))

    sweep_urgent_flags.delay()

    mails = celery_worker.wait_for_mail(1, timeout=60)
    assert len(mails) == 1
    assert "stamford.doc@example.org" in mails[0]
    flag.refresh_from_db()
    assert flag.notified_at is not None
