"""What follows for the money when scheduling changes a booking, a session's or a visit's
(the billing hook that `BillingConfig.ready` registers with scheduling.hooks;
docs/payments.md#how-money-flows).

A series keeps the policy it was booked under (one snapshot per series; its sessions are
charged by it). Everything here runs inside scheduling's transaction and writes rows only.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext

from billing import gateway, services
from billing.models import AcceptedPolicy, Appointment, Charge, ChargeState, Purpose, Service
from scheduling import services as scheduling
from scheduling.links import patient_language
from scheduling.models import Series, Session, Status, Visit, VisitStatus

logger = logging.getLogger(__name__)


def policy_of_session(session: Session) -> AcceptedPolicy | None:
    """The policy the session's series accepted (or the session's own, if it has one)."""
    return services.accepted(Appointment.SESSION, session.public_id) or services.accepted(
        Appointment.SERIES, session.series.public_id
    )


def booking_terms(location_id: int, patient: Any) -> str:
    """What the booking page shows before "Book": the same words the snapshot keeps."""
    return str(services.quote(location_id, Service.INFUSION, patient_language(patient))["wording"])


def payment_first(location_id: int, patient: Any) -> bool:
    policy = services.current_fee_policy(location_id)
    if not policy.require_payment_online:
        return False
    return not services.has_credit(patient.pk, location_id, Service.INFUSION)


def confirmation_blocker(series: Series) -> str:
    """An online series at a location that wants payment first waits for its deposit."""
    deposit = services.deposit_of(Appointment.SERIES, series.public_id)
    if deposit is None or deposit.state in (ChargeState.SUCCEEDED, ChargeState.WAIVED):
        return ""
    policy = services.current_fee_policy(series.location_id)
    if not policy.require_payment_online:
        return ""
    return gettext("The deposit of %(amount)s is not paid yet; confirm once it is.") % {
        "amount": deposit.money()
    }


def on_deposit_paid(deposit: Charge) -> None:
    """A series booked online confirms itself when its deposit is paid, through scheduling's
    confirmation (the patient's messages as for the desk's Confirm, the desk's task closed).

    The rule for a deposit paid too late: a series the desk declined, or the patient cancelled,
    before the payment is refunded in full; one already confirmed keeps it
    (docs/payments.md#deposits-and-packages-before-confirmation). Called after the payment's
    commit, once per payment (its ledger row is written once)."""
    if deposit.appointment_kind != Appointment.SERIES:
        return
    series = Series.objects.filter(public_id=deposit.appointment_id).first()
    if series is None:
        return
    if series.is_awaiting_desk:
        try:
            scheduling.confirm_self_booked(series, by=None)
        except scheduling.InvalidTransition:
            # The desk decided at the same moment; a declined series is refunded below.
            series.refresh_from_db()
    if series.status == Series.SeriesStatus.CANCELLED:
        try:
            services.refund_in_full(deposit, reason="deposit paid after the series was released")
        except (gateway.Unreachable, gateway.PaymentsOff, services.BillingError):
            # The payment stays on the patient page, where an admin refunds it.
            logger.warning("deposit refund failed for charge %s", deposit.public_id)


def on_series_booked(series: Series) -> None:
    policy = services.accept_policy(
        Appointment.SERIES,
        series.public_id,
        patient=series.patient,
        location=series.location,
        service=Service.INFUSION,
        language=patient_language(series.patient),
    )
    if series.booked_by_id == series.patient_id:
        # Booked online: the deposit, unless a package already pays for the sessions.
        services.take_deposit(
            Appointment.SERIES,
            series.public_id,
            patient=series.patient,
            location_id=series.location_id,
            policy=policy,
        )


def on_sessions_cancelled(sessions: list[Session]) -> None:
    """A cancellation owes the accepted fee when it falls within the window the booking
    accepted, whatever scheduling's fixed 24 hours say: a 48- or 72-hour window widens what is
    late for that booking, a 12-hour one narrows it (docs/payments.md#the-accepted-policy).

    Scheduling calls this for the cancellations of `cancel_sessions` only (the patient's, or
    the desk's on their behalf); a series the clinic declines or releases never comes here."""
    for session in sessions:
        if session.status not in (Status.LATE_CANCELLED, Status.CANCELLED):
            continue
        policy = policy_of_session(session)
        if policy is None:
            continue
        at = session.status_changed_at
        if session.starts_at - at > dt.timedelta(hours=policy.late_cancel_window_hours):
            continue
        services.schedule_fee(
            Purpose.LATE_CANCEL,
            Appointment.SESSION,
            session.public_id,
            patient=session.patient_id,
            location_id=session.location_id,
            policy=policy,
            at=at,
        )


def on_no_show(session: Session) -> None:
    policy = policy_of_session(session)
    if policy is None:
        return
    services.schedule_fee(
        Purpose.NO_SHOW,
        Appointment.SESSION,
        session.public_id,
        patient=session.patient_id,
        location_id=session.location_id,
        policy=policy,
        at=timezone.now(),
    )


def on_session_completed(session: Session) -> None:
    policy = policy_of_session(session)
    if policy is None:
        return
    services.charge_completed(
        Appointment.SESSION,
        session.public_id,
        patient=session.patient_id,
        location_id=session.location_id,
        policy=policy,
        less=_deposit_to_apply(session),
    )


def _deposit_to_apply(session: Session) -> int:
    """A paid deposit counts towards the series' first completed session, once."""
    deposit = services.deposit_of(Appointment.SERIES, session.series.public_id)
    if deposit is None or deposit.state != ChargeState.SUCCEEDED:
        return 0
    others = session.series.sessions.exclude(pk=session.pk).values_list("public_id", flat=True)
    applied = Charge.objects.filter(
        purpose=Purpose.APPOINTMENT,
        appointment_kind=Appointment.SESSION,
        appointment_id__in=list(others),
    ).exists()
    return 0 if applied else deposit.amount


# --- Visits: the same rules through the generic appointment reference
# (docs/payments.md#appointments) ------------------------------------------------------------


def on_visit_booked(visit: Visit) -> None:
    """A visit keeps the policy it was booked under: its kind's price (an evaluation or a
    follow-up) and the location's fees, in the patient's language."""
    services.accept_policy(
        Appointment.VISIT,
        visit.public_id,
        patient=visit.patient,
        location=visit.location,
        service=visit.kind,  # VisitKind's values are billing.Service's
        language=patient_language(visit.patient),
    )


def on_visit_cancelled(visit: Visit) -> None:
    """A visit cancelled within the accepted window owes the accepted late-cancellation fee,
    due after the grace period (visits have no late-cancelled status: the window decides)."""
    policy = services.accepted(Appointment.VISIT, visit.public_id)
    if policy is None or visit.status != VisitStatus.CANCELLED:
        return
    at = visit.status_changed_at
    if visit.starts_at - at > dt.timedelta(hours=policy.late_cancel_window_hours):
        return
    services.schedule_fee(
        Purpose.LATE_CANCEL,
        Appointment.VISIT,
        visit.public_id,
        patient=visit.patient_id,
        location_id=visit.location_id,
        policy=policy,
        at=at,
    )


def on_visit_outcome(visit: Visit) -> None:
    """A held visit is charged like a completed session (package credit only from a package
    of the visit's own kind); a missed one takes the accepted no-show fee after the grace
    period."""
    policy = services.accepted(Appointment.VISIT, visit.public_id)
    if policy is None:
        return
    if visit.status == VisitStatus.HELD:
        services.charge_completed(
            Appointment.VISIT,
            visit.public_id,
            patient=visit.patient_id,
            location_id=visit.location_id,
            policy=policy,
        )
    elif visit.status == VisitStatus.NO_SHOW:
        services.schedule_fee(
            Purpose.NO_SHOW,
            Appointment.VISIT,
            visit.public_id,
            patient=visit.patient_id,
            location_id=visit.location_id,
            policy=policy,
            at=visit.status_changed_at,
        )
