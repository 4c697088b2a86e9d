"""Reminder dispatch benchmark: 10,000 due messages through the outbox, worker and beat.

Messages (a quarter of them texts) are made due at once; the normal Celery worker (prefork, one
process per core) and beat run against the same PostgreSQL and Redis; email goes over SMTP to a
real SMTP server on loopback (aiosmtpd, bench/smtp_peer.py) that counts every message it
receives and never de-duplicates; texts go to the file backend, which records every delivery.
The first dispatch is sent the way a booking sends it (beat then keeps ticking every minute).
Reports deliveries per second from that first dispatch to the last one recorded, and counts
what was lost or delivered twice from what the SMTP peer and the SMS file received.

Hosts differ twofold, so the speed is also given as a share of a floor measured in the same run:
the SMTP peer's own throughput, fed the same emails by bare `smtplib` clients (one process per
core, one connection each, as the worker's batches use one) with nothing else in the way. The
app's emails per second divided by that is the share of the path's ceiling the outbox reaches.

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

SUBJECT = "Reminder: your appointment tomorrow"
# The outbox (claim, render, send, record, over PostgreSQL and Celery) against the bare path.
GOAL_SHARE_OF_FLOOR = 0.25
TEXT = "Hello, this is a reminder of your appointment tomorrow at 9:00 AM."
HTML = "<p>Hello, this is a reminder of your appointment tomorrow.</p>"


def _bare_client(port: int, first: int, count: int) -> None:
    """Send `count` emails shaped like the reminders over one SMTP connection."""
    import smtplib
    from email.message import EmailMessage

    with smtplib.SMTP("127.0.0.1", port) as client:
        for n in range(first, first + count):
            message = EmailMessage()
            message["Subject"] = SUBJECT
            message["From"] = "clinic@example.org"
            message["To"] = f"patient{n}@example.org"
            message["Message-ID"] = f"<floor-{n}@example.org>"
            message.set_content(TEXT)
            message.add_alternative(HTML, subtype="html")
            client.send_message(message)


def smtp_floor(emails: int, clients: int) -> float:
    """Emails per second the SMTP peer takes from bare clients: the floor of the email path."""
    from concurrent.futures import ProcessPoolExecutor

    peer = SmtpPeer().start()
    try:
        share = -(-emails // clients)
        started = time.perf_counter()
        with ProcessPoolExecutor(clients) as pool:
            jobs = [
                pool.submit(_bare_client, peer.port, n * share, min(share, emails - n * share))
                for n in range(clients)
            ]
            for job in jobs:
                job.result()
        peer.wait_for(emails)
        seconds = time.perf_counter() - started
    finally:
        peer.stop()
    return emails / seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    args = parser.parse_args()

    # Its own database (.local/bench-reminders): the shared one holds bench.pages' network, whose
    # own due messages would join the run and be counted (7,509 emails for 7,500, once).
    with django_environment("bench-reminders"), tempfile.TemporaryDirectory() as scratch:
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
                    subject=SUBJECT,
                    body_text=TEXT,
                    body_html=HTML,
                    send_at=now - dt.timedelta(seconds=1),
                )
                for n in range(args.messages)
            ),
            batch_size=5000,
        )
        emails = args.messages - -(-args.messages // 4)
        floor = smtp_floor(emails, os.cpu_count() or 2)
        print(f"floor: the SMTP peer takes {floor:.0f} emails/s from bare clients")
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
            "email_per_second": round(smtp_deliveries / seconds, 1) if seconds else 0,
            "floor_email_per_second": round(floor, 1),
            "share_of_floor": round(smtp_deliveries / seconds / floor, 3) if seconds else 0,
            "workers": os.cpu_count(),
            "goal_share_of_floor": GOAL_SHARE_OF_FLOOR,
        }
        print(
            f"{sent} of {args.messages} sent in {figures['seconds']} s "
            f"({smtp_deliveries} received by the SMTP peer): {figures['per_second']}/s, "
            f"{figures['duplicates']} duplicates, {figures['lost']} lost; emails at "
            f"{figures['share_of_floor']:.0%} of the SMTP floor"
        )
        bench.delete()
        report("reminders", figures)


if __name__ == "__main__":
    main()
