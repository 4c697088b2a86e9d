"""What follows for the money when scheduling changes a booking (the billing hook that
`BillingConfig.ready` registers with scheduling.hooks; docs/payments.md#how-money-flows).

A series keeps the policy it was booked under (one snapshot per series; its sessions are
charged by it). Everything here runs inside scheduling's transaction and writes rows only.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from billing import services
from billing.models import AcceptedPolicy, Appointment, Purpose, Service
from scheduling.links import patient_language
from scheduling.models import Series, Session, Status


def policy_of_session(session: Session) -> AcceptedPolicy | None:
    """The policy the session's series accepted (or the session's own, if it has one)."""
    return services.accepted(Appointment.SESSION, session.public_id) or services.accepted(
        Appointment.SERIES, session.series.public_id
    )


def on_series_booked(series: Series) -> None:
    services.accept_policy(
        Appointment.SERIES,
        series.public_id,
        patient=series.patient,
        location=series.location,
        service=Service.INFUSION,
        language=patient_language(series.patient),
    )


def on_sessions_cancelled(sessions: list[Session]) -> None:
    """A late cancellation owes the accepted fee when it falls within the accepted window."""
    for session in sessions:
        if session.status != Status.LATE_CANCELLED:
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
    )
