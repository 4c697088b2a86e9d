"""When a Good Faith Estimate is due, in business days at the location
(docs/paperwork.md#deadlines): weekends, a public holiday (Thanksgiving 2026, Thursday 26
November) and a closure left out; the 3- and 10-business-day boundaries; the sweep that puts an
owed estimate on the desk's worklist as its deadline nears and once it passes."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from locations.models import Closure
from paperwork import deadlines, sweep
from paperwork.models import Estimate, EstimateDue, Reason
from tests.paperwork_data import add_prices, set_up_billing
from tests.scheduling_data import approved_plan, make_location
from worklist.models import Cause, Task

pytestmark = pytest.mark.django_db

D = dt.date


@pytest.fixture
def location():
    return make_location(holiday_country="US", shifts_from=D(2026, 11, 1), shift_days=1)


def test_business_days_skip_weekends_and_the_public_holiday(location):
    days = deadlines.business_days(location, D(2026, 11, 20), D(2026, 11, 30))
    assert days == [
        D(2026, 11, 20),
        D(2026, 11, 23),
        D(2026, 11, 24),
        D(2026, 11, 25),
        D(2026, 11, 27),  # Thursday 26 is Thanksgiving
        D(2026, 11, 30),
    ]


def test_a_closure_of_the_location_is_no_business_day(location):
    Closure.objects.create(
        location=location, starts_on=D(2026, 11, 24), ends_on=D(2026, 11, 24), reason="Training"
    )
    assert deadlines.add_business_days(location, D(2026, 11, 23), 1) == D(2026, 11, 25)


def test_one_business_day_after_a_friday_is_the_monday(location):
    # Friday 20 Nov, service Wednesday 25 Nov: exactly 3 business days away (Mon, Tue, Wed).
    assert deadlines.due_after_scheduling(location, D(2026, 11, 20), D(2026, 11, 25)) == D(
        2026, 11, 23
    )


def test_under_three_business_days_away_it_is_due_on_the_services_day(location):
    # Friday 20 Nov, service Tuesday 24 Nov: 2 business days away; the rule sets no deadline.
    assert deadlines.due_after_scheduling(location, D(2026, 11, 20), D(2026, 11, 24)) == D(
        2026, 11, 24
    )


def test_the_holiday_moves_the_one_business_day_deadline(location):
    # Wednesday 25 Nov, service Tuesday 1 Dec (Fri 27, Mon 30, Tue 1: 3 business days).
    assert deadlines.due_after_scheduling(location, D(2026, 11, 25), D(2026, 12, 1)) == D(
        2026, 11, 27
    )


def test_ten_business_days_away_gives_three_business_days(location):
    # Monday 16 Nov: the 10th business day after is Tuesday 1 Dec (Thanksgiving skipped).
    assert deadlines.add_business_days(location, D(2026, 11, 16), 10) == D(2026, 12, 1)
    assert deadlines.due_after_scheduling(location, D(2026, 11, 16), D(2026, 12, 1)) == D(
        2026, 11, 19
    )
    # One calendar day less and it is 9 business days: 1 business day.
    assert deadlines.due_after_scheduling(location, D(2026, 11, 16), D(2026, 11, 30)) == D(
        2026, 11, 17
    )


def test_a_request_is_due_within_three_business_days(location):
    assert deadlines.due_after_request(location, D(2026, 11, 25)) == D(2026, 12, 1)


def test_a_reissue_is_due_no_later_than_the_business_day_before_the_service(location):
    # Changed Friday 20 Nov for a service on Monday 23: due that Friday.
    assert deadlines.due_after_change(location, D(2026, 11, 20), D(2026, 11, 23)) == D(2026, 11, 20)
    # Changed Monday 16 Nov for a service on 1 Dec: one business day after.
    assert deadlines.due_after_change(location, D(2026, 11, 16), D(2026, 12, 1)) == D(2026, 11, 17)


def test_the_desk_sees_an_owed_estimate_as_its_deadline_nears_and_then_it_is_issued(location):
    plan = approved_plan("owed@example.org", location, infusions=2)
    set_up_billing(location, plan.approved_by)
    from billing.models import PriceLine

    PriceLine.objects.filter(location=location).delete()  # no prices: it cannot be issued
    due = EstimateDue.objects.create(
        patient=plan.patient,
        location=location,
        reason=Reason.REQUESTED,
        due_on=D(2026, 11, 27),
    )
    about = f"patient:{plan.patient.pk}"
    with time_machine.travel(dt.datetime(2026, 11, 20, 15, tzinfo=dt.UTC), tick=False):
        assert sweep.open_estimate_tasks() == 0  # a week ahead: not yet
    assert not Task.objects.filter(cause=Cause.ESTIMATE_DUE).exists()
    with time_machine.travel(dt.datetime(2026, 11, 25, 15, tzinfo=dt.UTC), tick=False):
        assert sweep.open_estimate_tasks() == 1  # 1 business day before (Thanksgiving between)
    task = Task.objects.open().get(cause=Cause.ESTIMATE_DUE, about=about)
    assert not task.urgent and "No prices" in task.detail
    assert plan.patient.email not in task.subject
    with time_machine.travel(dt.datetime(2026, 11, 30, 15, tzinfo=dt.UTC), tick=False):
        sweep.open_estimate_tasks()  # past the deadline: still shown
    assert Task.objects.open().filter(cause=Cause.ESTIMATE_DUE, about=about).count() == 1

    add_prices(location)
    sweep.open_estimate_tasks()

    due.refresh_from_db()
    assert due.estimate is not None and Estimate.objects.filter(patient=plan.patient).exists()
    assert not Task.objects.open().filter(cause=Cause.ESTIMATE_DUE).exists()
