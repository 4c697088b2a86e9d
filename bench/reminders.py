"""Reminder dispatch benchmark: 10,000 due messages through the outbox, worker and beat.

Messages (a quarter of them texts) are made due at once; the normal Celery worker (prefork, one
process per core) and beat run against the same PostgreSQL and Redis; email goes over SMTP to a
real SMTP server on loopback (aiosmtpd, bench/smtp_peer.py) that counts every message it
receives and never de-duplicates; texts go to the file backend, which records every delivery.
The first dispatch is sent the way a booking sends it (beat then keeps ticking every minute).
Reports deliveries per second from that first dispatch to the last one recorded, and counts
what was lost or delivered twice from what the SMTP peer and the SMS file received.

    python -m bench.reminders [--messages 10000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.harness import django_environment, report
from bench.smtp_peer import SmtpPeer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    args = parser.parse_args()

    with django_environment(), tempfile.TemporaryDirectory() as scratch:
        from django.utils import timezone

        from notifications.models import Message
        from notifications.tasks import dispatch_due

        Message.objects.filter(group__startswith="bench:").delete()
        now = timezone.now()
        Message.objects.bulk_create(
            (
                Message(
                    channel="sms" if n % 4 == 0 else "email",
                    kind="bench",  # written complete: no resolver, delivery only
                    group=f"bench:{n}",
                    recipient="+12035550100" if n % 4 == 0 else f"patient{n}@example.org",
                    subject="Reminder: your appointment tomorrow",
                    body_text="Hello, this is a reminder of your appointment tomorrow at 9:00 AM.",
                    body_html="<p>Hello, this is a reminder of your appointment tomorrow.</p>",
                    send_at=now - dt.timedelta(seconds=1),
                )
                for n in range(args.messages)
            ),
            batch_size=5000,
        )
        sms = Path(scratch) / "sms"
        peer = SmtpPeer().start()
        env = {
            **os.environ,
            **peer.env(),
            "SMS_BACKEND": "notifications.backends.FileSmsBackend",
            "SMS_FILE_PATH": str(sms),
            "CELERY_BEAT_SCHEDULE_FILENAME": str(Path(scratch) / "beat-schedule"),
            "LOG_LEVEL": "WARNING",
        }
        celery = [sys.executable, "-m", "celery", "-A", "clinic"]
        with open(Path(scratch) / "worker.log", "wb") as log:
            worker = subprocess.Popen(
                [
                    *celery,
                    "worker",
                    "--concurrency",
                    str(os.cpu_count() or 2),
                    "--loglevel",
                    "WARNING",
                    "--without-mingle",
                    "--without-gossip",
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            beat = subprocess.Popen(
                [*celery, "beat", "--loglevel", "WARNING"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            time.sleep(5)  # both processes up
            started = time.perf_counter()
            dispatch_due.delay()
            bench = Message.objects.filter(group__startswith="bench:")
            deadline = started + 600
            while bench.filter(status="sent").count() < args.messages:
                if time.perf_counter() > deadline or worker.poll() is not None:
                    break
                time.sleep(0.2)
            seconds = time.perf_counter() - started
        finally:
            for process in (beat, worker):
                process.terminate()
            for process in (beat, worker):
                process.wait(timeout=30)
            peer.stop()

        sent = bench.filter(status="sent").count()
        counts: Counter[str] = Counter(
            email["Message-ID"].strip("<>").split("@")[0] for email in peer.messages
        )
        smtp_deliveries = sum(counts.values())
        sms_log = sms / "deliveries.log"
        counts.update(
            line.removesuffix(".json")
            for line in (sms_log.read_text().split() if sms_log.exists() else [])
        )
        expected = {str(p) for p in bench.values_list("public_id", flat=True)}
        figures = {
            "messages": args.messages,
            "sent": sent,
            "smtp_deliveries": smtp_deliveries,
            "sms_deliveries": sum(counts.values()) - smtp_deliveries,
            "seconds": round(seconds, 2),
            "per_second": round(sum(counts.values()) / seconds, 1) if seconds else 0,
            "duplicates": sum(count - 1 for count in counts.values()),
            "lost": len(expected - set(counts)),
            "workers": os.cpu_count(),
            "goal_per_second": 200,
        }
        print(
            f"{sent} of {args.messages} sent in {figures['seconds']} s "
            f"({smtp_deliveries} received by the SMTP peer): {figures['per_second']}/s, "
            f"{figures['duplicates']} duplicates, {figures['lost']} lost"
        )
        bench.delete()
        report("reminders", figures)


if __name__ == "__main__":
    main()
