"""Multi-node proof on one machine: two web nodes behind nginx, two workers on separate queues,
one beat, one PostgreSQL and one Redis; a web node and a worker are SIGKILLed halfway.

Two gunicorn processes (each its own process group, as two containers) sit behind Debian's nginx
with deploy/nginx/clinic.conf (tests/servers.py); a `messages` worker and a `booking,celery`
worker consume their queues (docs/operations.md#queues) and beat ticks. Patients sign in through
nginx, book a series online and load pages while the outbox sends N reminders over SMTP to a
real SMTP peer (bench/smtp_peer.py, which counts every message and never de-duplicates).

Once half the reminders are sent, one web process and the `messages` worker are SIGKILLed; a
replacement `messages` worker starts, as a container's restart policy would start one. Reports:

- 5xx answers, against the requests in flight at the kill (only those may fail: nginx passes
  any new request to the live node);
- reminders lost (must be 0) and doubled (at most the rows the killed worker was sending);
- whether every signed-in patient still had their session after the kill (sessions live in
  PostgreSQL, not in a web process).

    python -m bench.multinode [--reminders 2000] [--patients 6]

Figures in bench/results/multinode.json; docs/operations.md#the-multi-node-proof quotes them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.cookiejar
import os
import re
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.harness import django_environment, report
from bench.smtp_peer import SmtpPeer

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "multinode-bench-password"  # noqa: S105  # fictional patients on a scratch database
PROXY = "127.0.0.2"  # nginx reaches the web nodes from here (proxy_bind), as in compose
SUBJECT = "Reminder: your appointment tomorrow"
# A row claimed by the killed worker is claimed again once its sending task would have been
# killed by its time limit (docs/reminders.md#sending); short here so the run ends soon.
SENDING_TIMEOUT = 10


@dataclass
class Load:
    """What the patients' browsers saw, shared by their threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter[int] = field(default_factory=Counter)
    in_flight: int = 0
    in_flight_at_kill: int | None = None
    errors: list[str] = field(default_factory=list)
    signed_in: int = 0
    bookings: int = 0
    sessions_kept: int = 0
    sessions_lost: int = 0


class Browser:
    """One patient's cookie jar over HTTPS through nginx, trusting its test certificate."""

    def __init__(self, base: str, certificate: Path, load: Load) -> None:
        self.base = base
        self.load = load
        context = ssl.create_default_context(cafile=str(certificate))
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
            urllib.request.HTTPSHandler(context=context),
        )
        self.csrf = ""

    def request(self, path: str, data: dict[str, Any] | None = None) -> tuple[int, str, str]:
        """(status, final path, body); a 5xx or a dropped connection is counted, not raised."""
        body = None
        headers = {"Referer": self.base + path}
        if data is not None:
            body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": self.csrf}, True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(  # noqa: S310  # nginx on loopback
            self.base + path, data=body.encode() if body else None, headers=headers
        )
        with self.load.lock:
            self.load.in_flight += 1
        try:
            with self.opener.open(request, timeout=60) as response:
                status, url, text = response.status, response.url, response.read().decode()
        except urllib.error.HTTPError as error:
            status, url, text = error.code, error.url, ""
        except OSError as error:  # the connection to nginx itself; never expected
            status, url, text = 599, self.base + path, ""
            with self.load.lock:
                self.load.errors.append(f"{path}: {error}")
        finally:
            with self.load.lock:
                self.load.in_flight -= 1
        with self.load.lock:
            self.load.statuses[status] += 1
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text)
        if found:
            self.csrf = found.group(1)
        return status, urllib.parse.urlsplit(url).path, text


def _patient_loop(browser: Browser, email: str, location_id: int, stop: threading.Event) -> None:
    load = browser.load
    browser.request("/login/")
    status, where, _ = browser.request("/login/", {"username": email, "password": PASSWORD})
    if status != 200 or where.startswith("/login/"):
        return
    with load.lock:
        load.signed_in += 1
    first = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    preferences = {
        "location": location_id,
        "first_date": first,
        "weekdays": [str(day) for day in range(7)],
        "window_starts": "06:00",
        "window_ends": "21:00",
    }
    browser.request("/my-series/book/")
    _, _, proposal = browser.request("/my-series/book/", {**preferences, "action": "propose"})
    # Each session's proposed time is its checked radio button, as a patient leaves it.
    chosen = dict(
        re.findall(r'type="radio" name="(session_\d+)"[^>]*value="([^"]+)" checked', proposal)
    )
    if chosen:
        status, where, _ = browser.request(
            "/my-series/book/", {**preferences, "action": "book", **chosen}
        )
        if status == 200 and not where.startswith("/my-series/book/"):
            with load.lock:
                load.bookings += 1
    while not stop.is_set():
        for path in ("/", "/my-series/", "/my-series/book/"):
            browser.request(path)


def _check_session(browser: Browser) -> None:
    status, where, _ = browser.request("/")
    with browser.load.lock:
        if status == 200 and not where.startswith("/login/"):
            browser.load.sessions_kept += 1
        else:
            browser.load.sessions_lost += 1


def _world(patients: int, reminders: int) -> tuple[int, list[str]]:
    """A self-booking location, approved patients with a password, N due reminders."""
    from django.contrib.auth.hashers import Argon2PasswordHasher
    from django.utils import timezone

    from accounts.models import User
    from bench.generate import approved_patient, busy_location
    from locations.models import Location
    from notifications.models import Message

    Message.objects.filter(group__startswith="multinode:").delete()
    location = busy_location(sessions=0, days_before=0, days_after=60, prefix="multinode")
    Location.objects.filter(pk=location.pk).update(self_booking=True)
    # The web nodes' own hasher, named: a test process hashes with the tests' fast one.
    hasher = Argon2PasswordHasher()
    password = hasher.encode(PASSWORD, hasher.salt())
    emails = []
    for _ in range(patients):
        plan = approved_patient(location, infusions=3)
        User.objects.filter(pk=plan.patient_id).update(password=password)
        emails.append(plan.patient.email)
    now = timezone.now()
    Message.objects.bulk_create(
        (
            Message(
                channel="email",
                kind="bench",  # written complete: no resolver, delivery only
                group=f"multinode:{n}",
                recipient=f"patient{n}@example.org",
                subject=SUBJECT,
                body_text="Hello, this is a reminder of your appointment tomorrow.",
                send_at=now - dt.timedelta(seconds=1),
            )
            for n in range(reminders)
        ),
        batch_size=5000,
    )
    return location.pk, emails


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as output:
        # Its own process group, like a container: SIGKILL takes the whole node.
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            _kill(process)


def _wait_ready(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"{base}/readyz", timeout=2)  # noqa: S310  # loopback
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"web node did not start: {log.read_text()[-2000:]}") from None
            time.sleep(0.3)


def run(
    scratch: Path,
    *,
    reminders: int,
    patients: int,
    secret_key: str,
    timeout: float = 600,
) -> dict[str, Any]:
    """The whole proof against the DATABASE_URL and REDIS_URL in the environment (Django set up
    on the same database); its figures."""
    from clinic.celery import QUEUES, app
    from notifications.models import Message
    from tests.servers import free_port, start_nginx

    location_id, emails = _world(patients, reminders)
    with app.connection_for_write() as connection:
        for queue in QUEUES:
            connection.default_channel.queue_purge(queue)  # type: ignore[attr-defined]  # Redis channel

    peer = SmtpPeer().start()
    env = {
        **os.environ,
        **peer.env(),
        "DEBUG": "false",
        "SECRET_KEY": secret_key,
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "BEHIND_TLS_PROXY": "true",
        "TRUSTED_PROXY_COUNT": "1",
        "TRUSTED_PROXY_ADDRESSES": PROXY,
        "STATIC_ROOT": str(scratch / "static"),
        "MEDIA_ROOT": str(scratch / "media"),
        "CELERY_BEAT_SCHEDULE_FILENAME": str(scratch / "beat-schedule"),
        "NOTIFICATIONS_SENDING_TIMEOUT": str(SENDING_TIMEOUT),
        "NOTIFICATIONS_REQUEUE_AFTER": str(SENDING_TIMEOUT),
        "LOG_LEVEL": "WARNING",
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    celery = [sys.executable, "-m", "celery", "-A", "clinic"]

    def worker(queues: str, name: str) -> subprocess.Popen[bytes]:
        return _start(
            [
                *celery,
                *("worker", "-Q", queues, "-n", f"{name}@%h", "--concurrency", "2"),
                *("--without-mingle", "--without-gossip", "--loglevel", "WARNING"),
            ],
            env,
            scratch / f"{name}.log",
        )

    processes: list[subprocess.Popen[bytes]] = []
    stop_nginx = None
    stop = threading.Event()
    load = Load()
    threads: list[threading.Thread] = []
    try:
        webs = []
        for name in ("web-a", "web-b"):
            port = free_port()
            log = scratch / f"{name}.log"
            web = _start(
                [
                    *(sys.executable, "-m", "gunicorn", "clinic.wsgi:application"),
                    *("--bind", f"127.0.0.1:{port}", "--workers", "2", "--error-logfile", str(log)),
                ],
                env,
                log,
            )
            processes.append(web)
            webs.append((f"http://127.0.0.1:{port}", web, log))
        for base, web, log in webs:
            _wait_ready(base, web, log)
        proxy, certificate, stop_nginx = start_nginx(
            scratch, upstream=[base for base, _, _ in webs], bind=PROXY
        )
        messages_worker = worker("messages", "messages")
        booking_worker = worker(",".join(q for q in QUEUES if q != "messages"), "booking")
        beat = _start([*celery, "beat", "--loglevel", "WARNING"], env, scratch / "beat.log")
        processes += [messages_worker, booking_worker, beat]

        started = time.monotonic()
        for email in emails:
            browser = Browser(proxy, certificate, load)
            thread = threading.Thread(
                target=_patient_loop, args=(browser, email, location_id, stop), daemon=True
            )
            thread.start()
            threads.append(thread)
        browsers_for_check = []
        for email in emails:
            browser = Browser(proxy, certificate, load)
            browser.request("/login/")
            browser.request("/login/", {"username": email, "password": PASSWORD})
            browsers_for_check.append(browser)

        bench = Message.objects.filter(group__startswith="multinode:")
        while bench.filter(status="sent").count() < reminders // 2:
            if time.monotonic() - started > timeout:
                raise RuntimeError("half the reminders were not sent in time")
            time.sleep(0.1)

        # Halfway: a web node and the messages worker die without a chance to clean up.
        with load.lock:
            load.in_flight_at_kill = load.in_flight
        _kill(webs[0][1])
        _kill(messages_worker)
        killed_at = time.monotonic() - started
        claimed_at_kill = bench.filter(status__in=["queued", "sending"]).count()
        # Rows a sending task had taken when it died: the only ones that may go out twice.
        sending_at_kill = bench.filter(status="sending").count()
        sent_at_kill = bench.filter(status="sent").count()
        replacement = worker("messages", "messages-2")
        processes.append(replacement)

        while bench.filter(status="sent").count() < reminders:
            if time.monotonic() - started > timeout:
                break
            time.sleep(0.5)
        seconds = time.monotonic() - started
        for browser in browsers_for_check:
            _check_session(browser)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        stop.set()
        if stop_nginx is not None:
            stop_nginx()
        for process in processes:
            _stop(process)
        peer.stop()

    received: Counter[str] = Counter(
        email["Message-ID"].strip("<>").split("@")[0] for email in peer.messages
    )
    expected = {str(public_id) for public_id in bench.values_list("public_id", flat=True)}
    server_errors = sum(count for status, count in load.statuses.items() if status >= 500)
    figures = {
        "reminders": reminders,
        "patients": patients,
        "web_nodes": 2,
        "workers": {"messages": 1, "booking,celery": 1},
        "killed_at_seconds": round(killed_at, 1),
        "seconds": round(seconds, 1),
        "requests": sum(load.statuses.values()),
        "statuses": {str(status): count for status, count in sorted(load.statuses.items())},
        "server_errors": server_errors,
        "in_flight_at_kill": load.in_flight_at_kill,
        "connection_errors": load.errors[:10],
        "signed_in": load.signed_in,
        "bookings": load.bookings,
        "sessions_kept": load.sessions_kept,
        "sessions_lost": load.sessions_lost,
        "reminders_sent_at_kill": sent_at_kill,
        "reminders_claimed_at_kill": claimed_at_kill,
        "reminders_sending_at_kill": sending_at_kill,
        "reminders_received": sum(received.values()),
        "reminders_lost": len(expected - set(received)),
        "reminders_doubled": sum(count - 1 for count in received.values()),
    }
    bench.delete()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reminders", type=int, default=2000)
    parser.add_argument("--patients", type=int, default=6)
    args = parser.parse_args()
    with django_environment("bench-multinode"), tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch)
        base.chmod(0o755)
        figures = run(
            base,
            reminders=args.reminders,
            patients=args.patients,
            secret_key=os.environ["SECRET_KEY"],
        )
        print(
            f"{figures['requests']} requests through nginx, {figures['server_errors']} 5xx "
            f"({figures['in_flight_at_kill']} in flight at the kill); reminders: "
            f"{figures['reminders_lost']} lost, {figures['reminders_doubled']} doubled "
            f"({figures['reminders_sending_at_kill']} being sent at the kill); sessions kept "
            f"{figures['sessions_kept']} of {figures['sessions_kept'] + figures['sessions_lost']}"
        )
        report("multinode", figures)


if __name__ == "__main__":
    main()
