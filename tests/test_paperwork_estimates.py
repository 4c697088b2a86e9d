"""Good Faith Estimates (docs/paperwork.md): issued when a self-pay series is booked, with
every element 45 CFR 149.610 asks for in its PDF; reissued on a change of scope with the old one
kept; in the patient's language; refused any change or deletion by PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from typing import Any

import pypdf
import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils.formats import date_format

from accounts.models import PatientProfile, Role
from billing.money import Money
from notifications.models import Message
from paperwork import documents, emails, estimates
from paperwork.identifiers import is_valid_npi
from paperwork.models import ClinicIdentity, Estimate, EstimateDue, PlanDiagnosis
from scheduling import services
from tests.factories import UserFactory
from tests.paperwork_data import CLINIC_NPI, EACH, set_up_billing
from tests.scheduling_data import approved_plan, make_location

pytestmark = pytest.mark.django_db


def _first_day() -> dt.date:
    first = dt.date.today() + dt.timedelta(days=15)
    while first.weekday() != 0:  # a Monday: +2 and +4 days are weekdays
        first += dt.timedelta(days=1)
    return first


def _book(*, language: str = "en", billing: bool = True):
    today = dt.date.today()
    location = make_location(shifts_from=today, shift_days=40)
    plan = approved_plan(
        "gfe@example.org", location, infusions=2, min_days_between=2, indication="Fibromyalgia"
    )
    patient = plan.patient
    patient.first_name, patient.last_name = "Dana", "Quill"
    patient.save()
    PatientProfile.objects.filter(user=patient).update(
        preferred_language=language, date_of_birth=dt.date(1980, 4, 17)
    )
    if billing:
        set_up_billing(location, plan.approved_by)
    first = _first_day()
    series = services.book_series(
        plan,
        location,
        [
            services.Choice(first, dt.time(10)),
            services.Choice(first + dt.timedelta(days=2), dt.time(10)),
        ],
        booked_by=UserFactory.create(role=Role.FRONT_DESK),
    )
    return plan, series, first


def _text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def test_an_npi_is_checked_with_the_luhn_digit_over_the_80840_prefix():
    assert is_valid_npi(CLINIC_NPI)
    assert not is_valid_npi("1234567890")  # wrong check digit
    assert not is_valid_npi("3234567893")  # an NPI starts with 1 or 2
    assert not is_valid_npi("123456789")


def test_booking_a_self_pay_series_issues_its_estimate_from_the_price_list():
    _plan, series, first = _book()

    estimate = Estimate.objects.get(series=series)
    assert estimate.total == Money(EACH * 2)
    assert estimate.content["items"][0]["count"] == 2
    assert [line["code"] for line in estimate.content["items"][0]["lines"]] == [
        "96365",
        "96366",
        "J3490",
    ]
    assert estimate.content["primary"]["date"] == first.isoformat()
    assert estimate.content["diagnoses"][0]["code"] == "M79.7"
    assert EstimateDue.objects.get(series=series).estimate == estimate
    assert Message.objects.filter(kind="good_faith_estimate", group=f"estimate:{estimate.pk}")


def test_the_pdf_holds_every_element_the_rule_asks_for_and_is_stored_with_its_hash():
    plan, series, first = _book()
    estimate = Estimate.objects.get(series=series)

    pdf = documents.estimate_pdf(estimate)

    estimate.refresh_from_db()
    assert estimate.pdf_sha256 == hashlib.sha256(pdf).hexdigest()
    with default_storage.open(estimate.pdf_name, "rb") as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == estimate.pdf_sha256
    text = _text(pdf)
    clinician = plan.approved_by
    for element in [
        "Dana Quill",  # the patient's name
        date_format(first),  # the primary service's date
        date_format(dt.date(1980, 4, 17)),  # date of birth
        "Infusion",  # the primary service
        "96365",  # service codes
        "J3490",
        "M79.7",  # diagnosis codes
        "$450.00",  # expected charges, line by line
        "$1,050.00",  # and in total
        "Clearwater Infusion Clinics LLC",  # the billing provider
        CLINIC_NPI,
        "12-3456789",  # TIN
        clinician.get_full_name(),  # each provider's name
        clinician.provider_identity.npi,
        "Stamford",  # location
        "not a bill",  # the disclaimers, in our words
        "do not have to accept",
        "may be different",
        "$400.00",  # the right to dispute
        "dispute resolution",
        "120 calendar days",
        "Keep a copy",
        "from",  # the time frame, frequency and number of a recurring service
        "one every 2 to 7 days",
        "2 services",
    ]:
        assert element in text, element
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    root: Any = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/Lang"] == "en"  # tagged for screen readers
    resources: list[Any] = [page["/Resources"] for page in reader.pages]
    fonts = {str(font["/BaseFont"]) for found in resources for font in found["/Font"].values()}
    assert all("DejaVu-Sans" in name for name in fonts), fonts


def test_a_change_of_scope_issues_a_new_estimate_and_keeps_the_old_one():
    _plan, series, first = _book()
    old = Estimate.objects.get(series=series)
    old_content = dict(old.content)
    second = series.sessions.get(number=2)

    services.move_sessions(second, services.Choice(first + dt.timedelta(days=4), dt.time(10)))

    new = Estimate.objects.current().get(series=series)
    old.refresh_from_db()
    assert new.pk != old.pk and new.supersedes == old
    assert old.superseded_at is not None and old.content == old_content
    assert new.content["items"][0]["last"] == (first + dt.timedelta(days=4)).isoformat()
    assert new.reason == "changed"
    assert Estimate.objects.filter(series=series).count() == 2


def test_a_change_that_leaves_the_scope_alone_issues_nothing():
    _plan, series, _first = _book()
    estimates.on_series_changed(series)
    assert Estimate.objects.filter(series=series).count() == 1


def test_a_spanish_reader_gets_the_estimate_in_spanish():
    _plan, series, _first = _book(language="es")
    estimate = Estimate.objects.get(series=series)
    assert estimate.language == "es"

    text = _text(documents.estimate_pdf(estimate))

    assert "Estimación de buena fe" in text
    assert "no es una factura" in text
    assert "Fibromialgia" in text  # the shipped code's description, in the reader's language
    assert "M79.7" in text and "$1,050.00" in text
    root: Any = pypdf.PdfReader(io.BytesIO(documents.estimate_pdf(estimate))).trailer["/Root"]
    assert root["/Lang"] == "es"


def test_without_prices_the_estimate_stays_owed_with_the_reason():
    _plan, series, _first = _book(billing=False)
    assert not Estimate.objects.filter(series=series).exists()
    due = EstimateDue.objects.get(series=series)
    assert due.estimate is None and "identity" in due.problem
    # the due date: the service is more than 10 business days away: 3 business days
    assert due.due_on > dt.date.today()


def test_the_database_refuses_to_change_or_delete_an_issued_estimate():
    _plan, series, _first = _book()
    estimate = Estimate.objects.get(series=series)
    for statement in [
        "UPDATE paperwork_estimate SET total_amount = 1 WHERE id = %s",
        "UPDATE paperwork_estimate SET content = '{}'::jsonb WHERE id = %s",
        "DELETE FROM paperwork_estimate WHERE id = %s",
    ]:
        with (
            pytest.raises(DatabaseError, match="Good Faith Estimate"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [estimate.pk])
    # The one-way marks are set once.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE paperwork_estimate SET acknowledged_at = now() WHERE id = %s", [estimate.pk]
        )
    with (
        pytest.raises(DatabaseError, match="set once"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE paperwork_estimate SET acknowledged_at = NULL WHERE id = %s", [estimate.pk]
        )
    assert Estimate.objects.get(pk=estimate.pk).total_amount == EACH * 2


def test_a_bill_reaching_the_estimate_plus_400_dollars_is_flagged():
    plan, series, _first = _book()
    total = EACH * 2
    assert not estimates.over_estimate(series, Money(total + 399_99))
    assert estimates.over_estimate(series, Money(total + 400_00))
    assert estimates.over_estimate(plan.patient, Money(total + 500_00))
    assert not estimates.over_estimate(plan.patient, Money(total))


def test_diagnosis_codes_are_suggested_from_the_indications():
    plan, _series, _first = _book()
    codes = list(PlanDiagnosis.objects.filter(plan=plan).values_list("code", flat=True))
    # The plan says fibromyalgia; the sample intake adds depression.
    assert codes[0] == "M79.7" and "F32.9" in codes
    assert all(re.match(r"^[A-Z]\d", code) for code in codes)


def test_the_estimates_email_is_written_in_the_patients_language():
    _plan, series, _first = _book(language="es")
    estimate = Estimate.objects.get(series=series)
    message = Message.objects.get(kind="good_faith_estimate", group=f"estimate:{estimate.pk}")

    email = emails.resolve(message)

    assert email.subject.startswith("Su estimación de buena fe")
    assert f"/paperwork/estimates/{estimate.public_id}/" in email.body_text
    assert "$" not in email.subject and "M79.7" not in email.body_text  # nothing clinical


def test_a_stored_pdf_that_no_longer_matches_its_hash_is_refused(login):
    _plan, series, _first = _book()
    estimate = Estimate.objects.get(series=series)
    documents.estimate_pdf(estimate)
    estimate.refresh_from_db()
    default_storage.delete(estimate.pdf_name)
    default_storage.save(estimate.pdf_name, ContentFile(b"%PDF-1.7 not the estimate"))

    with pytest.raises(documents.Tampered):
        documents.estimate_pdf(estimate)
    response = login(estimate.patient).get(f"/paperwork/estimates/{estimate.public_id}/pdf/")
    assert response.status_code == 302 and response["Location"].endswith(
        f"/paperwork/estimates/{estimate.public_id}/"
    )


def test_cancelling_the_whole_series_withdraws_what_is_still_owed():
    _plan, series, _first = _book(billing=False)
    due = EstimateDue.objects.get(series=series)

    services.cancel_sessions(series.sessions.get(number=1), and_following=True, reason="Moved away")

    due.refresh_from_db()
    assert due.withdrawn_at is not None and due.estimate is None
    assert not EstimateDue.objects.open().filter(series=series).exists()


def test_the_clinic_identity_refuses_an_npi_with_a_wrong_check_digit():
    identity = ClinicIdentity(
        legal_name="Clinic", npi="1234567890", tin="12-3456789", address="1 Example Street"
    )
    with pytest.raises(ValidationError) as refused:
        identity.full_clean()
    assert "npi" in refused.value.message_dict
    identity.npi = CLINIC_NPI
    identity.full_clean()


def test_a_clinic_that_bills_insurance_gives_estimates_to_self_pay_patients_only():
    plan, series, first = _book()  # the sample intake pays itself
    ClinicIdentity.objects.filter(pk=1).update(submits_claims=True)
    insured = approved_plan(
        "insured@example.org",
        series.location,
        infusions=2,
        min_days_between=2,
        intake_changes={"insurance": {"payment": "insurance", "payer": "Acme", "member_id": "X1"}},
    )
    assert estimates.is_self_pay(plan) and not estimates.is_self_pay(insured)

    booked = services.book_series(
        insured,
        series.location,
        [
            services.Choice(first, dt.time(13)),
            services.Choice(first + dt.timedelta(days=2), dt.time(13)),
        ],
        booked_by=UserFactory.create(role=Role.FRONT_DESK),
    )

    assert not Estimate.objects.filter(series=booked).exists()
    assert not EstimateDue.objects.filter(series=booked).exists()
