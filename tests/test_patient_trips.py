"""What patients tripped over in real use: each test is the patient's side of one of them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.models import PatientProfile, Role
from locations.models import Location
from review.models import TreatmentPlan
from scheduling import planner, self_booking, services
from scheduling.models import Hold, Series
from tests.conftest import verified_session
from tests.factories import UserFactory
from tests.scheduling_data import approved_plan, make_location

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2027, 1, 25, 17, tzinfo=dt.UTC)  # Monday, 12:00 in Stamford


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def irvine() -> Location:
    # Created first, so it is the first location a plain query returns.
    return make_location(
        "irvine",
        "America/Los_Angeles",
        chairs=1,
        nurses=1,
        shifts_from=NOW.date(),
        self_booking=True,
    )


@pytest.fixture
def stamford() -> Location:
    return make_location(
        "stamford",
        chairs=1,
        nurses=1,
        shifts_from=NOW.date(),
        self_booking=True,
        phone="+1 203 555 0142",
    )


def _plan(email: str, location: Location, **parameters: Any) -> TreatmentPlan:
    values: dict[str, Any] = {
        "infusions": 3,
        "min_days_between": 2,
        "max_days_between": 7,
        "span_days": 21,
    }
    values.update(parameters)
    return approved_plan(email, location, **values)


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- The booking form's clinic --------------------------------------------------------------


def test_the_booking_form_preselects_the_patients_preferred_location(
    irvine: Location, stamford: Location
) -> None:
    plan = _plan("stamford@example.org", stamford)

    page = _client(plan.patient).get(reverse("scheduling:self_book"))

    assert PatientProfile.objects.get(user=plan.patient).preferred_location == stamford
    assert page.status_code == 200
    assert page.context["form"]["location"].value() == stamford.pk
    assert f'<option value="{stamford.pk}" selected>' in page.content.decode()


def test_without_a_preferred_location_the_form_preselects_the_last_series_location(
    irvine: Location, stamford: Location
) -> None:
    plan = _plan("returning@example.org", stamford)
    PatientProfile.objects.filter(user=plan.patient).update(preferred_location=None)
    Series.objects.create(
        plan=plan,
        patient=plan.patient,
        location=stamford,
        booked_by=plan.patient,
        status=Series.SeriesStatus.COMPLETED,
    )

    page = _client(plan.patient).get(reverse("scheduling:self_book"))

    assert page.status_code == 200
    assert page.context["form"]["location"].value() == stamford.pk
    assert not Series.objects.filter(patient=plan.patient, status="active").exists()


# --- The proposal on a phone, and its plurals ----------------------------------------------


def test_one_session_left_to_book_is_named_in_the_singular(stamford: Location) -> None:
    plan = _plan("onemore@example.org", stamford, infusions=2)
    monday = dt.date(2027, 2, 1)
    series = self_booking.book_own_series(
        plan.patient,
        stamford,
        [
            services.Choice(monday, dt.time(9)),
            services.Choice(monday + dt.timedelta(days=2), dt.time(9)),
        ],
        book_first=1,
    )
    client = _client(plan.patient)

    home = client.get(reverse("scheduling:self_home")).content.decode()
    rest = client.get(reverse("scheduling:self_book_rest", args=[series.public_id]))

    assert series.sessions.count() == 1
    assert self_booking.remaining(series) == 1
    assert "Book my remaining infusion<" in home
    assert "remaining 1 infusions" not in home
    assert "Book my remaining infusion<" in rest.content.decode()


def test_the_proposal_offers_each_time_as_a_choice_with_its_whole_date_and_time(
    stamford: Location,
) -> None:
    plan = _plan("radios@example.org", stamford)
    client = _client(plan.patient)

    response = client.post(
        reverse("scheduling:self_book"),
        {
            "location": stamford.pk,
            "first_date": "2027-02-01",
            "weekdays": ["0", "2", "4"],
            "window_starts": "09:00",
            "window_ends": "12:00",
            "action": "propose",
        },
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert 'type="radio" name="session_1" id="session_1" value="2027-02-01T09:00" checked' in page
    assert "Monday 1 February 2027, 9:00 AM (proposed)" in page
    assert "<select" not in page.split('data-testid="proposal"')[1].split("book_first")[0]
    assert Hold.objects.live().filter(patient=plan.patient).count() == 3


# --- The approved patient's home ------------------------------------------------------------


def test_an_approved_patient_whose_clinic_books_online_is_led_to_book_from_home(
    stamford: Location,
) -> None:
    plan = _plan("approved@example.org", stamford)

    response = _client(plan.patient).get(reverse("scheduling:patient_home"))

    page = response.content.decode()
    assert response.status_code == 200
    book = f'href="{reverse("scheduling:self_book")}"'
    assert book in page
    assert page.index(book) < page.index('id="intake-heading"')
    assert "Book my infusions" in page
    assert "The front desk will contact you" not in page
    assert not Series.objects.filter(patient=plan.patient).exists()


def test_an_approved_patient_whose_clinic_books_by_phone_is_told_the_desk_will_call() -> None:
    offline = make_location("offline", shifts_from=NOW.date())
    plan = _plan("byphone@example.org", offline)

    page = _client(plan.patient).get(reverse("scheduling:patient_home")).content.decode()

    assert "The front desk will contact you to book your infusions." in page
    assert f'href="{reverse("scheduling:self_book")}"' not in page
    assert not Series.objects.filter(patient=plan.patient).exists()


# --- Typed times follow the planner's grid -------------------------------------------------


def _booked_series(plan: TreatmentPlan, location: Location, at: dt.time) -> Series:
    monday = dt.date(2027, 2, 1)
    return self_booking.book_own_series(
        plan.patient,
        location,
        [services.Choice(monday + dt.timedelta(days=2 * n), at) for n in range(plan.infusions)],
    )


def test_every_time_a_patient_types_steps_on_the_planners_grid(stamford: Location) -> None:
    plan = _plan("grid@example.org", stamford)
    client = _client(plan.patient)

    book_page = client.get(reverse("scheduling:self_book")).content.decode()
    series = _booked_series(plan, stamford, dt.time(10, 40))
    home = client.get(reverse("scheduling:self_home")).content.decode()

    step = f'step="{planner.SLOT_MINUTES * 60}"'
    assert series.sessions.first().local_start().time() == dt.time(10, 40)
    assert 'type="time"' in home and 'step="900"' not in home
    assert home.count('type="time"') == home.count(step)
    assert 'step="900"' not in book_page
    assert book_page.count('type="time"') == book_page.count(step) > 0


def test_the_desks_move_and_waitlist_times_step_on_the_planners_grid(stamford: Location) -> None:
    plan = _plan("desk.grid@example.org", stamford)
    series = _booked_series(plan, stamford, dt.time(10, 40))
    desk = Client()
    verified_session(desk, UserFactory.create(role=Role.FRONT_DESK))

    page = desk.get(reverse("scheduling:series", args=[series.public_id])).content.decode()

    step = f'step="{planner.SLOT_MINUTES * 60}"'
    assert 'step="900"' not in page
    assert page.count('type="time"') == page.count(step) > 0
    assert series.sessions.count() == plan.infusions


# --- The consent signature -----------------------------------------------------------------


def test_a_signature_without_the_names_accents_or_capitals_is_accepted_as_typed(
    stamford: Location,
) -> None:
    from intake import services as intake_services
    from intake.models import IntakeAnswer
    from intake.samples import sample_steps

    patient = UserFactory.create(role=Role.PATIENT, email="lucia@example.org")
    client = _client(patient)
    intake = intake_services.start_draft(patient)
    steps = sample_steps()
    about = {**steps["about"], "legal_first_name": "Lucía", "legal_last_name": "Fernández"}
    consents = {**steps["consents"], "signature": "  lucia   FERNANDEZ "}

    client.post(reverse("intake:step", args=[intake.public_id, "about"]), about)
    response = client.post(reverse("intake:step", args=[intake.public_id, "consents"]), consents)

    assert response.status_code == 302, response.context and response.context["form"].errors
    record = IntakeAnswer.objects.get(intake=intake, step="consents").data
    assert record["signature"] == "lucia   FERNANDEZ"
    assert record["signed_at"]


def test_a_different_name_is_still_refused_as_a_signature(stamford: Location) -> None:
    from intake import services as intake_services
    from intake.models import IntakeAnswer
    from intake.samples import sample_steps

    patient = UserFactory.create(role=Role.PATIENT, email="lucia2@example.org")
    client = _client(patient)
    intake = intake_services.start_draft(patient)
    steps = sample_steps()
    about = {**steps["about"], "legal_first_name": "Lucía", "legal_last_name": "Fernández"}
    consents = {**steps["consents"], "signature": "Lucas Fernandez"}

    client.post(reverse("intake:step", args=[intake.public_id, "about"]), about)
    response = client.post(reverse("intake:step", args=[intake.public_id, "consents"]), consents)

    assert response.status_code == 200
    assert "Lucía Fernández" in response.content.decode()
    kept = IntakeAnswer.objects.get(intake=intake, step="consents")
    assert kept.completed_at is None and "signed_at" not in kept.data


# --- The crisis box after the clinic has followed up ---------------------------------------


def test_after_a_clinician_acknowledges_the_flag_the_crisis_box_says_the_clinic_followed_up(
    stamford: Location,
) -> None:
    from intake.models import UrgentFlag
    from intake.samples import submitted_intake
    from review import services as review

    patient = UserFactory.create(role=Role.PATIENT, email="flagged@example.org")
    intake = submitted_intake(patient, changes={"mood": {"phq9_9": "2"}})
    flag = UrgentFlag.objects.get(intake=intake)
    client = _client(patient)
    before = client.get(reverse("scheduling:patient_home")).content.decode()

    review.acknowledge(flag, UserFactory.create(role=Role.CLINICIAN), "Called; safety plan.")
    home = client.get(reverse("scheduling:patient_home")).content.decode()
    submitted = client.get(reverse("intake:submitted", args=[intake.public_id])).content.decode()

    assert "A clinician will be told about your answer" in before
    for page in (home, submitted):
        assert "will be told" not in page
        assert "The clinic has followed up on your answer." in page
        assert "Call or text 988" in page and "Call 911" in page
    assert UrgentFlag.objects.get(pk=flag.pk).acknowledged_at is not None


# --- A series the desk has not confirmed yet -----------------------------------------------


def test_a_series_awaiting_the_desk_reads_requested_everywhere_and_cannot_be_confirmed(
    stamford: Location,
) -> None:
    from scheduling.models import Status

    Location.objects.filter(pk=stamford.pk).update(self_booking_desk_confirms=True)
    stamford.refresh_from_db()
    plan = _plan("requested@example.org", stamford)
    series = _booked_series(plan, stamford, dt.time(9))
    client = _client(plan.patient)
    first = series.sessions.order_by("number").first()

    pages = [
        client.get(reverse(name)).content.decode()
        for name in ("scheduling:patient_home", "scheduling:my_sessions", "scheduling:self_home")
    ]
    confirm = client.post(
        reverse("scheduling:confirm_mine", args=[first.public_id]), {"back": "home"}
    )

    assert series.is_awaiting_desk
    for page in pages:
        assert "Requested — the clinic will confirm" in page
        assert "I will come" not in page
        assert "Your infusions are booked" not in page
    assert confirm.status_code == 302
    first.refresh_from_db()
    assert first.status == Status.BOOKED


# --- Messages offer the online change where the clinic allows it ---------------------------


def _confirmation_email(series: Series) -> Any:
    from messaging import reminders
    from notifications.models import Message
    from scheduling.models import ReminderKind

    message = Message.objects.get(
        group=f"series:{series.pk}", kind=ReminderKind.CONFIRMATION, channel="email"
    )
    return reminders.resolve(message)


def test_the_confirmation_and_its_calendar_files_link_to_the_online_change(
    stamford: Location,
) -> None:
    plan = _plan("online.change@example.org", stamford)
    series = _booked_series(plan, stamford, dt.time(9))

    email = _confirmation_email(series)

    link = "/my-series/"
    assert reverse("scheduling:self_home") == link
    assert link in email.body_text and link in email.body_html
    assert "call +1 203 555 0142" not in email.body_text
    calendar_files = [body.replace("\r\n ", "") for _name, body, _type in email.attachments]
    assert len(calendar_files) == plan.infusions
    assert all(link in body and "call" not in body for body in calendar_files)


def test_where_the_clinic_books_by_phone_the_messages_give_the_phone(stamford: Location) -> None:
    from scheduling import services as desk

    Location.objects.filter(pk=stamford.pk).update(self_booking=False)
    stamford.refresh_from_db()
    plan = _plan("phone.change@example.org", stamford)
    monday = dt.date(2027, 2, 1)
    series = desk.book_series(
        plan,
        stamford,
        [services.Choice(monday + dt.timedelta(days=2 * n), dt.time(9)) for n in range(3)],
        booked_by=UserFactory.create(role=Role.FRONT_DESK),
    )

    email = _confirmation_email(series)

    assert "call +1 203 555 0142" in email.body_text
    assert "/my-series/" not in email.body_text
    assert all(
        "/my-series/" not in body and "+1 203 555 0142" in body.replace("\r\n ", "")
        for _name, body, _type in email.attachments
    )


# --- Spanish ---------------------------------------------------------------------------------


def test_the_language_switch_names_each_language_in_itself() -> None:
    spanish, english = Client(), Client()
    spanish.post("/language/", {"language": "es", "next": "/"})

    in_spanish = spanish.get("/login/").content.decode()
    in_english = english.get("/login/").content.decode()

    assert '<html lang="es">' in in_spanish
    assert 'lang="en" class="btn btn-outline-light btn-sm">English</button>' in in_spanish
    assert "Inglés" not in in_spanish
    assert 'lang="es" class="btn btn-outline-light btn-sm">Español</button>' in in_english
    assert spanish.cookies["django_language"].value == "es"


def test_the_spanish_escort_sentences_do_not_presume_the_patient_or_the_driver_is_a_man() -> None:
    import polib  # type: ignore[import-untyped]  # no stubs published

    from tests.test_catalogue import CATALOGUES

    masculine = (" lo llev", " lo lleve", "del adulto", "al adulto", "un adulto", "el adulto")
    catalogue = polib.pofile(str(CATALOGUES[0]))
    driving = [
        entry
        for entry in catalogue
        if "drive you home" in entry.msgid or "driver home" in entry.msgid
    ]

    assert len(driving) >= 5
    assert [e.msgstr for e in driving if any(word in e.msgstr for word in masculine)] == []


@pytest.mark.parametrize(
    ("language", "eastern", "pacific"),
    [
        ("en", "Eastern time (EST)", "Pacific time (PST)"),
        ("es", "hora del Este (EST)", "hora del Pacífico (PST)"),
    ],
)
def test_patients_read_the_time_zone_as_people_say_it_never_its_iana_name(
    irvine: Location, stamford: Location, language: str, eastern: str, pacific: str
) -> None:
    plan = _plan(f"zone.{language}@example.org", stamford)
    client = _client(plan.patient)
    client.post("/language/", {"language": language, "next": "/"})

    form = client.get(reverse("scheduling:self_book")).content.decode()
    proposal = client.post(
        reverse("scheduling:self_book"),
        {
            "location": stamford.pk,
            "first_date": "2027-02-01",
            "weekdays": ["0", "2", "4"],
            "window_starts": "09:00",
            "window_ends": "12:00",
            "action": "propose",
        },
    ).content.decode()
    _booked_series(plan, stamford, dt.time(15, 20))
    pages = [
        client.get(reverse(name)).content.decode()
        for name in ("scheduling:self_home", "scheduling:my_sessions", "scheduling:patient_home")
    ]

    assert pacific in form and eastern in form
    for page in (form, proposal, *pages):
        assert "America/" not in page
    assert eastern in proposal
    for page in pages:
        assert eastern in page
    if language == "es":
        # 24-hour times in Spanish, everywhere.
        assert "15:20" in pages[0] and "15:20" in pages[1]
        for page in (proposal, *pages):
            assert " AM" not in page and " PM" not in page
    assert Series.objects.filter(patient=plan.patient).count() == 1


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_progress_page_gives_dates_in_words_not_iso(language: str) -> None:
    import re

    from tests.charting_data import session_today
    from tests.test_outcomes import _charted

    session, nurse = session_today(starts_in=-120)
    _charted(session, nurse, before=7, after=2)
    client = _client(session.patient)
    client.post("/language/", {"language": language, "next": "/"})

    page = client.get(reverse("outcomes:mine")).content.decode()

    day = session.local_start().date()
    words = f"{day.day} January 2027" if language == "en" else f"{day.day} de enero de 2027"
    tables = page.split('id="pain-h"')[1].split("outcome-data")[0]
    assert words in tables
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", tables)
    from charting.models import InfusionRecord

    assert InfusionRecord.objects.get(session=session).pain_after == 2
