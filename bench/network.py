"""A clinic network at scale for the page benchmarks: 3 locations, 20,000 patients with
submitted intakes, 200,000 sessions over two years (one year back, one ahead), their messages and
audit rows, loaded with bulk inserts.

    python -m bench.network [--scale 1.0]
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

from bench.harness import django_environment, report

SESSIONS = 200_000
LOCATIONS = 3


def build(scale: float = 1.0) -> dict[str, int]:
    from django.db import connection
    from django.utils import timezone

    from audit.models import AuditEvent
    from bench.generate import busy_location
    from intake.models import Intake
    from notifications.models import Message
    from scheduling.models import Session

    per_location = int(SESSIONS * scale / LOCATIONS)
    locations = [
        busy_location(
            sessions=per_location, days_before=365, days_after=365, seed=seed, prefix="net"
        )
        for seed in range(LOCATIONS)
    ]
    scores = {
        "acr_2016": {
            "wpi": 9,
            "sss": 7,
            "regions_with_pain": ["left_upper", "right_upper", "axial", "left_lower"],
            "generalized_pain": True,
            "severity_threshold_met": True,
            "duration_met": True,
            "criteria_met": True,
            "polysymptomatic_distress": 16,
        },
        "phq9": {"total": 11, "band": "moderate", "item9": 0, "self_harm_flag": False},
        "gad7": {"total": 8, "band": "mild"},
        "peg": "6.3",
        "pain": {"pain_now": 6, "pain_average": 7, "pain_worst": 9},
        "measurements": {"weight_kg": "74.8", "height_cm": "167.6", "bmi": "26.6"},
    }
    Intake.objects.filter(location__in=locations).update(scores=scores, flags=[])
    now = timezone.now()
    for location in locations:
        rows, events = [], []
        for session in (
            Session.objects.filter(location=location)
            .values("pk", "patient_id", "starts_at", "ends_at", "public_id")
            .iterator(chunk_size=5000)
        ):
            for kind, at in (
                ("reminder", session["starts_at"] - dt.timedelta(hours=24)),
                ("followup", session["ends_at"] + dt.timedelta(hours=24)),
            ):
                rows.append(
                    Message(
                        channel="email",
                        kind=kind,
                        group=f"session:{session['pk']}",
                        recipient="patient@example.org",
                        subject="Your appointment",
                        body_text="Hello",
                        send_at=at,
                        status="sent" if at < now else "pending",
                        sent_at=at if at < now else None,
                    )
                )
            events.append(
                AuditEvent(
                    at=session["starts_at"],
                    action="read",
                    record_type="infusion",
                    record_id=str(session["public_id"]),
                    patient_id=session["patient_id"],
                )
            )
        Message.objects.bulk_create(rows, batch_size=10_000)
        AuditEvent.objects.bulk_create(events, batch_size=10_000)
    # As a running network's tables are: vacuumed and analysed, so the first benchmark after a
    # build does not meet autovacuum working through a million new rows.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    return {
        "locations": len(locations),
        "sessions": Session.objects.filter(location__in=locations).count(),
        "patients": Intake.objects.filter(location__in=locations).count(),
        "messages": Message.objects.count(),
        "audit_events": AuditEvent.objects.count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    with django_environment():
        started = time.perf_counter()
        counts = build(args.scale)
        seconds = round(time.perf_counter() - started, 1)
        print(f"generated {counts} in {seconds} s")
        report("network", {**counts, "seconds": seconds, "scale": args.scale})


if __name__ == "__main__":
    main()
