"""Infusion-day rules and the nurse's chart (docs/product-rules.md#infusion-day)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
import time_machine
from django.db import DatabaseError, transaction
from django.urls import reverse

from accounts.models import Role
from audit.models import AuditEvent
from charting import rules
from charting.models import InfusionRecord, VitalSign
from intake import scoring
from notifications.models import Message
from review.models import DosePreview
from scheduling.models import Session, Status
from tests.charting_data import (
    AFTERNOON,
    DISCHARGE,
    NEW_YORK,
    PLAN_NOTE,
    SAFETY_CHANGES,
    check_in_post,
    next_session,
    session_today,
    vitals_post,
)
from tests.factories import UserFactory

DEFAULT = rules.Thresholds()
CALM = rules.Vitals(130, 80, 75, 98, 14)


@pytest.mark.parametrize(
    ("weight", "mg_per_kg", "cap", "dose", "text"),
    [
        (Decimal("74.8"), Decimal("0.50"), None, Decimal("37.4"), "74.8 kg × 0.50 mg/kg = 37.4 mg"),
        (Decimal("81.3"), Decimal("0.50"), None, Decimal("40.7"), "81.3 kg × 0.50 mg/kg = 40.7 mg"),
        (Decimal("60.1"), Decimal("0.75"), None, Decimal("45.1"), "60.1 kg × 0.75 mg/kg = 45.1 mg"),
        (
            Decimal("120.0"),
            Decimal("0.50"),
            Decimal("50.0"),
            Decimal("50.0"),
            "120.0 kg × 0.50 mg/kg = 60.0 mg, capped at 50.0 mg",
        ),
        (Decimal("100.0"), Decimal("0.50"), Decimal("50.0"), Decimal("50.0"), "= 50.0 mg"),
    ],
)
def test_the_dose_is_weight_times_mg_per_kg_capped_and_rounded_with_its_arithmetic(
    weight, mg_per_kg, cap, dose, text
):
    preview = DosePreview.compute(weight, mg_per_kg, cap)

    assert preview.dose_mg == dose
    assert text in preview.arithmetic


def test_the_dose_from_pounds_uses_the_kilogram_conversion():
    kg = scoring.pounds_to_kg(Decimal("165"))

    assert DosePreview.compute(kg, Decimal("0.50"), None).dose_mg == Decimal("37.4")


@pytest.mark.parametrize(
    ("vitals", "expected"),
    [
        (rules.Vitals(180, 80, 75, 98), []),
        (rules.Vitals(181, 80, 75, 98), ["Systolic 181 above 180 mmHg"]),
        (rules.Vitals(150, 110, 75, 98), []),
        (rules.Vitals(150, 111, 75, 98), ["Diastolic 111 above 110 mmHg"]),
        (rules.Vitals(130, 80, 120, 98), []),
        (rules.Vitals(130, 80, 121, 98), ["Pulse 121 above 120/min"]),
        (rules.Vitals(130, 80, 50, 98), []),
        (rules.Vitals(130, 80, 49, 98), ["Pulse 49 below 50/min"]),
        (rules.Vitals(130, 80, 75, 92), []),
        (rules.Vitals(130, 80, 75, 91), ["Oxygen saturation 91% below 92%"]),
    ],
)
def test_each_alert_threshold_edge(vitals, expected):
    assert rules.alerts(vitals, DEFAULT) == expected


def test_thresholds_are_the_locations_own():
    strict = rules.Thresholds(systolic_above=160)

    assert rules.alerts(rules.Vitals(161, 80, 75, 98), strict) == ["Systolic 161 above 160 mmHg"]


ALL_DONE = rules.Discharge(True, True, True)


@pytest.mark.parametrize(
    ("checklist", "latest", "problem"),
    [
        (rules.Discharge(False, True, True), CALM, "alert and oriented"),
        (rules.Discharge(True, False, True), CALM, "escort must be present"),
        (rules.Discharge(True, True, False), CALM, "after-care instructions"),
        (ALL_DONE, None, "Record a set of vitals"),
        (ALL_DONE, rules.Vitals(151, 80, 75, 98), "Systolic 151 vs 130"),
        (ALL_DONE, rules.Vitals(130, 96, 75, 98), "Diastolic 96 vs 80"),
        (ALL_DONE, rules.Vitals(130, 80, 91, 98), "Pulse 91 vs 75"),
        (ALL_DONE, rules.Vitals(130, 80, 75, 95), "SpO2 95% vs 98%"),
    ],
)
def test_discharge_is_refused_until_every_rule_holds(checklist, latest, problem):
    problems = rules.discharge_problems(checklist, latest, CALM)

    assert any(problem in p for p in problems), problems


def test_discharge_allowed_within_the_margins_of_baseline():
    settled = rules.Vitals(150, 95, 90, 96)

    assert rules.discharge_problems(ALL_DONE, settled, CALM) == []


@pytest.mark.parametrize(
    ("before", "after", "category"),
    [
        (10, 7, "moderate"),
        (10, 8, "none"),
        (10, 5, "substantial"),
        (8, 3, "substantial"),
        (0, 0, "none"),
    ],
)
def test_responder_computation(before, after, category):
    assert scoring.pain_response(before, after).category == category


@pytest.mark.django_db
def test_a_nurse_of_another_location_cannot_open_the_chart(login):
    session, _nurse = session_today()
    _other_session, other_nurse = session_today("irvine", "other.chart@example.org")

    response = login(other_nurse).get(reverse("charting:chart", args=[session.public_id]))

    assert response.status_code == 404


# --- The chart over HTTP, on the afternoon of a reported case (a Tuesday, 15:45) -------------


@pytest.fixture
def afternoon():
    """The clock stands at 15:10 in Stamford; tests move it as the afternoon goes on."""
    with time_machine.travel(AFTERNOON, tick=False) as traveller:
        yield traveller


def at(hour: int, minute: int) -> dt.datetime:
    return dt.datetime.combine(AFTERNOON.date(), dt.time(hour, minute), tzinfo=NEW_YORK)


@pytest.fixture
def charted(afternoon, login, settings):
    """A nurse's client on the chart of a session starting at 15:45, and helpers to act."""
    # The clock jumps through the afternoon; the staff idle time-out is not under test here.
    settings.STAFF_IDLE_SECONDS = 24 * 3600
    session, nurse = session_today(starts_in=35, intake_changes=SAFETY_CHANGES, notes=PLAN_NOTE)
    client = login(nurse)
    url = reverse("charting:chart", args=[session.public_id])

    class Chart:
        def __init__(self) -> None:
            self.session, self.nurse, self.client, self.url = session, nurse, client, url

        def post(self, data: dict, *, now: dt.datetime | None = None):
            if now is not None:
                afternoon.move_to(now)
            return client.post(url, data, follow=True)

        def page(self) -> str:
            return client.get(url).content.decode()

        def record(self) -> InfusionRecord:
            return InfusionRecord.objects.get(session=session)

        def check_in(self, **changes: str):
            return self.post(check_in_post(session, **changes))

        def run_until_discharge(self) -> None:
            """Check in 15:10, start 15:16, readings every 15 minutes or sooner, end 15:56,
            recovery readings, discharge 16:30: a chart that signs without a question."""
            self.check_in()
            self.post({"action": "start", "time": ""}, now=at(15, 16))
            self.post(vitals_post(), now=at(15, 30))
            self.post(
                {
                    "action": "observations",
                    "time": "15:35",
                    "side_effects": ["nausea", "dissociation"],
                    "intervention": "Ondansetron 4 mg IV",
                },
                now=at(15, 36),
            )
            self.post(vitals_post(), now=at(15, 45))
            self.post({"action": "end", "time": "", "stopped_early_reason": ""}, now=at(15, 56))
            self.post(vitals_post(), now=at(16, 0))
            self.post(vitals_post(), now=at(16, 15))
            self.post(vitals_post(), now=at(16, 20))
            self.post(DISCHARGE, now=at(16, 30))

    return Chart()


def _text(response) -> str:
    return response.content.decode()


@pytest.mark.django_db
def test_a_nurse_charts_an_infusion_from_check_in_to_discharge(charted):
    session = charted.session
    refused = charted.check_in(
        last_solid_food=(session.local_start() - dt.timedelta(hours=3)).strftime("%H:%M")
    )
    assert "Not fasted" in _text(refused)
    assert not InfusionRecord.objects.exists()

    charted.check_in()
    record = charted.record()
    assert (record.weight_kg, record.dose_mg, record.pain_before) == (
        Decimal("74.8"),
        Decimal("37.4"),
        7,
    )
    session.refresh_from_db()
    assert session.status == Status.CHECKED_IN
    assert "74.8 kg × 0.50 mg/kg = 37.4 mg" in charted.page()

    charted.post({"action": "start", "time": ""}, now=at(15, 16))
    record.refresh_from_db()
    assert record.dose_confirmed_at == record.infusion_started_at == at(15, 16)

    page = _text(charted.post(vitals_post(systolic="185"), now=at(15, 30)))
    assert "Systolic 185 above 180 mmHg" in page
    assert VitalSign.objects.filter(record=record, phase="infusion").get().alerts == [
        "Systolic 185 above 180 mmHg"
    ]

    charted.post({"action": "end", "time": "", "stopped_early_reason": ""}, now=at(15, 56))
    charted.post(vitals_post(), now=at(16, 20))
    refused = charted.post({"action": "discharge", "pain_after": "3"}, now=at(16, 30))
    assert "escort must be present" in _text(refused)
    charted.post(DISCHARGE)

    record.refresh_from_db()
    session.refresh_from_db()
    assert (session.status, record.pain_after, record.discharged_at) == (
        Status.COMPLETED,
        3,
        at(16, 30),
    )
    followup = Message.objects.get(kind="followup", channel="email", status="pending")
    assert followup.send_at == record.discharged_at + dt.timedelta(hours=24)


@pytest.mark.django_db
def test_the_reported_impossible_timeline_is_refused_and_the_session_is_not_completed(charted):
    charted.check_in()
    charted.post({"action": "start", "time": ""}, now=at(15, 16))

    ended = charted.post({"action": "end", "time": "", "stopped_early_reason": ""})
    discharged = charted.post(DISCHARGE, now=at(15, 17))

    assert "40 minutes" in _text(ended) and "reason for stopping early" in _text(ended)
    assert "End the infusion before" in _text(discharged)
    record = charted.record()
    assert record.infusion_ended_at is None and record.discharged_at is None
    charted.session.refresh_from_db()
    assert charted.session.status == Status.IN_CHAIR


@pytest.mark.django_db
def test_an_infusion_cannot_start_before_check_in(charted):
    charted.check_in(time="15:08")

    refused = charted.post({"action": "start", "time": "15:05"}, now=at(15, 12))

    assert "cannot start before check-in at 15:08" in _text(refused)
    assert charted.record().infusion_started_at is None


@pytest.mark.django_db
def test_ending_before_the_planned_minutes_needs_an_early_stop_reason(charted):
    charted.check_in()
    charted.post({"action": "start", "time": ""}, now=at(15, 16))

    refused = charted.post({"action": "end", "time": "15:30"}, now=at(15, 31))
    assert "ran 14 of the planned 40 minutes" in _text(refused)
    assert charted.record().infusion_ended_at is None

    charted.post({"action": "end", "time": "15:30", "stopped_early_reason": "Vomiting"})
    record = charted.record()
    assert (record.infusion_ended_at, record.stopped_early_reason) == (at(15, 30), "Vomiting")


@pytest.mark.django_db
def test_an_infusion_that_ran_its_planned_minutes_ends_without_a_reason(charted):
    charted.check_in()
    charted.post({"action": "start", "time": ""}, now=at(15, 16))

    charted.post({"action": "end", "time": ""}, now=at(15, 56))

    assert charted.record().infusion_ended_at == at(15, 56)


@pytest.mark.django_db
def test_discharge_waits_the_locations_minimum_recovery_unless_the_nurse_gives_a_reason(charted):
    charted.check_in()
    charted.post({"action": "start", "time": ""}, now=at(15, 16))
    charted.post({"action": "end", "time": ""}, now=at(15, 56))
    charted.post(vitals_post(), now=at(16, 10))

    refused = charted.post(DISCHARGE, now=at(16, 11))
    assert "15 minutes after the end; this location asks for 30" in _text(refused)
    assert charted.record().discharged_at is None

    charted.post({**DISCHARGE, "short_recovery_reason": "Ambulance transfer to the ED"})
    record = charted.record()
    assert record.discharged_at == at(16, 11)
    assert record.short_recovery_reason == "Ambulance transfer to the ED"


@pytest.mark.django_db
def test_the_minimum_recovery_is_a_setting_of_the_location(charted):
    Location = type(charted.session.location)
    Location.objects.filter(pk=charted.session.location_id).update(min_recovery_minutes=45)
    charted.check_in()
    charted.post({"action": "start", "time": ""}, now=at(15, 16))
    charted.post({"action": "end", "time": ""}, now=at(15, 56))
    charted.post(vitals_post(), now=at(16, 20))

    refused = charted.post(DISCHARGE, now=at(16, 31))
    assert "35 minutes after the end; this location asks for 45" in _text(refused)
    charted.post(DISCHARGE, now=at(16, 41))
    assert charted.record().discharged_at == at(16, 41)


@pytest.mark.django_db
def test_no_step_may_be_timed_before_the_step_before_it(charted):
    charted.check_in(time="15:10")
    charted.post({"action": "start", "time": ""}, now=at(15, 16))

    early_reading = charted.post(vitals_post(time="15:14", phase="infusion"), now=at(15, 30))
    assert "before the infusion started at 15:16" in _text(early_reading)
    charted.post({"action": "end", "time": "15:57"}, now=at(16, 0))
    recovery_before_end = charted.post(vitals_post(time="15:50", phase="recovery"))
    assert "before the infusion ended at 15:57" in _text(recovery_before_end)
    assert not VitalSign.objects.exclude(phase="baseline").exists()
    charted.post(vitals_post(), now=at(16, 30))
    discharge_before_end = charted.post(
        {**DISCHARGE, "time": "15:55", "short_recovery_reason": "x"}
    )
    assert "before the infusion ended at 15:57" in _text(discharge_before_end)
    assert charted.record().discharged_at is None


@pytest.mark.django_db
def test_late_charting_within_the_day_keeps_taken_at_apart_from_charted_at(charted):
    charted.check_in()
    charted.post({"action": "start", "time": ""}, now=at(15, 16))

    charted.post(vitals_post(time="15:30"), now=at(15, 52))
    future = charted.post(vitals_post(time="16:10"))

    reading = VitalSign.objects.get(phase="infusion")
    assert (reading.taken_at, reading.charted_at) == (at(15, 30), at(15, 52))
    assert "15:30" in charted.page() and "charted 15:52" in charted.page()
    assert "16:10 is later than now" in _text(future)
    assert VitalSign.objects.filter(phase="infusion").count() == 1


@pytest.mark.django_db
def test_late_charting_is_refused_beyond_the_locations_hours_and_after_the_day(charted):
    Location = type(charted.session.location)
    Location.objects.filter(pk=charted.session.location_id).update(late_charting_hours=1)
    charted.check_in()
    charted.post({"action": "start", "time": ""}, now=at(15, 16))

    too_late = charted.post(vitals_post(time="15:20"), now=at(16, 30))
    assert "more than 1 hour ago" in _text(too_late)
    next_day = charted.post(vitals_post(), now=at(15, 30) + dt.timedelta(days=1))
    assert "The day of this session is over" in _text(next_day)
    assert not VitalSign.objects.filter(phase="infusion").exists()


@pytest.mark.django_db
def test_the_whole_record_stays_on_the_chart_after_discharge_and_in_the_print_view(charted):
    charted.run_until_discharge()

    page = charted.page()
    printed = _text(charted.client.get(charted.url + "print/"))

    for text in (
        "Last solid food",
        "08:45",  # 7 h before the 15:45 start
        "Jamie Testperson",
        "203",
        "Pregnancy possible",
        "74.8 kg (164.9 lb)",
        "74.8 kg × 0.50 mg/kg = 37.4 mg",
        "130/80",
        "Pain before",
        "Nausea or vomiting",
        "Feeling unreal, detached or dreamy",
        "Ondansetron 4 mg IV",
        "15:35",
        "Ended 15:56",
        "Alert and oriented",
        "Pain after",
        "Discharged 16:30",
    ):
        assert text in page, text
        assert text in printed, text
    assert "America/New_York" in printed


@pytest.mark.django_db
def test_side_effects_and_interventions_are_kept_with_their_times(charted):
    charted.run_until_discharge()

    rows = list(
        charted.record()
        .observations.order_by("pk")
        .values_list("kind", "side_effect", "text", "at", "charted_at")
    )

    assert rows == [
        ("side_effect", "nausea", "", at(15, 35), at(15, 36)),
        ("side_effect", "dissociation", "", at(15, 35), at(15, 36)),
        ("intervention", "", "Ondansetron 4 mg IV", at(15, 35), at(15, 36)),
    ]


@pytest.mark.django_db
def test_discharge_is_idempotent_and_says_so(charted):
    charted.run_until_discharge()
    record = charted.record()

    again = charted.post({**DISCHARGE, "pain_after": "1"}, now=at(16, 45))

    assert "already discharged at 16:30; nothing changed" in _text(again)
    after = charted.record()
    assert (after.discharged_at, after.pain_after) == (record.discharged_at, 3)
    assert Message.objects.filter(kind="followup", channel="email").count() == 1


@pytest.mark.django_db
def test_a_signed_chart_cannot_change_and_corrections_are_addenda_in_order(charted):
    charted.run_until_discharge()
    charted.post({"action": "sign"}, now=at(16, 35))
    record = charted.record()
    assert (record.signed_at, record.signed_by) == (at(16, 35), charted.nurse)

    refused = charted.post(vitals_post(), now=at(16, 36))
    assert "signed" in _text(refused)
    assert not VitalSign.objects.filter(charted_at=at(16, 36)).exists()
    charted.post({"action": "addendum", "reason": "Wrong value", "text": "Pain after was 4."})
    charted.post(
        {"action": "addendum", "reason": "Late entry", "text": "Escort is the spouse."},
        now=at(16, 50),
    )

    page = charted.page()
    assert page.index("Pain after was 4.") < page.index("Escort is the spouse.")
    assert "Wrong value" in page and "16:36" in page and "16:50" in page
    assert list(record.addenda.values_list("written_by", "written_at", "reason")) == [
        (charted.nurse.pk, at(16, 36), "Wrong value"),
        (charted.nurse.pk, at(16, 50), "Late entry"),
    ]
    assert AuditEvent.objects.filter(record_type="chart_addendum", actor=charted.nurse).count() == 2
    assert charted.record().pain_after == 3


@pytest.mark.django_db
def test_the_database_refuses_changes_to_a_signed_chart_and_to_its_addenda(charted):
    charted.run_until_discharge()
    charted.post({"action": "sign"}, now=at(16, 35))
    charted.post({"action": "addendum", "reason": "Wrong value", "text": "Pain after was 4."})
    record = charted.record()

    for change in (
        lambda: InfusionRecord.objects.filter(pk=record.pk).update(pain_after=0),
        lambda: VitalSign.objects.filter(record=record).update(pulse=60),
        lambda: VitalSign.objects.filter(record=record).delete(),
        lambda: record.observations.update(text="changed"),
        lambda: record.addenda.update(text="changed"),
        lambda: record.addenda.all().delete(),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            change()
    assert charted.record().pain_after == 3


@pytest.mark.django_db
def test_a_chart_is_signed_by_a_nurse_only_after_discharge(charted):
    charted.check_in()

    refused = charted.post({"action": "sign"})

    assert "Discharge the patient before signing" in _text(refused)
    assert charted.record().signed_at is None


@pytest.mark.django_db
def test_a_location_can_require_a_clinicians_co_signature(charted, login):
    Location = type(charted.session.location)
    Location.objects.filter(pk=charted.session.location_id).update(chart_cosign_required=True)
    clinician = UserFactory.create(role=Role.CLINICIAN, email="cosign@example.org")
    clinician.locations.add(charted.session.location)
    charted.run_until_discharge()
    charted.post({"action": "sign"}, now=at(16, 35))
    assert "Waiting for a clinician's co-signature" in charted.page()
    nurse_try = charted.post({"action": "cosign"})
    assert charted.record().cosigned_at is None
    assert nurse_try.status_code in (200, 403)

    doctor = login(clinician)
    queue = doctor.get(reverse("charting:to_cosign")).content.decode()
    assert charted.session.patient.get_full_name() in queue
    doctor.post(charted.url, {"action": "cosign"}, follow=True)

    record = charted.record()
    assert (record.cosigned_by, record.cosigned_at) == (clinician, at(16, 35))
    assert "Co-signed" in charted.page()
    assert (
        charted.session.patient.get_full_name()
        not in doctor.get(reverse("charting:to_cosign")).content.decode()
    )


@pytest.mark.django_db
def test_the_safety_context_heads_every_chart(charted):
    page = charted.page()

    top = page[: page.index("Check-in")]
    for text in (
        "Penicillin",
        "Rash",
        "Duloxetine",
        "Lorazepam",
        "Interacting medicine (benzodiazepine)",
        "Sleep apnoea",
        "No urgent safety flag",
        PLAN_NOTE,
        "First infusion of the series",
    ):
        assert text in top, text


@pytest.mark.django_db
def test_the_safety_context_shows_the_previous_sessions_dose_vitals_and_side_effects(charted):
    charted.run_until_discharge()
    following = next_session(charted.session)

    page = charted.client.get(reverse("charting:chart", args=[following.public_id]))

    text = _text(page)
    top = text[: text.index("Check-in")]
    assert "Previous infusion" in top
    for expected in ("37.4 mg", "130/80", "Nausea or vomiting", "Ondansetron 4 mg IV"):
        assert expected in top, expected


@pytest.mark.django_db
def test_an_open_work_up_prompt_is_a_banner_until_marked_done(charted):
    banner = charted.page()
    assert 'data-testid="work-up-banner"' in banner and "Needs an ECG" in banner

    charted.post({"action": "work_up", "code": "needs_ecg", "note": "ECG normal, 1 March"})

    page = charted.page()
    assert 'data-testid="work-up-banner"' not in page
    assert "ECG normal, 1 March" in page
    from charting.models import WorkUp

    done = WorkUp.objects.get(code="needs_ecg")
    assert (done.done_by, done.done_at) == (charted.nurse, AFTERNOON)
    assert AuditEvent.objects.filter(record_type="work_up", action="update").exists()


@pytest.mark.django_db
def test_the_escort_is_prefilled_from_the_intake_and_can_be_changed(charted):
    page = charted.page()
    assert 'value="Jamie Testperson"' in page

    charted.check_in(escort_name="Robin Example", escort_phone="203 555 0122")

    assert (charted.record().escort_name, charted.record().escort_phone) == (
        "Robin Example",
        "+12035550122",
    )


@pytest.mark.django_db
def test_the_weight_may_be_entered_in_pounds(charted):
    charted.check_in(weight="165", weight_unit="lb")

    record = charted.record()
    # Stored exactly (165 × 0.45359237), the dose computed from it; rounded only to show.
    assert (record.weight_kg, record.dose_mg) == (Decimal("74.842741050"), Decimal("37.4"))
    assert "165.0 lb (74.8 kg)" in charted.page()


@pytest.mark.django_db
def test_every_message_is_in_plain_words(charted):
    refused = _text(
        charted.check_in(systolic="400", weight="700", weight_unit="lb", pulse="", spo2="abc")
    )

    assert "Ensure this value" not in refused and "This field is required" not in refused
    assert "Enter a whole number" not in refused
    assert "A systolic pressure of 400 mmHg is not plausible" in refused
    assert "Weight must be between 30 and 300 kg" in refused
    assert "Enter the pulse" in refused
    assert "Enter the oxygen saturation as a whole number" in refused
    assert not InfusionRecord.objects.exists()


@pytest.mark.django_db
def test_the_phase_defaults_to_the_current_one(charted):
    charted.check_in()
    charted.post({"action": "start", "time": ""}, now=at(15, 16))
    assert 'value="infusion" checked' in charted.page() or re.search(
        r'value="infusion"[^>]*checked', charted.page()
    )

    charted.post(vitals_post(), now=at(15, 30))  # no phase posted: the current one
    charted.post({"action": "end", "time": ""}, now=at(15, 56))
    charted.post(vitals_post(), now=at(16, 5))

    assert re.search(r'value="recovery"[^>]*checked', charted.page())
    assert list(VitalSign.objects.order_by("taken_at").values_list("phase", flat=True)) == [
        "baseline",
        "infusion",
        "recovery",
    ]


@pytest.mark.django_db
def test_the_alert_banner_follows_the_latest_reading(charted):
    charted.check_in()
    charted.post({"action": "start", "time": ""}, now=at(15, 16))
    alarmed = _text(charted.post(vitals_post(systolic="186"), now=at(15, 30)))
    assert 'data-testid="vital-alerts"' in alarmed

    charted.post(vitals_post(systolic="134"), now=at(15, 45))

    page = charted.page()
    assert 'data-testid="vital-alerts"' not in page
    assert "Systolic 186 above 180 mmHg" in page  # still marked in the flowsheet


@pytest.mark.django_db
def test_a_nurse_of_another_location_cannot_open_the_print_view(login):
    session, _nurse = session_today()
    _other, other_nurse = session_today("irvine", "other.print@example.org")

    response = login(other_nurse).get(reverse("charting:print", args=[session.public_id]))

    assert response.status_code == 404


@pytest.mark.django_db
def test_the_dose_is_computed_from_the_exact_weight_and_rounded_only_to_show(charted):
    charted.check_in(weight="300", weight_unit="lb")

    record = charted.record()
    assert record.dose_mg == Decimal("68.0")  # 136.077711 kg × 0.5, not 136.1 × 0.5 = 68.1
    page = charted.page()
    assert "136.08 kg × 0.50 mg/kg = 68.0 mg" in page
    assert "300.0 lb" in page


@pytest.mark.django_db
def test_a_weight_in_pounds_is_shown_back_as_it_was_weighed(charted):
    charted.check_in(weight="176", weight_unit="lb")

    page = charted.page()
    assert "176.0 lb" in page and "175.9 lb" not in page
    assert charted.record().dose_mg == Decimal("39.9")  # 79.832 kg × 0.5


@pytest.mark.django_db
def test_the_printed_record_names_the_drug_the_birth_date_and_a_record_number(charted):
    charted.check_in(escort_phone="203 555 0122")
    session = charted.session
    session.location.phone = "+12035550100"
    session.location.save()

    html = charted.client.get(reverse("charting:print", args=[session.public_id])).content
    html = html.decode()

    born = session.patient.patient_profile.date_of_birth
    assert f"Born {born:%-d %b %Y}" in html
    assert f"Record no. {session.patient.record_number}" in html
    assert "ketamine" in html
    assert "(203) 555-0122" in html and "+12035550122" not in html
    assert session.series.plan.drug == "ketamine"


def _chart_with_gaps(charted) -> None:
    """Checked in at 15:10 for a session booked at 18:45; one reading in 50 minutes; an SBP
    185 alert at 15:30 with nothing after it; discharged at 16:30."""
    session = charted.session
    late = session.starts_at + dt.timedelta(hours=3)
    Session.objects.filter(pk=session.pk).update(
        starts_at=late,
        setup_ends_at=late + dt.timedelta(minutes=15),
        ends_at=late + dt.timedelta(minutes=100),
    )
    session.refresh_from_db()
    charted.check_in()
    charted.post({"action": "start", "time": ""}, now=at(15, 16))
    charted.post(vitals_post(systolic="185"), now=at(15, 30))
    charted.post({"action": "end", "time": "", "stopped_early_reason": ""}, now=at(15, 56))
    charted.post(vitals_post(), now=at(16, 20))
    charted.post(DISCHARGE, now=at(16, 30))


@pytest.mark.django_db
def test_signing_names_what_the_record_misses_and_an_incomplete_chart_needs_a_co_signer(
    charted,
):
    _chart_with_gaps(charted)
    colleague = UserFactory.create(role=Role.NURSE, email="second.nurse@example.org")
    colleague.locations.add(charted.session.location)

    refused = _text(charted.post({"action": "sign"}, now=at(16, 35)))

    assert charted.record().signed_at is None
    assert "No vitals for 50 minutes, 15:30 to 16:20 (due every 15 minutes)." in refused
    assert "The 15:30 reading (Systolic 185 above 180 mmHg) has no intervention or note" in refused
    assert "Checked in at 15:10, 3 h 35 min before the booked 18:45: say why." in refused

    explained = _text(charted.post({"action": "sign", "timing_reason": "Came early; chair free"}))
    assert charted.record().signed_at is None
    assert "a co-signer" in explained

    charted.post(
        {
            "action": "sign",
            "timing_reason": "Came early; chair free",
            "cosigner": str(colleague.pk),
            "cosigner_reason": "Monitor failed; readings kept on paper, scanned.",
        }
    )
    record = charted.record()
    assert (record.signed_by, record.incomplete_cosigner) == (charted.nurse, colleague)
    assert record.incomplete_reason == "Monitor failed; readings kept on paper, scanned."
    assert record.timing_reason == "Came early; chair free"
    assert len(record.signed_gaps) == 2
    page = charted.page()
    assert "Signed incomplete, with Second" in page or "co-signed by" in page.lower()


@pytest.mark.django_db
def test_a_complete_chart_with_its_alert_answered_signs_without_a_question(charted):
    charted.check_in()
    charted.post({"action": "start", "time": ""}, now=at(15, 16))
    charted.post(vitals_post(systolic="185"), now=at(15, 30))
    charted.post(
        {"action": "observations", "time": "15:33", "intervention": "Rechecked: 168/90, calm"},
        now=at(15, 34),
    )
    charted.post(vitals_post(), now=at(15, 45))
    charted.post({"action": "end", "time": "", "stopped_early_reason": ""}, now=at(15, 56))
    charted.post(vitals_post(), now=at(16, 0))
    charted.post(vitals_post(), now=at(16, 15))
    charted.post(DISCHARGE, now=at(16, 30))

    charted.post({"action": "sign"}, now=at(16, 35))

    record = charted.record()
    assert record.signed_by == charted.nurse
    assert (record.signed_gaps, record.incomplete_cosigner) == ([], None)


@pytest.mark.django_db
def test_the_discharge_that_completes_the_nth_session_asks_for_the_follow_up_visit(charted):
    """docs/visits.md#follow-up-after-n-sessions: the discharge is where a session completes."""
    from worklist.models import Cause, Task

    location = charted.session.location
    location.follow_up_after_sessions = 1
    location.save(update_fields=["follow_up_after_sessions"])
    charted.run_until_discharge()
    task = Task.objects.get(cause=Cause.FOLLOW_UP_DUE)
    assert task.link.startswith(
        reverse("scheduling:book_visit", args=[charted.session.patient.public_id])
    )
