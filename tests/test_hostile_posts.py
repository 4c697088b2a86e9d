"""Random and hostile input to every POST endpoint, as every role: never a server error, and
nothing in the database changes when the input is refused.

The intake's own drafts are the one intended exception: a step keeps what the patient typed, even
when it does not validate, so that nothing is lost (docs/product-rules.md#intake); the audit log,
sessions and the failed sign-in counter also record refused attempts, as they should.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import connection
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from accounts.models import Role, User
from audit.models import AuditEvent
from billing.emails import PAY_SALT
from billing.models import Appointment, Charge, ChargeState, Purpose
from scheduling import services
from scheduling.links import ACTION_SALT, CHECKIN_SALT, QUESTIONNAIRE_SALT, signed
from tests.conftest import verified_session
from tests.scheduling_data import approved_plan, build_world

# Links these tests open are signed here to work until long after the test.
FAR = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)

HOSTILE = [
    "",
    "0",
    "-1",
    "99999999999",
    "1e309",
    "NaN",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "\x00",
    "😀" * 30,
    "x" * 3000,
    "2027-02-30",
    "T",
    "../../etc",
    "on",
    "yes",
    "true",
    "[]",
    "{}",
    # The chart's steps, so that hostile values reach each of them.
    "check_in",
    "start",
    "vitals",
    "observations",
    "end",
    "discharge",
    "sign",
    "cosign",
    "addendum",
    "work_up",
    "needs_ecg",
    "15:30",
]
FIELDS = [
    "email",
    "username",
    "password",
    "password1",
    "password2",
    "first_name",
    "last_name",
    "date_of_birth",
    "code",
    "note",
    "ack-note",
    "plan-infusions",
    "plan-dose_mg_per_kg",
    "decline-patient_message",
    "more-steps",
    "more-patient_message",
    "session_1",
    "session_2",
    "date",
    "time",
    "and_following",
    "reason",
    "earliest_date",
    "latest_date",
    "window_starts",
    "window_ends",
    "action",
    "pain",
    "side_effects",
    "phq9_1",
    "peg_1",
    "location",
    "next",
    "weight",
    "weight_unit",
    "q",
    "patient",
    "user",
    "since",
    "until",
    "time",
    "phase",
    "systolic",
    "pulse",
    "intervention",
    "stopped_early_reason",
    "short_recovery_reason",
    "text",
    "lines",
    "service",
    "late_cancel_fee",
    "amount",
    "package",
    "payment_intent",
]

text = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40))
posts = st.dictionaries(
    st.one_of(st.sampled_from(FIELDS), st.text(min_size=1, max_size=12)),
    st.one_of(text, st.lists(text, max_size=3)),
    max_size=8,
)

# Tables whose content must not change when a request is refused.
WATCHED = [
    "billing_priceline",
    "billing_feepolicy",
    "billing_package",
    "billing_ledgerentry",
    "billing_stripeevent",
    "accounts_user",
    "accounts_patientprofile",
    "accounts_invitation",
    "otp_totp_totpdevice",
    "otp_static_staticdevice",
    "otp_static_statictoken",
    "intake_intake",
    "intake_urgentflag",
    "review_treatmentplan",
    "review_decision",
    "scheduling_series",
    "scheduling_session",
    "scheduling_waitlistentry",
    "scheduling_hold",
    "scheduling_calendarfeed",
    "notifications_message",
    "outcomes_checkin",
    "outcomes_questionnaireresponse",
    "charting_infusionrecord",
    "charting_vitalsign",
    "charting_observation",
    "charting_addendum",
    "charting_workup",
    "worklist_task",
    "notifications_inboundtext",
    "notifications_webhookreceipt",
]


DIGEST = "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t"


def fingerprint() -> dict[str, str]:
    with connection.cursor() as cursor:
        result = {}
        for table in WATCHED:
            cursor.execute(DIGEST.format(table=table))
            result[table] = cursor.fetchone()[0]
        return result


def refused(response) -> bool:
    if response.status_code in (400, 403, 404, 405, 410):
        return True
    if response.status_code == 302:
        return response["Location"].startswith(("/login/", "/mfa/"))
    context = response.context or {}
    forms = [
        value
        for value in (context.flatten() if hasattr(context, "flatten") else {}).values()
        if hasattr(value, "errors") and hasattr(value, "is_bound")
    ]
    return any(form.is_bound and form.errors for form in forms)


class HostileWorld(TestCase):
    """A booked series, a waitlist hold, tasks, and a user of every role: each POST endpoint."""

    users: dict[str, User]
    urls: list[str]
    chart_url: str

    @classmethod
    def setUpTestData(cls) -> None:
        world = build_world()
        location, plan, series, session = world.location, world.plan, world.series, world.session
        first, hold, desk = world.first, world.hold, world.desk
        desk_task, clinical_task = world.desk_task, world.clinical_task
        # A series booked online that the desk has still to confirm or decline.
        requested = services.book_series(
            approved_plan("requested@example.org", location, infusions=1),
            location,
            [services.Choice(first + dt.timedelta(days=1), dt.time(10))],
            booked_by=desk,
            awaiting_desk=True,
        )
        # An open charge the desk may waive, an admin refund, the patient pay by link.
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
        cls.users = world.users
        intake = plan.intake
        cls.urls = [
            reverse("intake:start"),
            reverse("intake:submit", args=[intake.public_id]),
            reverse("review:approve", args=[intake.public_id]),
            reverse("review:decline", args=[intake.public_id]),
            reverse("review:more_info", args=[intake.public_id]),
            reverse("review:acknowledge", args=[intake.public_id]),
            reverse("scheduling:plan", args=[plan.public_id])
            + f"?location={location.pk}&first_date={first}&weekdays=0"
            + "&window_starts=09:00&window_ends=12:00",
            reverse("scheduling:move", args=[session.public_id]),
            reverse("scheduling:cancel", args=[session.public_id]),
            reverse("scheduling:waitlist", args=[session.public_id]),
            reverse("scheduling:transition", args=[session.public_id, "no-show"]),
            reverse("scheduling:accept_offer", args=[hold.pk]),
            reverse("scheduling:reset_feed"),
            reverse("scheduling:confirm_mine", args=[session.public_id]),
            reverse("scheduling:cancel_mine", args=[session.public_id]),
            reverse(
                "scheduling:session_action", args=[signed(ACTION_SALT, str(session.public_id), FAR)]
            ),
            reverse("outcomes:check_in", args=[signed(CHECKIN_SALT, str(session.public_id), FAR)]),
            reverse(
                "outcomes:questionnaire",
                args=[signed(QUESTIONNAIRE_SALT, f"{series.public_id}:mid", FAR)],
            ),
            reverse("accounts:login"),
            reverse("accounts:register"),
            reverse("accounts:resend_verification"),
            reverse("accounts:invite"),
            reverse("accounts:invite_staff"),
            reverse("accounts:mfa"),
            reverse("accounts:locked"),
            reverse("accounts:password_reset"),
            reverse("accounts:verify_email", args=["forged"]),
            reverse("accounts:accept_invitation", args=["forged"]),
            reverse("charting:chart", args=[session.public_id]),
            reverse("intake:insurance_card", args=[intake.public_id]),
            reverse("scheduling:search"),
            reverse("audit:search"),
            reverse("notifications:twilio_status") + "?message=" + str(uuid.uuid4()),
            reverse("notifications:twilio_inbound"),
            reverse("scheduling:desk_task_assign", args=[desk_task.public_id]),
            reverse("scheduling:desk_task_done", args=[desk_task.public_id]),
            reverse("scheduling:review_task_assign", args=[clinical_task.public_id]),
            reverse("scheduling:review_task_done", args=[clinical_task.public_id]),
            reverse("scheduling:self_book"),
            reverse("scheduling:self_book_rest", args=[series.public_id]),
            reverse("scheduling:self_move", args=[session.public_id]),
            reverse("scheduling:self_cancel", args=[session.public_id]),
            reverse("scheduling:self_waitlist", args=[session.public_id]),
            reverse("scheduling:self_offer", args=[hold.public_id]),
            reverse("scheduling:confirm_series", args=[requested.public_id]),
            reverse("scheduling:decline_series", args=[requested.public_id]),
            reverse("billing:prices", args=[location.slug]),
            reverse("billing:webhook"),
            reverse("billing:waive", args=[charge.public_id]),
            reverse("billing:refund", args=[charge.public_id]),
            reverse("billing:sell_package", args=[plan.patient.public_id]),
            reverse("billing:pay", args=[signed(PAY_SALT, str(charge.public_id), FAR)]),
        ]
        cls.chart_url = reverse("charting:chart", args=[session.public_id])

    def client_for(self, role: str) -> Client:
        client = Client()
        if role != "anon":
            verified_session(client, self.users[role])
        return client


class HostilePostTests(HostileWorld):
    def check(self, url_index: int, role: str, data: dict) -> None:
        url = self.urls[url_index]
        client = self.client_for(role)
        before = fingerprint()

        response = client.post(url, data)

        assert response.status_code < 500, (url, role, data)
        if refused(response):
            assert fingerprint() == before, (url, role, data, response.status_code)


ROLES = ["anon", "patient", "other", "front_desk", "nurse", "clinician", "clinic_admin"]
ENDPOINTS = 52


def _make(url_index: int):
    @settings(max_examples=21, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(role=st.sampled_from(ROLES), data=posts)
    def test(self: HostilePostTests, role: str, data: dict) -> None:
        self.check(url_index, role, data)

    return test


for _index in range(ENDPOINTS):
    setattr(HostilePostTests, f"test_hostile_posts_to_endpoint_{_index:02d}", _make(_index))


# --- Control characters: refused with a page, before any form reads them ------------------------

# What the refusal page says (templates/bad_characters.html), in English and in Spanish.
HIDDEN_CHARACTER = "hidden character"
HIDDEN_CHARACTER_ES = "carácter oculto"
# NUL (which PostgreSQL refuses in text), escape, delete, a vertical tab, a C1 control.
CONTROLS = ["a\x00b", "\x00", "x\x1by", "\x7f", "one\x0btwo", "\x85"]


class ControlCharacterTests(HostileWorld):
    """Every form, as every role: a control character in any field or in the query string is a
    400 page in people's words, and nothing changes."""

    def _refuses(self, client: Client, url: str, data: dict, words: str = HIDDEN_CHARACTER) -> None:
        before = fingerprint()
        audited = AuditEvent.objects.count()

        response = client.post(url, data)

        assert response.status_code == 400, (url, data, response.status_code)
        assert words in response.content.decode(), (url, data)
        assert fingerprint() == before, (url, data)
        assert AuditEvent.objects.count() == audited, (url, data)

    def test_a_nul_in_the_charts_action_is_a_page_not_a_server_error(self) -> None:
        self._refuses(self.client_for(Role.NURSE), self.chart_url, {"action": "check_in\x00"})

    def test_every_form_refuses_a_control_character_in_any_field(self) -> None:
        for role in ROLES:
            client = self.client_for(role)
            for number, url in enumerate(self.urls):
                control = CONTROLS[number % len(CONTROLS)]
                self._refuses(client, url, {name: "a\x00b" for name in FIELDS})
                self._refuses(client, url, {FIELDS[number % len(FIELDS)]: ["ok", control]})
                self._refuses(client, url, {"ac\x00tion": "x"})

    def test_a_control_character_in_the_query_string_of_a_post_is_refused(self) -> None:
        client = self.client_for(Role.CLINIC_ADMIN)
        for url in self.urls:
            joiner = "&" if "?" in url else "?"
            self._refuses(client, f"{url}{joiner}next=%00", {})

    def test_the_refusal_is_in_the_patients_language(self) -> None:
        client = self.client_for("patient")
        client.post("/language/", {"language": "es", "next": "/"})

        self._refuses(client, reverse("intake:start"), {"x": "\x00"}, HIDDEN_CHARACTER_ES)

    def test_tab_and_line_breaks_are_not_control_characters_it_refuses(self) -> None:
        response = self.client_for(Role.NURSE).post(
            self.chart_url, {"action": "x", "note": "one\ttwo\r\nthree\n"}, follow=True
        )

        assert response.status_code == 200
        assert "That step does not apply now." in response.content.decode()
