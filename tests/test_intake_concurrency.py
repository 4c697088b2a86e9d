"""A patient with two tabs: saving a step while the same version is being submitted.

Every step save takes the intake's row lock first, as a submit does; the answers trigger stays as
a guard in the database. These tests hold one side's transaction open on a real second connection
and check the other side waits, then sees what the first committed.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.utils.datastructures import MultiValueDict

from accounts.models import Role
from intake import services
from intake.models import Intake, IntakeAnswer
from intake.samples import fill_intake, sample_steps
from intake.steps import STEP_BY_SLUG
from tests.factories import LocationFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def draft() -> Intake:
    LocationFactory.create(slug="stamford", name="Stamford")
    return fill_intake(UserFactory.create(role=Role.PATIENT))


def _pain_form(intake: Intake, pain_now: int) -> tuple:
    """The pain step and its answers, validated by its form (save_step takes the answers)."""
    step = STEP_BY_SLUG["pain"]
    fields = {**sample_steps()["pain"], "pain_now": str(pain_now)}
    form = step.form_class(MultiValueDict({k: [v] for k, v in fields.items()}), intake=intake)
    assert form.is_valid(), form.errors
    return step, form.answers()


def _stored_pain(intake: Intake) -> int:
    return IntakeAnswer.objects.get(intake=intake, step="pain").data["pain_now"]


def _wait_until_a_connection_waits_on_a_lock() -> None:
    deadline = time.monotonic() + 20
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the other connection never waited on the intake's lock")


def _in_thread(work) -> tuple[threading.Thread, list[Any]]:
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(work())
        except Exception as error:  # asserted by the caller
            outcome.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_a_step_saved_during_a_submit_waits_for_it_and_is_refused(draft):
    step, form = _pain_form(draft, pain_now=2)
    submitting = threading.Event()
    release = threading.Event()

    def submit_slowly() -> Intake:
        with transaction.atomic():
            submitted = services.submit(Intake.objects.get(pk=draft.pk))
            submitting.set()
            release.wait(20)
        return submitted

    submitter, submitted = _in_thread(submit_slowly)
    assert submitting.wait(20)
    saver, saved = _in_thread(lambda: services.save_step(draft, step, form))
    _wait_until_a_connection_waits_on_a_lock()
    assert not saved, "the save did not wait for the submit"
    release.set()
    submitter.join(30)
    saver.join(30)

    assert isinstance(saved[0], services.NotADraft)
    intake = Intake.objects.get(pk=draft.pk)
    assert intake.status == Intake.Status.SUBMITTED
    assert _stored_pain(intake) == 6  # the scored version is what was submitted
    assert intake.scores == submitted[0].scores
    assert intake.scores["pain"]["pain_now"] == 6


def test_a_submit_during_a_step_save_waits_and_scores_the_saved_answer(draft):
    step, form = _pain_form(draft, pain_now=2)
    saving = threading.Event()
    release = threading.Event()

    def save_slowly() -> None:
        with transaction.atomic():
            services.save_step(draft, step, form)
            saving.set()
            release.wait(20)

    saver, saved = _in_thread(save_slowly)
    assert saving.wait(20)
    submitter, submitted = _in_thread(lambda: services.submit(Intake.objects.get(pk=draft.pk)))
    _wait_until_a_connection_waits_on_a_lock()
    assert not submitted, "the submit did not wait for the save"
    release.set()
    saver.join(30)
    submitter.join(30)

    assert saved == [None]
    intake = Intake.objects.get(pk=draft.pk)
    assert intake.status == Intake.Status.SUBMITTED
    assert _stored_pain(intake) == 2
    assert submitted[0].scores == intake.scores
    assert intake.scores["pain"]["pain_now"] == 2  # scored from the answer saved first


def test_tabs_saving_a_step_for_the_first_time_at_once_leave_one_row():
    LocationFactory.create(slug="stamford", name="Stamford")
    intake = services.start_draft(UserFactory.create(role=Role.PATIENT))
    forms = [_pain_form(intake, pain_now=n) for n in range(8)]
    barrier = threading.Barrier(8)

    def save(n: int) -> None:
        barrier.wait()
        services.save_step(intake, *forms[n])

    threads = [_in_thread(lambda n=n: save(n)) for n in range(8)]
    for thread, _outcome in threads:
        thread.join(30)

    assert [outcome for _thread, outcome in threads] == [[None]] * 8
    assert IntakeAnswer.objects.filter(intake=intake, step="pain").count() == 1
    assert _stored_pain(intake) in range(8)


def test_the_database_refuses_a_new_answer_on_a_submitted_version(draft):
    submitted = services.submit(draft)

    with pytest.raises(IntegrityError, match="cannot change"), transaction.atomic():
        IntakeAnswer.objects.create(intake=submitted, step="extra", instrument="x")
    with pytest.raises(IntegrityError, match="cannot change"), transaction.atomic():
        IntakeAnswer.objects.filter(intake=submitted, step="pain").delete()
    with pytest.raises(IntegrityError, match="another intake"), transaction.atomic():
        IntakeAnswer.objects.filter(intake=submitted, step="pain").update(
            intake=services.start_draft(UserFactory.create(role=Role.PATIENT))
        )
    # The app's own paths turn the refusal into NotADraft and change nothing.
    step, form = _pain_form(draft, pain_now=1)
    with pytest.raises(services.NotADraft):
        services.save_step(draft, step, form)
    with pytest.raises(services.NotADraft):
        services.save_unfinished(draft, step, {"pain_now": ["eleven"]})
    assert _stored_pain(submitted) == 6
    assert IntakeAnswer.objects.get(intake=submitted, step="pain").raw == {}
    assert not IntakeAnswer.objects.filter(intake=submitted, step="extra").exists()


def test_an_unfinished_save_of_a_locking_step_waits_for_a_valid_save_of_it(draft):
    """Both write the about step's row: each takes the intake's lock before the row, so the
    unfinished save waits for the valid one instead of the two deadlocking."""
    about = STEP_BY_SLUG["about"]
    locked = threading.Event()
    release = threading.Event()

    def valid_save_slowly() -> None:
        with transaction.atomic():
            services._lock_draft(draft)
            locked.set()
            release.wait(20)
            services._write_answer(draft, about, data={"checked": True}, raw={})

    saver, saved = _in_thread(valid_save_slowly)
    assert locked.wait(20)
    typer, typed = _in_thread(
        lambda: services.save_unfinished(draft, about, {"legal_first_name": [""]})
    )
    _wait_until_a_connection_waits_on_a_lock()
    release.set()
    saver.join(30)
    typer.join(30)

    assert saved == [None]
    assert typed == [None]
    answer = IntakeAnswer.objects.get(intake=draft, step="about")
    assert answer.data == {"checked": True}
    assert answer.raw == {"legal_first_name": [""]}
    assert answer.completed_at is None


def test_a_first_save_that_meets_another_tabs_new_row_updates_it():
    """The other tab's INSERT is not yet committed: this save waits on the intake's lock, then
    finds the committed row and updates it (one row, the later answer)."""
    LocationFactory.create(slug="stamford", name="Stamford")
    intake = services.start_draft(UserFactory.create(role=Role.PATIENT))
    step, first = _pain_form(intake, pain_now=1)
    _step, second = _pain_form(intake, pain_now=9)
    inserted = threading.Event()
    release = threading.Event()

    def insert_slowly() -> None:
        with transaction.atomic():
            services.save_step(intake, step, first)
            inserted.set()
            release.wait(20)

    other_tab, other = _in_thread(insert_slowly)
    assert inserted.wait(20)
    this_tab, this = _in_thread(lambda: services.save_step(intake, step, second))
    _wait_until_a_connection_waits_on_a_lock()
    release.set()
    other_tab.join(30)
    this_tab.join(30)

    assert other == [None]
    assert this == [None]
    assert IntakeAnswer.objects.filter(intake=intake, step="pain").count() == 1
    assert _stored_pain(intake) == 9
