"""The paperwork's pages and superbills (docs/paperwork.md): the patient reads, downloads and
acknowledges an estimate and asks for one; superbills list completed sessions with signed
charts only, in the patient's language; the desk downloads both; the notice is public."""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo

import pypdf
import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import PatientProfile, Role
from audit.models import AuditEvent
from paperwork import superbills
from paperwork.models import Estimate, EstimateDue
from scheduling.models import Series, Session
from tests.factories import UserFactory
from tests.paperwork_data import EACH, PRICES, chart, set_up_billing
from tests.scheduling_data import approved_plan, make_location

pytestmark = pytest.mark.django_db

NY = zoneinfo.ZoneInfo("America/New_York")


def _pdf_text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def _session(series: Series, number: int, start: dt.datetime, *, signed: bool) -> Session:
    session = Session.objects.create(
        series=series,
        number=number,
        patient=series.patient,
        location=series.location,
        chair=series.location.chairs.get(position=number),
        nurse=UserFactory.create(role=Role.NURSE),
        starts_at=start,
        setup_ends_at=start + dt.timedelta(minutes=15),
        ends_at=start + dt.timedelta(minutes=100),
    )
    chart(session, signed=signed)
    return session


@pytest.fixture
def charted():
    """A patient with two completed infusions in March 2026: the first chart signed, the
    second not."""
    location = make_location("stamford", chairs=2, nurses=1, shift_days=1)
    plan = approved_plan("bill@example.org", location, infusions=2)
    set_up_billing(location, plan.approved_by)
    series = Series.objects.create(
        plan=plan, patient=plan.patient, location=location, booked_by=plan.approved_by
    )
    signed = _session(series, 1, dt.datetime(2026, 3, 2, 10, tzinfo=NY), signed=True)
    unsigned = _session(series, 2, dt.datetime(2026, 3, 4, 10, tzinfo=NY), signed=False)
    return plan, signed, unsigned


def test_an_unsigned_chart_is_never_billed(charted):
    plan, _signed, unsigned = charted
    for text in ("month:2026-03", "year:2026", f"session:{unsigned.public_id}"):
        bill = superbills.build(plan.patient, superbills.parse_period(plan.patient, text))
        assert {line.on for line in bill.lines} <= {dt.date(2026, 3, 2)}
    month = superbills.build(plan.patient, superbills.parse_period(plan.patient, "month:2026-03"))
    assert [line.code for line in month.lines] == [code for code, *_rest in PRICES]
    assert month.total.amount == EACH
    assert month.payments == [] and month.balance.amount == EACH


def test_the_patient_downloads_the_superbill_in_spanish(charted, login):
    plan, _signed, _unsigned = charted
    PatientProfile.objects.filter(user=plan.patient).update(preferred_language="es")
    client = login(plan.patient)
    response = client.get(
        reverse("paperwork:superbill"), {"period": "month:2026-03", "format": "pdf"}
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = _pdf_text(response.content)
    assert "Factura detallada" in text and "96365" in text and "M79.7" in text
    assert "$525.00" in text  # one signed infusion
    assert AuditEvent.objects.filter(record_type="superbill").exists()


def test_a_bad_period_gets_a_clear_message_not_an_error(charted, login):
    plan, _signed, _unsigned = charted
    client = login(plan.patient)
    for period in ("month:2026-13", "year:abc", "session:not-a-uuid", "", "week:1"):
        response = client.get(reverse("paperwork:superbill"), {"period": period})
        assert response.status_code == 400
        assert "Choose a session, a month or a year." in response.content.decode()


def test_the_desk_downloads_a_patients_superbill(charted, login):
    plan, _signed, _unsigned = charted
    desk = UserFactory.create(role=Role.FRONT_DESK)
    response = login(desk).get(
        reverse("paperwork:superbill_for", args=[plan.patient.public_id]),
        {"period": "year:2026"},
    )
    assert response.status_code == 200
    assert "96365" in response.content.decode()


def test_the_patient_asks_for_reads_downloads_and_acknowledges_an_estimate(login):
    location = make_location("norwalk", shift_days=1)
    plan = approved_plan("ask@example.org", location, infusions=6)
    PatientProfile.objects.filter(user=plan.patient).update(preferred_location=location)
    set_up_billing(location, plan.approved_by)
    client = login(plan.patient)

    response = client.post(reverse("paperwork:request"))

    estimate = Estimate.objects.get(patient=plan.patient)
    assert response.status_code == 302 and estimate.reason == "requested"
    assert estimate.total.amount == EACH * 6
    assert EstimateDue.objects.get(patient=plan.patient).estimate == estimate
    page = client.get(reverse("paperwork:estimate", args=[estimate.public_id])).content.decode()
    assert "Good Faith Estimate" in page and "$3,150.00" in page and "Not scheduled yet" in page
    pdf = client.get(reverse("paperwork:estimate_pdf", args=[estimate.public_id]))
    assert pdf.status_code == 200 and "$3,150.00" in _pdf_text(pdf.content)
    client.post(reverse("paperwork:acknowledge", args=[estimate.public_id]))
    estimate.refresh_from_db()
    assert estimate.acknowledged_at is not None
    assert estimate.acknowledged_at <= timezone.now()
    listing = client.get(reverse("paperwork:mine")).content.decode()
    assert estimate.reference in listing and "Received" in listing


def test_another_patient_finds_nothing(login):
    location = make_location("darien", shift_days=1)
    plan = approved_plan("mine@example.org", location, infusions=2)
    PatientProfile.objects.filter(user=plan.patient).update(preferred_location=location)
    set_up_billing(location, plan.approved_by)
    login(plan.patient).post(reverse("paperwork:request"))
    estimate = Estimate.objects.get(patient=plan.patient)
    other = approved_plan("other@example.org", location, infusions=2).patient
    client = login(other)
    assert client.get(reverse("paperwork:estimate", args=[estimate.public_id])).status_code == 404
    assert (
        client.get(reverse("paperwork:estimate_pdf", args=[estimate.public_id])).status_code == 404
    )


def test_the_notice_is_on_the_public_pages(client):
    response = client.get(reverse("accounts:login"))
    assert reverse("paperwork:notice") in response.content.decode()
    notice = client.get(reverse("paperwork:notice")).content.decode()
    assert "Good Faith Estimate" in notice and "$400" in notice


def test_the_clinician_edits_the_plans_diagnosis_codes(login):
    location = make_location("greenwich", shift_days=1)
    plan = approved_plan("dx@example.org", location, infusions=2, indication="Fibromyalgia")
    clinician = UserFactory.create(role=Role.CLINICIAN)
    client = login(clinician)
    url = reverse("paperwork:diagnoses", args=[plan.public_id])
    assert "M79.7" in client.get(url).content.decode()
    bad = client.post(url, {"codes": "fibro"})
    assert bad.status_code == 200 and "is not an ICD-10-CM code" in bad.content.decode()
    client.post(url, {"codes": "M79.7\nG89.4 Chronic pain syndrome"})
    assert list(plan.diagnoses.values_list("code", flat=True)) == ["M79.7", "G89.4"]
