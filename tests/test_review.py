from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from intake.models import Intake, UrgentFlag
from review import services
from review.models import Decision, ProtocolTemplate, TreatmentPlan
from tests.factories import LocationFactory, UserFactory
from tests.intake_data import submitted_intake

# Staff activity is written to the session at most every STAFF_SEEN_RESOLUTION seconds; on a
# slow machine that write could fall inside one count and not the other.
STEADY = override_settings(STAFF_SEEN_RESOLUTION=10**9)

pytestmark = pytest.mark.django_db


@pytest.fixture
def stamford():
    return LocationFactory.create(slug="stamford", name="Stamford")


@pytest.fixture
def irvine():
    return LocationFactory.create(slug="irvine", name="Irvine", time_zone="America/Los_Angeles")


@pytest.fixture
def clinician(stamford, irvine):
    user = UserFactory.create(role=Role.CLINICIAN, email="doc@example.org")
    user.locations.set([stamford, irvine])
    return user


def _prefixed(prefix: str, data: dict) -> dict:
    return {f"{prefix}-{key}": value for key, value in data.items()}


def _patient(n: int):
    return UserFactory.create(role=Role.PATIENT, email=f"patient{n}@example.org")


def _queue_rows(html: str) -> list[str]:
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    return [row for row in body.split("<tr")[1:]]


def test_the_queue_puts_urgent_first_then_oldest_first(clinician, login, stamford):
    with time_machine.travel(dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)):
        oldest = submitted_intake(_patient(1))
    with time_machine.travel(dt.datetime(2026, 11, 3, 9, tzinfo=dt.UTC)):
        newer = submitted_intake(_patient(2))
    with time_machine.travel(dt.datetime(2026, 11, 4, 9, tzinfo=dt.UTC)):
        urgent = submitted_intake(_patient(3), changes={"mood": {"phq9_9": "2"}})

    html = login(clinician).get(reverse("review:queue")).content.decode()

    rows = _queue_rows(html)
    order = [
        next(i for i, row in enumerate(rows) if str(intake.public_id) in row)
        for intake in (urgent, oldest, newer)
    ]
    assert order == [0, 1, 2]
    assert "Urgent safety flags waiting for acknowledgement (1)" in html


def test_the_queue_filters_by_location_and_status(clinician, login, stamford, irvine):
    here = submitted_intake(_patient(1), location_slug="stamford")
    there = submitted_intake(_patient(2), location_slug="irvine")
    services.decline(there, clinician, patient_message="Not the right fit now.")
    client = login(clinician)

    at_stamford = client.get(reverse("review:queue"), {"location": stamford.pk}).content.decode()
    declined = client.get(reverse("review:queue"), {"status": "declined"}).content.decode()

    assert str(here.public_id) in at_stamford and str(there.public_id) not in at_stamford
    assert str(there.public_id) in declined and str(here.public_id) not in declined


def test_the_front_desk_sees_status_and_contacts_but_no_clinical_content(login, stamford):
    intake = submitted_intake(_patient(1), changes={"mood": {"phq9_9": "1"}})
    desk = login(UserFactory.create(role=Role.FRONT_DESK))

    html = desk.get(reverse("review:queue")).content.decode()

    assert "+12035550199" in html
    assert "Submitted, waiting for review" in html
    for clinical in ("PHQ-9", "GAD-7", "ACR", "Urgent", str(intake.public_id)):
        assert clinical not in html
    assert desk.get(reverse("review:summary", args=[intake.public_id])).status_code == 403


def test_a_deactivated_location_is_neither_offered_nor_a_filter(clinician, login, stamford, irvine):
    here = submitted_intake(_patient(1), location_slug="stamford")
    there = submitted_intake(_patient(2), location_slug="irvine")
    irvine.is_active = False
    irvine.save(update_fields=["is_active"])

    html = login(clinician).get(reverse("review:queue"), {"location": irvine.pk}).content.decode()

    assert str(here.public_id) in html and str(there.public_id) in html  # all locations
    assert '<option value="" selected>All locations</option>' in html
    assert f'<option value="{stamford.pk}">Stamford</option>' in html
    assert f'value="{irvine.pk}"' not in html


def test_each_queue_page_shows_its_rows_in_the_queues_order(clinician, login, stamford):
    """30 intakes over two pages: urgent first then oldest for clinicians, oldest for the desk;
    the page's ids and their rows are read in one query, so each page is checked row by row."""
    intakes = [submitted_intake(_patient(n)) for n in range(30)]
    start = dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)
    for n, intake in enumerate(intakes):
        # Submitted out of creation order, two at the same instant, every seventh urgent.
        Intake.objects.filter(pk=intake.pk).update(
            submitted_at=start + dt.timedelta(hours=(n * 11) % 29), urgent=n % 7 == 3
        )
    waiting = Intake.objects.filter(status="submitted")
    by_urgency = list(waiting.order_by("-urgent", "submitted_at", "pk"))
    by_age = list(waiting.order_by("submitted_at", "pk"))
    doctor = login(clinician)
    desk = login(UserFactory.create(role=Role.FRONT_DESK))

    for number, rows in ((1, slice(0, 25)), (2, slice(25, 30))):
        shown = _queue_rows(doctor.get(reverse("review:queue"), {"page": number}).content.decode())
        assert len(shown) == len(by_urgency[rows])
        for row, intake in zip(shown, by_urgency[rows], strict=True):
            assert str(intake.public_id) in row
            assert ("table-danger" in row) == intake.urgent
        shown = _queue_rows(desk.get(reverse("review:queue"), {"page": number}).content.decode())
        assert [re.findall(r"patient\d+@example\.org", row) for row in shown] == [
            [intake.patient.email] for intake in by_age[rows]
        ]


@pytest.mark.parametrize("role", [Role.PATIENT, Role.NURSE, Role.CLINIC_ADMIN])
def test_other_roles_cannot_open_the_queue(login, role):
    assert login(UserFactory.create(role=role)).get(reverse("review:queue")).status_code == 403


def test_the_summary_shows_scores_bands_flags_and_a_dose_preview(clinician, login, stamford):
    intake = submitted_intake(
        _patient(1),
        changes={"safety": {"recent_systolic": "165", "recent_diastolic": "95"}},
    )

    html = login(clinician).get(reverse("review:summary", args=[intake.public_id])).content.decode()

    assert "Avery Testperson" in html
    assert "8 / 27" in html and "Mild" in html
    assert "14 / 21" in html and "Moderate" in html
    assert "ACR 2016 fibromyalgia criteria: <span" in html
    assert "Poorly controlled blood pressure" in html and "165/95" in html
    assert "Cohen et al. 2018" in html
    assert "Duloxetine 60 mg, daily" in html
    assert "Penicillin (Rash)" in html
    assert "74.8 kg × 0.50 mg/kg = 37.4 mg" in html


def test_approving_with_the_default_plan_records_who_when_and_what(clinician, login, stamford):
    intake = submitted_intake(_patient(1))
    template = ProtocolTemplate.objects.get(is_default=True)
    data = {field: getattr(template, field) or "" for field in services.PLAN_FIELDS}
    data.update(template=template.pk, infusions=10, patient_message="Welcome aboard.")

    response = login(clinician).post(
        reverse("review:approve", args=[intake.public_id]), _prefixed("plan", data)
    )

    assert response.status_code == 302
    plan = TreatmentPlan.objects.get(patient=intake.patient)
    assert (plan.infusions, plan.dose_mg_per_kg, plan.infusion_minutes) == (10, Decimal("0.50"), 40)
    assert plan.approved_by == clinician and plan.template == template
    decision = Decision.objects.get(intake=intake)
    assert (decision.kind, decision.decided_by, decision.plan) == ("approve", clinician, plan)
    intake.refresh_from_db()
    assert intake.status == Intake.Status.APPROVED


def test_an_inconsistent_plan_is_refused_with_a_message_and_nothing_saved(
    clinician, login, stamford
):
    intake = submitted_intake(_patient(1))
    template = ProtocolTemplate.objects.get(is_default=True)
    data = {field: getattr(template, field) or "" for field in services.PLAN_FIELDS}
    data.update(min_days_between=5, max_days_between=3)

    response = login(clinician).post(
        reverse("review:approve", args=[intake.public_id]), _prefixed("plan", data)
    )

    assert response.status_code == 200
    assert "The maximum must be at least the minimum." in response.content.decode()
    assert not TreatmentPlan.objects.exists()
    intake.refresh_from_db()
    assert intake.status == Intake.Status.SUBMITTED


def test_declining_needs_a_reason_the_patient_then_sees(clinician, login, stamford):
    patient = _patient(1)
    intake = submitted_intake(patient)
    client = login(clinician)

    refused = client.post(reverse("review:decline", args=[intake.public_id]), {})
    assert "Please fill this in." in refused.content.decode()
    client.post(
        reverse("review:decline", args=[intake.public_id]),
        {"decline-patient_message": "This treatment is not the right fit for you now."},
    )

    intake.refresh_from_db()
    assert intake.status == Intake.Status.DECLINED
    home = login(patient).get(reverse("scheduling:patient_home")).content.decode()
    assert "This treatment is not the right fit for you now." in home


def test_asking_for_more_information_reopens_the_named_sections(clinician, login, stamford):
    patient = _patient(1)
    intake = submitted_intake(patient)

    login(clinician).post(
        reverse("review:more_info", args=[intake.public_id]),
        {
            "more-steps": ["measurements", "safety"],
            "more-patient_message": "Please weigh yourself again.",
        },
    )

    intake.refresh_from_db()
    assert intake.status == Intake.Status.MORE_INFO
    assert intake.reopened_steps == ["measurements", "safety"]
    patient_client = login(patient)
    home = patient_client.get(reverse("scheduling:patient_home")).content.decode()
    assert "Please weigh yourself again." in home
    assert "Health and safety, Height and weight" in home or "Height and weight" in home
    response = patient_client.post(reverse("intake:start"))
    second = Intake.objects.get(patient=patient, version=2)
    assert response["Location"] == reverse("intake:step", args=[second.public_id, "safety"])


def test_a_second_decision_on_the_same_intake_changes_nothing(clinician, login, stamford):
    intake = submitted_intake(_patient(1))
    services.decline(intake, clinician, patient_message="No.")

    response = login(clinician).post(
        reverse("review:more_info", args=[intake.public_id]),
        {"more-steps": ["pain"], "more-patient_message": "More please."},
        follow=True,
    )

    assert "already decided" in response.content.decode()
    assert Decision.objects.filter(intake=intake).count() == 1


def test_an_urgent_flag_blocks_booking_until_acknowledged_with_a_note(clinician, login, stamford):
    intake = submitted_intake(_patient(1), changes={"mood": {"phq9_9": "1"}})
    flag = UrgentFlag.objects.get(intake=intake)
    template = ProtocolTemplate.objects.get(is_default=True)
    services.approve(
        intake, clinician, {field: getattr(template, field) for field in services.PLAN_FIELDS}
    )

    with pytest.raises(services.NotBookable, match="urgent safety flag"):
        services.assert_bookable(intake.patient)

    client = login(clinician)
    refused = client.post(reverse("review:acknowledge", args=[intake.public_id]), {"ack-note": " "})
    assert refused.status_code == 200
    flag.refresh_from_db()
    assert flag.acknowledged_at is None

    client.post(
        reverse("review:acknowledge", args=[intake.public_id]), {"ack-note": "Called; safe."}
    )
    flag.refresh_from_db()
    assert (flag.acknowledged_by, flag.note) == (clinician, "Called; safe.")
    assert services.assert_bookable(intake.patient).intake == intake


def test_a_patient_without_an_approved_plan_is_not_bookable(stamford):
    intake = submitted_intake(_patient(1))

    with pytest.raises(services.NotBookable, match="no approved treatment plan"):
        services.assert_bookable(intake.patient)


def _queries(client, url: str) -> int:
    with STEADY, CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.FRONT_DESK])
def test_the_queue_uses_the_same_number_of_queries_for_1_and_50_intakes(role, login, stamford):
    user = UserFactory.create(role=role)
    user.locations.set([stamford])
    client = login(user)
    submitted_intake(_patient(0), changes={"mood": {"phq9_9": "1"}})
    one = _queries(client, reverse("review:queue"))

    for n in range(1, 50):
        submitted_intake(_patient(n), changes={"mood": {"phq9_9": "1"}} if n % 10 == 0 else None)
    fifty = _queries(client, reverse("review:queue"))

    assert one == fifty


def test_the_summary_uses_the_same_number_of_queries_for_1_and_50_intakes(
    clinician, login, stamford
):
    client = login(clinician)
    first = submitted_intake(_patient(0), changes={"mood": {"phq9_9": "1"}})
    one = _queries(client, reverse("review:summary", args=[first.public_id]))

    for n in range(1, 50):
        submitted_intake(_patient(n))
    fifty = _queries(client, reverse("review:summary", args=[first.public_id]))

    assert one == fifty


def test_the_summary_of_a_waiting_intake_reads_each_thing_once(clinician, login, stamford):
    """12 queries: the session's user and device, the intake with its patient, profile and
    location, the audit row, the answers, the active locations (the about step's choices), the
    default protocol, the urgent flag, the decisions, the attachments, the protocol choices and
    the worklist's count. Each is read once, not once per form or helper that needs it."""
    client = login(clinician)
    intake = submitted_intake(_patient(0))

    assert _queries(client, reverse("review:summary", args=[intake.public_id])) <= 12


def test_the_decision_forms_tie_labels_help_and_refusals_to_their_fields(
    clinician, login, stamford
):
    client = login(clinician)
    intake = submitted_intake(_patient(0))
    url = reverse("review:summary", args=[intake.public_id])

    page = client.get(url).content.decode()
    refused = client.post(
        reverse("review:decline", args=[intake.public_id]), {"decline-internal_note": "x"}
    ).content.decode()

    assert re.search(r'<label\s+for="id_plan-infusions" class="form-label requiredField">', page)
    assert re.search(r'<input type="number" name="plan-infusions" value="\d+"', page)
    assert re.search(r'<legend\s+class="form-label requiredField fs-6">\s*Sections to reopen', page)
    assert 'id="id_more-steps_0"' in page and '<label for="id_more-steps_0"' in page
    assert 'aria-describedby="id_decline-patient_message_helptext"' in page
    assert 'name="ack-note"' not in page  # no urgent flag: no acknowledgement form
    textarea = re.search(r'<textarea name="decline-patient_message"[^>]*>', refused)
    assert textarea is not None
    assert 'aria-invalid="true"' in textarea[0] and "is-invalid" in textarea[0]
    described_by = re.search(r'aria-describedby="([^"]*)"', textarea[0])
    assert described_by is not None
    assert set(described_by[1].split()) == {
        "id_decline-patient_message_error",
        "id_decline-patient_message_helptext",
    }
    error = re.search(r'<div id="id_decline-patient_message_error"[^>]*>(.*?)</div>', refused)
    assert error is not None and "Please fill this in." in error[1]
    assert "x</textarea>" in refused  # what was typed comes back


@pytest.mark.parametrize("kind", ["approve", "decline", "more_info"])
def test_every_decision_ends_the_wait_and_the_summary_lists_it(clinician, login, stamford, kind):
    # The summary reads a version's decisions only once it no longer waits: each decision must
    # move it out of "submitted" in the transaction that records it.
    intake = submitted_intake(_patient(1))
    template = ProtocolTemplate.objects.get(is_default=True)
    if kind == "approve":
        plan = {field: getattr(template, field) for field in services.PLAN_FIELDS}
        services.approve(intake, clinician, plan, patient_message="Welcome.")
    elif kind == "decline":
        services.decline(intake, clinician, patient_message="Not the right fit now.")
    else:
        services.request_more_information(
            intake, clinician, steps=["pain"], patient_message="Please check your pain scores."
        )

    intake.refresh_from_db()
    assert intake.status != Intake.Status.SUBMITTED
    assert Decision.objects.filter(intake=intake).count() == 1
    html = login(clinician).get(reverse("review:summary", args=[intake.public_id])).content
    decisions = html.decode().split('id="decisions-h"')[1].split("</section>")[0]
    assert str(Decision.objects.get(intake=intake).get_kind_display()) in decisions


def test_the_summary_reads_what_it_shows_with_the_version_whatever_the_version_holds(
    clinician, login, stamford
):
    # The version comes with its patient, profile, location, flag and card in one query that
    # loads only the columns the summary shows: a field it shows but did not load would cost a
    # query of its own, here or only on some versions.
    from django.core.files.base import ContentFile

    from intake.models import IntakeAttachment

    client = login(clinician)
    plain = submitted_intake(_patient(1))
    flagged = submitted_intake(_patient(2), changes={"mood": {"phq9_9": "1"}})
    IntakeAttachment.objects.create(
        intake=flagged,
        kind=IntakeAttachment.Kind.INSURANCE_CARD,
        content_type="image/png",
        size=4,
        file=ContentFile(b"card", name="card.png"),
    )
    summary = "review:summary"
    waiting = _queries(client, reverse(summary, args=[plain.public_id]))
    html = client.get(reverse(summary, args=[plain.public_id])).content.decode()
    assert "Urgent safety flag" not in html and "Download the insurance card" not in html
    with STEADY, CaptureQueriesContext(connection) as captured:
        html = client.get(reverse(summary, args=[flagged.public_id])).content.decode()
    assert "Urgent safety flag" in html and "Download the insurance card" in html
    assert len(captured) == waiting
    alone = [
        query["sql"]
        for query in captured
        if re.search(
            r'FROM "(locations_location|accounts_patientprofile|intake_urgentflag)"', query["sql"]
        )
    ]
    assert alone == []  # each comes joined to the version
    users = [query for query in captured if 'FROM "accounts_user"' in query["sql"]]
    assert len(users) == 1  # the signed-in clinician; the patient comes with the version

    # Decided, the version's decisions are read too (a waiting one has none): one query more.
    template = ProtocolTemplate.objects.get(is_default=True)
    services.approve(plain, clinician, {f: getattr(template, f) for f in services.PLAN_FIELDS})
    assert _queries(client, reverse(summary, args=[plain.public_id])) == waiting + 1
