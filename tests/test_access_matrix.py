"""Every URL of the project, for anonymous visitors and each role, for a patient on another
patient's objects, and for staff of another location on the patient's objects: the answer must
be the expected one. A URL without an entry fails the test."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse

from accounts.models import Role
from billing.emails import PAY_SALT
from billing.models import Appointment, Charge, ChargeState, Purpose
from billing.views import CARD_SALT
from fhir import services as fhir_services
from intake.models import IntakeAttachment
from locations.models import Closure, Location, NurseShift
from paperwork import estimates
from scheduling.links import (
    ACTION_SALT,
    CHECKIN_SALT,
    QUESTIONNAIRE_SALT,
    VISIT_ACTION_SALT,
    signed,
)
from scheduling.models import CalendarFeed, Visit, VisitKind
from tests.factories import UserFactory
from tests.paperwork_data import set_up_billing
from tests.scheduling_data import approved_plan

# Links these tests open are signed here to work until long after the test.
FAR = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)

pytestmark = pytest.mark.django_db

OK, LOGIN, FORBID, MISSING, REDIRECT, NOT_ALLOWED = 200, "login", 403, 404, 302, 405
ROLES = ["anon", "patient", "other", "front_desk", "nurse", "clinician", "clinic_admin"]


def answers(default, **overrides):
    return {role: overrides.get(role, default) for role in ROLES}


def patient_page(own_object: bool = True, *, ok=OK):
    """Patients only; with an object of the patient, another patient finds nothing."""
    return answers(FORBID, anon=LOGIN, patient=ok, other=MISSING if own_object else ok)


def staff_page(*roles: str, ok=OK, others=FORBID):
    return answers(others, anon=LOGIN, **{role: ok for role in roles})


PUBLIC = answers(OK)
DESK = ("front_desk", "clinic_admin")
# The patient's own object, which the desk may open too; another patient finds nothing.
OWN_OR_DESK = {**staff_page(*DESK), "patient": OK, "other": MISSING}

# name -> (method, args key, expected answer per role)
MATRIX = {
    "healthz": ("get", None, PUBLIC),
    "readyz": ("get", None, PUBLIC),
    "admin:index": ("get", None, answers(REDIRECT, clinic_admin=OK)),
    "intake:start": ("get", None, patient_page(False, ok=NOT_ALLOWED)),
    "intake:review": ("get", "intake", patient_page()),
    "intake:submit": ("post", "intake", patient_page(ok=REDIRECT)),
    "intake:submitted": ("get", "intake", patient_page()),
    "intake:step": ("get", "intake_step", patient_page(ok=REDIRECT)),
    # The card is administrative data the desk handles; clinicians see it with the summary.
    "intake:insurance_card": ("get", "intake", staff_page("clinician", "front_desk")),
    "review:queue": ("get", None, staff_page("clinician", "front_desk")),
    "review:templates": ("get", None, staff_page("clinician")),
    "review:summary": ("get", "intake", staff_page("clinician")),
    "review:approve": ("get", "intake", staff_page("clinician", ok=NOT_ALLOWED)),
    "review:decline": ("get", "intake", staff_page("clinician", ok=NOT_ALLOWED)),
    "review:more_info": ("get", "intake", staff_page("clinician", ok=NOT_ALLOWED)),
    "review:acknowledge": ("get", "intake", staff_page("clinician", ok=NOT_ALLOWED)),
    "audit:search": ("get", None, staff_page("clinic_admin")),
    "scheduling:desk": ("get", None, staff_page(*DESK)),
    "scheduling:search": ("get", None, staff_page(*DESK)),
    # The desk, clinicians and nurses of the patient's locations (these work at the session's;
    # staff of another location find nothing: test_staff_of_another_location_find_nothing).
    "scheduling:patient": ("get", "patient", staff_page(*DESK, "clinician", "nurse")),
    "scheduling:plan": ("get", "plan", staff_page(*DESK)),
    "scheduling:series": ("get", "series", staff_page(*DESK)),
    # Visits with a clinician (docs/visits.md): the desk books; the desk and clinicians open one.
    "scheduling:book_visit": ("get", "patient", staff_page(*DESK, "clinician")),
    "scheduling:visit": ("get", "visit", staff_page(*DESK, "clinician")),
    # Boosters (docs/visits.md#boosters): the desk's list and booking; the patient's own page.
    "scheduling:boosters": ("get", "location", staff_page(*DESK)),
    "scheduling:book_booster": ("get", "plan", staff_page(*DESK)),
    "scheduling:self_book_booster": ("get", None, patient_page(False)),
    # POST only: the desk confirms or declines a series booked online.
    "scheduling:confirm_series": ("get", "series", staff_page(*DESK, ok=NOT_ALLOWED)),
    "scheduling:decline_series": ("get", "series", staff_page(*DESK, ok=NOT_ALLOWED)),
    "scheduling:move": ("get", "session", staff_page(*DESK, ok=NOT_ALLOWED)),
    # The GET asks before cancelling (the page behind the cancel dialog); the POST cancels.
    "scheduling:cancel": ("get", "session", staff_page(*DESK)),
    "scheduling:waitlist": ("get", "session", staff_page(*DESK, ok=NOT_ALLOWED)),
    "scheduling:transition": ("get", "transition", staff_page(*DESK, ok=NOT_ALLOWED)),
    "scheduling:undo_check_in": ("get", "session", staff_page(*DESK, ok=NOT_ALLOWED)),
    "scheduling:accept_offer": ("get", "hold", staff_page(*DESK, ok=NOT_ALLOWED)),
    "scheduling:day_today": ("get", "location", staff_page(*DESK)),
    "scheduling:day": ("get", "location_day", staff_page(*DESK)),
    "scheduling:week_today": ("get", "location", staff_page(*DESK)),
    "scheduling:week": ("get", "location_day", staff_page(*DESK)),
    # The desk's calendar (docs/roles/front-desk.md#the-desks-calendar): a session's actions,
    # an empty slot (its booking is POST only), the versions the pages poll.
    "scheduling:session": ("get", "session", staff_page(*DESK)),
    "scheduling:slot": ("get", "location_day", staff_page(*DESK)),
    "scheduling:book_slot": ("get", "location_day", staff_page(*DESK, ok=NOT_ALLOWED)),
    "scheduling:day_version": ("get", "location_day", staff_page(*DESK)),
    "scheduling:week_version": ("get", "location_day", staff_page(*DESK)),
    "scheduling:failed_messages": ("get", None, staff_page(*DESK)),
    "scheduling:patient_home": ("get", None, patient_page(False)),
    "messaging:reminder_rules": ("get", "location", staff_page(Role.CLINIC_ADMIN)),
    "scheduling:closed_days": ("get", "location", staff_page(Role.CLINIC_ADMIN)),
    "scheduling:roster": ("get", "location", staff_page(Role.CLINIC_ADMIN)),
    "scheduling:roster_copy": ("get", "location", staff_page(Role.CLINIC_ADMIN, ok=NOT_ALLOWED)),
    "scheduling:roster_clinicians": (
        "get",
        "location",
        staff_page(Role.CLINIC_ADMIN, ok=NOT_ALLOWED),
    ),
    "scheduling:roster_shift": ("get", "shift", staff_page(Role.CLINIC_ADMIN)),
    "scheduling:roster_delete": ("get", "shift", staff_page(Role.CLINIC_ADMIN)),
    "scheduling:closure_rebook": ("get", "closure", staff_page(*DESK)),
    # The worklist: the front desk's at /desk/tasks/, the clinicians' at /review/tasks/.
    "scheduling:desk_tasks": ("get", None, staff_page(*DESK)),
    "scheduling:desk_task_assign": ("get", "desk_task", staff_page(*DESK, ok=NOT_ALLOWED)),
    "scheduling:desk_task_done": ("get", "desk_task", staff_page(*DESK, ok=NOT_ALLOWED)),
    "scheduling:review_tasks": ("get", None, staff_page("clinician")),
    "scheduling:review_task_assign": (
        "get",
        "clinical_task",
        staff_page("clinician", ok=NOT_ALLOWED),
    ),
    "scheduling:review_task_done": (
        "get",
        "clinical_task",
        staff_page("clinician", ok=NOT_ALLOWED),
    ),
    # Twilio's webhooks: without Twilio's signature, 403 for everyone, signed in or not.
    "notifications:twilio_status": ("get", None, answers(FORBID)),
    "notifications:twilio_inbound": ("get", None, answers(FORBID)),
    "scheduling:my_sessions": ("get", None, patient_page(False)),
    "scheduling:reset_feed": ("get", None, patient_page(False, ok=NOT_ALLOWED)),
    "scheduling:session_ics": ("get", "session", patient_page()),
    # POST only; a patient confirms or cancels their own appointment, another finds nothing.
    "scheduling:confirm_mine": ("post", "session", patient_page(ok=REDIRECT)),
    "scheduling:cancel_mine": ("post", "session", patient_page(ok=REDIRECT)),
    # Patients' own series online (docs/product-rules.md#booking-online): this patient's series is
    # booked in full, so the booking pages send them back to it; the other patient has no plan and
    # sees why.
    "scheduling:self_home": ("get", None, patient_page(False)),
    "scheduling:self_book": ("get", None, answers(FORBID, anon=LOGIN, patient=REDIRECT, other=OK)),
    "scheduling:self_book_rest": ("get", "series", patient_page(ok=REDIRECT)),
    "scheduling:self_move": ("get", "session", patient_page(False, ok=NOT_ALLOWED)),
    "scheduling:self_cancel": ("get", "session", patient_page()),
    "scheduling:self_waitlist": ("get", "session", patient_page(False, ok=NOT_ALLOWED)),
    "scheduling:self_offer": ("get", "offer", patient_page()),
    # A patient's own visit (another finds nothing); booking visits online where allowed.
    "scheduling:my_visit": ("get", "visit", patient_page()),
    "scheduling:my_visit_cancel": ("get", "visit", patient_page()),
    "scheduling:my_visit_move": ("get", "visit", patient_page()),
    "scheduling:self_book_visit": ("get", None, patient_page(False)),
    # Token links work without a login: the signed token is the key.
    "scheduling:feed": ("get", "feed", PUBLIC),
    "scheduling:session_action": ("get", "action_token", PUBLIC),
    "scheduling:session_action_cancel": ("get", "action_token", PUBLIC),
    "scheduling:visit_action": ("get", "visit_token", PUBLIC),
    "outcomes:check_in": ("get", "checkin_token", PUBLIC),
    "outcomes:questionnaire": ("get", "questionnaire_token", PUBLIC),
    # Signed-in people are sent home from the sign-in and sign-up pages.
    "accounts:login": ("get", None, answers(REDIRECT, anon=OK)),
    "accounts:logout": ("get", None, answers(NOT_ALLOWED)),
    # The language switch takes a POST from anyone (before signing in too).
    "accounts:set_language": ("get", None, answers(NOT_ALLOWED)),
    "accounts:password_reset": ("get", None, PUBLIC),
    "accounts:password_reset_done": ("get", None, PUBLIC),
    "accounts:password_reset_confirm": ("get", "reset", answers(MISSING)),
    "accounts:password_reset_complete": ("get", None, PUBLIC),
    "accounts:register": ("get", None, answers(REDIRECT, anon=OK)),
    "accounts:register_done": ("get", None, PUBLIC),
    "accounts:verify_email": ("get", "bad_token", answers(MISSING)),
    "accounts:resend_verification": ("get", None, PUBLIC),
    "accounts:accept_invitation": ("get", "bad_token", answers(REDIRECT, anon=MISSING)),
    "accounts:invite": ("get", None, staff_page(*DESK)),
    "accounts:invite_staff": ("get", None, staff_page("clinic_admin")),
    # Signed-in people have passed it; without a pending sign-in there is nothing to verify.
    "accounts:mfa": ("get", None, answers(REDIRECT, anon=LOGIN)),
    "accounts:session_status": ("get", None, answers(OK, anon=LOGIN)),
    "accounts:keep_alive": ("get", None, answers(NOT_ALLOWED, anon=LOGIN)),
    "accounts:locked": ("get", None, staff_page("clinic_admin")),
    "accounts:home": ("get", None, answers(REDIRECT, anon=LOGIN)),
    "accounts:home_nurse": ("get", None, staff_page("nurse")),
    "accounts:home_clinic_admin": ("get", None, staff_page("clinic_admin")),
    "charting:day": ("get", None, staff_page("nurse")),
    # Clinicians of the session's location read and co-sign (this one works there).
    "charting:chart": ("get", "session", staff_page("nurse", "clinician")),
    "charting:print": ("get", "session", staff_page("nurse", "clinician")),
    "charting:to_cosign": ("get", None, staff_page("clinician")),
    "outcomes:mine": ("get", None, patient_page(False)),
    "outcomes:patient": ("get", "patient", staff_page("clinician", "nurse")),
    "outcomes:visit_note": ("get", "visit", staff_page("clinician")),
    "outcomes:dashboard": ("get", "location", staff_page("clinician", "clinic_admin")),
    "outcomes:dashboard_csv": ("get", "location", staff_page("clinician", "clinic_admin")),
    "outcomes:dashboard_sessions": ("get", "figure", staff_page("clinician")),
    # The FHIR API answers bearer tokens only: a signed-in session counts for nothing (401).
    "fhir:metadata": ("get", None, answers(401)),
    "fhir:search": ("get", "fhir_type", answers(401)),
    "fhir:read": ("get", "fhir_patient", answers(401)),
    "fhir:everything": ("get", "patient", answers(401)),
    "fhir:base": ("get", None, answers(401)),
    "fhir:unknown": ("get", "fhir_path", answers(401)),
    "fhir:clients": ("get", None, staff_page("clinic_admin")),
    "fhir:revoke_client": ("get", "fhir_client", staff_page("clinic_admin", ok=NOT_ALLOWED)),
    # The right to a Good Faith Estimate is a public notice; the patient's own estimates and
    # superbills are theirs and the desk's (docs/paperwork.md#who-sees-what).
    "paperwork:notice": ("get", None, PUBLIC),
    "paperwork:mine": ("get", None, patient_page(False)),
    "paperwork:request": ("get", None, patient_page(False, ok=NOT_ALLOWED)),
    # Without a period the superbill page asks for one (400).
    "paperwork:superbill": ("get", None, patient_page(False, ok=400)),
    "paperwork:estimate": (
        "get",
        "estimate",
        {**staff_page(*DESK), "patient": OK, "other": MISSING},
    ),
    "paperwork:estimate_pdf": (
        "get",
        "estimate",
        {**staff_page(*DESK), "patient": OK, "other": MISSING},
    ),
    "paperwork:acknowledge": ("get", "estimate", patient_page(False, ok=NOT_ALLOWED)),
    "paperwork:request_for": ("get", "patient", staff_page(*DESK, ok=NOT_ALLOWED)),
    "paperwork:superbill_for": ("get", "patient", staff_page(*DESK, ok=400)),
    "paperwork:diagnoses": ("get", "plan", staff_page("clinician")),
    # Payments (docs/payments.md): prices are the admins', the day's takings the desk's; the
    # card and pay links are signed and need no sign-in; Stripe's webhook takes POSTs only.
    "billing:prices": ("get", "location", staff_page("clinic_admin")),
    "billing:takings": ("get", "location", staff_page(*DESK)),
    "billing:takings_csv": ("get", "location", staff_page(*DESK)),
    "billing:card": ("get", None, patient_page(False)),
    "billing:card_link": ("get", "card_token", PUBLIC),
    "billing:send_card_link": ("get", "patient", staff_page(*DESK, ok=NOT_ALLOWED)),
    "billing:sell_package": ("get", "patient", staff_page(*DESK, ok=NOT_ALLOWED)),
    "billing:pay": ("get", "pay_token", PUBLIC),
    "billing:webhook": ("get", None, answers(NOT_ALLOWED)),
    "billing:waive": ("get", "charge", staff_page(*DESK, ok=NOT_ALLOWED)),
    "billing:refund": ("get", "charge", staff_page("clinic_admin", ok=NOT_ALLOWED)),
    "billing:refund_package": ("get", "charge", staff_page("clinic_admin", ok=NOT_ALLOWED)),
}


def url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns, namespace=None):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    names.add("admin:index")
                    continue
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif pattern.name:
                names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver().url_patterns)
    return names


def test_pages_named_in_the_app_that_serves_them_keep_their_addresses():
    """docs/architecture.md#urls"""
    assert reverse("scheduling:patient_home") == "/intake/"
    assert reverse("messaging:reminder_rules", args=["stamford"]) == "/settings/stamford/reminders/"
    assert reverse("intake:start") == "/intake/start/"


def test_every_url_of_the_project_has_an_entry_in_the_matrix():
    assert url_names() - set(MATRIX) == set(), "add the new URL to MATRIX with its answers"
    assert set(MATRIX) - url_names() == set(), "remove URLs that no longer exist"


@pytest.fixture
def world(booked_world, login, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    location, plan, series = booked_world.location, booked_world.plan, booked_world.series
    session, hold, first = booked_world.session, booked_world.hold, booked_world.first
    approved_plan("other@example.org", location, infusions=1)
    feed = CalendarFeed.objects.create(patient=plan.patient)
    # A day between the two sessions, so that nothing else in the world changes.
    training = first + dt.timedelta(days=1)
    closure = Closure.objects.create(
        location=location, starts_on=training, ends_on=training, reason="Training"
    )
    visit = Visit.objects.create(
        kind=VisitKind.FOLLOW_UP,
        patient=plan.patient,
        clinician=booked_world.users["clinician"],
        location=location,
        starts_at=session.starts_at + dt.timedelta(days=1),
        ends_at=session.starts_at + dt.timedelta(days=1, minutes=30),
        booked_by=booked_world.desk,
    )
    fhir_client, _token = fhir_services.create_client("EHR", ["system/*.read"], booked_world.desk)
    set_up_billing(location, plan.approved_by)
    estimate = estimates.on_series_changed(series)
    intake = plan.intake
    IntakeAttachment.objects.create(
        intake=intake,
        kind=IntakeAttachment.Kind.INSURANCE_CARD,
        content_type="image/png",
        size=4,
        file=ContentFile(b"card", name="card.png"),
    )
    charge = Charge.objects.create(
        patient=plan.patient,
        location=location,
        purpose=Purpose.APPOINTMENT,
        appointment_kind=Appointment.SESSION,
        appointment_id=session.public_id,
        amount=47000,
        currency="USD",
        state=ChargeState.OPEN,
    )
    users = booked_world.users
    clients = {"anon": Client(), **{role: login(users[role]) for role in ROLES[1:]}}
    day = first.isoformat()
    args = {
        None: [],
        "intake": [intake.public_id],
        "intake_step": [intake.public_id, "about"],
        "plan": [plan.public_id],
        "series": [series.public_id],
        "session": [session.public_id],
        "transition": [session.public_id, "check-in"],
        "hold": [hold.pk],
        "offer": [hold.public_id],
        "location": [location.slug],
        "location_day": [location.slug, day],
        "figure": [location.slug, "no-shows"],
        "feed": [feed.token],
        "patient": [plan.patient.public_id],
        "action_token": [signed(ACTION_SALT, str(session.public_id), FAR)],
        "checkin_token": [signed(CHECKIN_SALT, str(session.public_id), FAR)],
        "questionnaire_token": [signed(QUESTIONNAIRE_SALT, f"{series.public_id}:mid", FAR)],
        "reset": ["MQ", "not-a-real-token"],
        "bad_token": ["not-a-real-token"],
        "desk_task": [booked_world.desk_task.public_id],
        "clinical_task": [booked_world.clinical_task.public_id],
        "fhir_type": ["Patient"],
        "fhir_patient": ["Patient", plan.patient.public_id],
        "fhir_path": ["Patient/x/y"],
        "fhir_client": [fhir_client.public_id],
        "closure": [closure.pk],
        "estimate": [estimate.public_id],
        "visit": [visit.public_id],
        "visit_token": [signed(VISIT_ACTION_SALT, str(visit.public_id), FAR)],
        "shift": [location.slug, NurseShift.objects.filter(location=location).first().pk],
        "charge": [charge.public_id],
        "pay_token": [signed(PAY_SALT, str(charge.public_id), FAR)],
        "card_token": [signed(CARD_SALT, str(plan.patient.public_id), FAR)],
    }
    return clients, args


def _answer(response) -> object:
    if response.status_code == 302:
        return LOGIN if response["Location"].startswith("/login/") else REDIRECT
    return response.status_code


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_each_url_answers_each_role_as_expected(world, name):
    clients, args = world
    method, key, expected = MATRIX[name]
    url = reverse(name, args=args[key])
    found = {role: _answer(getattr(client, method)(url)) for role, client in clients.items()}
    assert found == expected


# The URLs about one patient's objects (their args name the patient's intake, plan, series,
# session, waitlist offer or the patient), and the staff roles bound by the location rule.
PATIENT_SCOPED = {"intake", "intake_step", "plan", "series", "session", "transition", "hold"}
PATIENT_SCOPED |= {"offer", "patient"}
LOCAL_STAFF = ("front_desk", "nurse", "clinician")


def elsewhere(name: str) -> dict[str, object]:
    """What staff of another location get: nothing found where their colleagues of the
    patient's location get in (a page, a redirect, a form's 400 once the object is found, or a
    POST-only page's 405, which is POSTed here so that the lookup is reached), and their role's
    answer otherwise."""
    _method, _key, expected = MATRIX[name]
    return {
        role: MISSING if expected[role] in (OK, REDIRECT, NOT_ALLOWED, 400) else expected[role]
        for role in LOCAL_STAFF
    }


# The "staff of another location" row: every patient-scoped URL that staff may open at all.
ELSEWHERE = {
    name: elsewhere(name)
    for name, (_method, key, expected) in MATRIX.items()
    if key in PATIENT_SCOPED and any(expected[role] != FORBID for role in LOCAL_STAFF)
}


def test_the_row_of_staff_of_another_location_covers_the_patient_pages():
    assert {"scheduling:patient", "review:summary", "charting:chart", "outcomes:patient"} <= set(
        ELSEWHERE
    )


@pytest.mark.parametrize("name", sorted(ELSEWHERE))
def test_staff_of_another_location_find_nothing(world, login, name):
    """docs/security.md#which-locations-patients-each-role-sees"""
    _clients, args = world
    greenwich = Location.objects.create(
        name="Greenwich", slug="greenwich", time_zone="America/New_York"
    )
    method, key, expected = MATRIX[name]
    # A POST-only page is POSTed: the object is looked up before any form is read.
    method = "post" if NOT_ALLOWED in expected.values() else method
    url = reverse(name, args=args[key])
    found = {}
    for role in LOCAL_STAFF:
        staff = UserFactory.create(role=role, locations=[greenwich])
        found[role] = _answer(getattr(login(staff), method)(url))
    assert found == ELSEWHERE[name]


# The desk's calendars and their pages are per location: a desk member opens its own locations'
# only, a clinic admin every one (docs/security.md#which-locations-patients-each-role-sees).
CALENDAR_PAGES = ("day", "day_today", "week", "week_today", "day_version", "week_version")
CALENDARS = sorted(f"scheduling:{page}" for page in (*CALENDAR_PAGES, "slot", "book_slot"))


def test_the_calendar_row_covers_the_desks_calendars():
    assert {"scheduling:day", "scheduling:week", "scheduling:week_version"} <= set(CALENDARS)


@pytest.mark.parametrize("name", CALENDARS)
def test_a_desk_of_another_location_does_not_find_its_calendar(world, login, name):
    _clients, args = world
    greenwich = Location.objects.create(
        name="Greenwich", slug="greenwich", time_zone="America/New_York"
    )
    method, key, expected = MATRIX[name]
    method = "post" if NOT_ALLOWED in expected.values() else method
    url = reverse(name, args=args[key])
    desk = UserFactory.create(role=Role.FRONT_DESK, locations=[greenwich])
    admin = UserFactory.create(role=Role.CLINIC_ADMIN, locations=[greenwich])

    assert getattr(login(desk), method)(url).status_code == 404
    assert getattr(login(admin), method)(url).status_code in (200, 302)
