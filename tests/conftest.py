from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings

from accounts.models import Role, User
from clinic.celery import QUEUES
from tests.factories import PASSWORD, TOTP_SECRET, UserFactory


def current_code(user: User) -> str:
    """A fresh authenticator code. The replay guard and django-otp's throttle are reset, so tests
    may sign in again within one 30-second step and right after a wrong code."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts import totp

    TOTPDevice.objects.filter(user=user).update(
        last_t=-1, throttling_failure_count=0, throttling_failure_timestamp=None
    )
    return totp.code_at(TOTP_SECRET)


def verified_session(client: Client, user: User) -> None:
    """Sign `user` in without the pages, with a session the second factor verified (for tests
    about what a signed-in person may do, not about signing in)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()


def pass_second_factor(client: Client, user: User) -> None:
    response = client.post("/mfa/", {"code": current_code(user)})
    assert response.status_code == 302, "the second factor refused the test user"


def browser_sign_in(page, email: str) -> None:
    """Sign in through the pages, passing the second step for staff."""
    from accounts.models import User as UserModel

    page.goto("/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    if "/mfa/" in page.url:
        page.get_by_label("Code").fill(current_code(UserModel.objects.get(email=email)))
        page.get_by_role("button", name="Continue").click()
        page.wait_for_load_state()


# A fast hasher in tests: Argon2 is slow on purpose, and most tests create users and sign in.
# tests/test_accounts.py checks that the settings hash with Argon2.
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session", autouse=True)
def _plain_http_in_tests():
    """Production settings redirect to HTTPS and serve hashed static files from collectstatic.

    The test client and the live server speak plain HTTP and serve static sources directly. The
    override is session-wide because the live server builds its middleware once, on first use.
    Passwords use a fast hasher (FAST_HASHERS).
    """
    from django.conf import settings

    with override_settings(
        PASSWORD_HASHERS=FAST_HASHERS,
        SECURE_SSL_REDIRECT=False,
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    ):
        yield


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in the default language. A request in Spanish leaves Spanish active in
    the thread (LocaleMiddleware activates a language and nothing resets it), so a later test
    of a form or a service, run in the same process, would read its messages in Spanish."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


LOCALE = Path(__file__).resolve().parent.parent / "locale"


@pytest.fixture(scope="session", autouse=True)
def _compiled_translations() -> None:
    """The .mo files are built, not committed (`make messages`, which `make test` runs first).

    A run started another way compiles a catalogue whose .mo is missing or older than its .po
    (with msgfmt, as compilemessages does), then drops the catalogues Django may have loaded.
    """
    from django.conf import settings
    from django.test.signals import setting_changed

    for po in LOCALE.glob("*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            # Written aside and moved into place: parallel test processes may compile at once.
            scratch = mo.with_suffix(f".{os.getpid()}.tmp")
            subprocess.run(["msgfmt", "--check-format", "-o", str(scratch), str(po)], check=True)
            os.replace(scratch, mo)
    # What Django does when a test changes LOCALE_PATHS: forget the catalogues loaded so far.
    setting_changed.send(
        sender=None, setting="LOCALE_PATHS", value=settings.LOCALE_PATHS, enter=True
    )


REFERENCE_DATA_MIGRATIONS = [
    ("intake.migrations.0002_first_consent_texts", "publish"),
    ("intake.migrations.0010_spanish_consent_texts", "publish"),
    ("review.migrations.0002_default_protocol_template", "create"),
]


@pytest.fixture(autouse=True)
def _reference_data(request: pytest.FixtureRequest) -> None:
    """Transactional tests empty every table afterwards, the rows of data migrations too.

    Tests that come after one of them get those rows back from the migrations' own functions
    (they are idempotent), so every test sees the database a deployment has.
    """
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        return
    import importlib

    from django.apps import apps

    request.getfixturevalue("transactional_db" if marker.kwargs.get("transaction") else "db")
    for module, function in REFERENCE_DATA_MIGRATIONS:
        getattr(importlib.import_module(module), function)(apps, None)


SIGNALS = ("message_failed", "message_sent", "text_undelivered", "recipient_opted_out")


def registrations() -> dict[str, Any]:
    """What is registered with the outbox (resolvers, labels, the reply handler, the text gate)
    and connected to its signals. The apps register all of it once, in AppConfig.ready."""
    from notifications import registry, signals
    from scheduling import patient_panels

    found = {
        "resolvers": sorted(registry._resolvers.items()),
        "labels": sorted(registry._labels.items()),
        "reply handlers": list(registry._reply_handlers),
        "text gates": list(registry._text_gates),
        "patient panels": dict(patient_panels._panels),
    }
    for name in SIGNALS:
        found[f"{name} receivers"] = [entry[0] for entry in getattr(signals, name).receivers]
    return found


def _restore_registrations(at_start_up: dict[str, Any]) -> None:
    from notifications import registry, signals
    from scheduling import patient_panels

    patient_panels._panels.clear()
    patient_panels._panels.update(at_start_up["patient panels"])
    registry._resolvers.clear()
    registry._resolvers.update(at_start_up["resolvers"])
    registry._labels.clear()
    registry._labels.update(at_start_up["labels"])
    registry._reply_handlers[:] = at_start_up["reply handlers"]
    registry._text_gates[:] = at_start_up["text gates"]
    for name in SIGNALS:
        signal = getattr(signals, name)
        keys = at_start_up[f"{name} receivers"]
        signal.receivers = [entry for entry in signal.receivers if entry[0] in keys]
        signal.sender_receivers_cache.clear()


@pytest.fixture(scope="session")
def _registrations_at_start_up() -> dict[str, Any]:
    return registrations()


@pytest.fixture(autouse=True)
def _registrations_left_as_at_start_up(
    _registrations_at_start_up: dict[str, Any],
) -> Iterator[None]:
    """A resolver or a receiver a test adds and leaves behind changes what every later test in
    the process sends, in an order that depends on how the tests were split between workers.
    Each test undoes what it registers (`register_kind`); this fails the one that does not."""
    yield
    left = registrations()
    changed = [name for name, value in left.items() if value != _registrations_at_start_up[name]]
    if changed:
        _restore_registrations(_registrations_at_start_up)  # one failure, not every test after
        pytest.fail(
            f"the test left the outbox's {', '.join(changed)} changed: undo the registration "
            "after the test (the `register_kind` fixture does for resolvers)",
            pytrace=False,
        )


@pytest.fixture
def register_kind() -> Iterator[object]:
    """`notifications.registry.register` for a kind of message only this test sends, undone
    after the test."""
    from notifications import registry

    kinds: list[str] = []

    def register(kind: str, resolver: registry.Resolver, label: str = "") -> None:
        assert registry.resolver_for(kind) is None, f"{kind} is one of the apps' own kinds"
        kinds.append(kind)
        registry.register(kind, resolver, label)

    yield register
    for kind in kinds:
        registry.unregister(kind)


@pytest.fixture
def make_user(db: None):
    def make(role: Role = Role.PATIENT, **fields: object) -> User:
        return UserFactory.create(role=role, **fields)

    return make


@pytest.fixture
def day() -> dt.date:
    """A weekday about two weeks from today, for tests that book in real time. Read when the
    test starts, not when its module is imported (tests/test_no_clock_at_import.py)."""
    day = dt.date.today() + dt.timedelta(days=14)
    while day.weekday() > 4:
        day += dt.timedelta(days=1)
    return day


@pytest.fixture
def booked_world(db: None):
    """One of everything a URL can be about and a user of every role
    (tests.scheduling_data.build_world)."""
    from tests.scheduling_data import build_world

    return build_world()


@pytest.fixture
def login():
    """Sign a user in through the real login form, as a person would, in a client of its own."""

    def sign_in(user: User) -> Client:
        client = Client()
        response = client.post(
            "/login/", {"username": user.email, "password": PASSWORD}, follow=False
        )
        assert response.status_code == 302, "the login form refused the test user"
        if user.is_clinic_staff:
            pass_second_factor(client, user)
        return client

    return sign_in


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-features=HttpsUpgrades,HttpsFirstBalancedModeAutoEnable",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (which may not download a browser of its own)."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # around it are still plain synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, settings):
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.LANGUAGE_COOKIE_SECURE = False
    context = browser.new_context(base_url=live_server.url, reduced_motion="reduce")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@dataclass
class Worker:
    """A real Celery worker process on the test database and the test Redis."""

    process: subprocess.Popen[bytes]
    mail_dir: Path
    log: Path

    @property
    def sms_dir(self) -> Path:
        return self.mail_dir.parent / "sms"

    def deliveries(self) -> list[str]:
        """Every real write by the file backends (one line per delivery, duplicates included)."""
        lines: list[str] = []
        for directory in (self.mail_dir, self.sms_dir):
            log = directory / "deliveries.log"
            if log.exists():
                lines.extend(log.read_text().split())
        return lines

    def kill(self) -> None:
        """SIGKILL the worker and its pool children, as a crash would."""
        import signal

        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)

    def sent_mail(self) -> list[str]:
        return [path.read_text() for path in sorted(self.mail_dir.glob("*.eml.*"))]

    def wait_for_mail(self, count: int, timeout: float = 60) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            mails = self.sent_mail()
            if len(mails) >= count:
                return mails
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            time.sleep(0.2)
        raise AssertionError(f"expected {count} emails within {timeout}s; got {self.sent_mail()}")


def _test_database_url() -> str:
    """DATABASE_URL pointing at the database the tests are using (test_<name>)."""
    from urllib.parse import urlsplit, urlunsplit

    from django.db import connection

    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


def _start_worker(tmp_path: Path, name: str, extra_env: dict[str, str]) -> Worker:
    base = tmp_path / name
    mail_dir = base / "mail"
    mail_dir.mkdir(parents=True, exist_ok=True)
    log = base / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "EMAIL_BACKEND": "notifications.mail.OutboxFileBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "SMS_BACKEND": "notifications.backends.FileSmsBackend",
        "SMS_FILE_PATH": str(base / "sms"),
        "DATABASE_CONN_MAX_AGE": "0",
        **extra_env,
    }
    with open(log, "ab") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "clinic",
                "worker",
                "-Q",
                extra_env.get("WORKER_QUEUES", ",".join(QUEUES)),
                "--pool",
                extra_env.get("WORKER_POOL", "solo"),
                "--concurrency",
                extra_env.get("WORKER_CONCURRENCY", "1"),
                "--without-mingle",
                "--without-gossip",
                "--loglevel",
                "INFO",
            ],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a test can SIGKILL it whole
        )
    worker = Worker(process, mail_dir, log)
    deadline = time.monotonic() + 60
    while b"ready." not in log.read_bytes():
        assert process.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, "the Celery worker did not start"
        time.sleep(0.2)
    return worker


def _stop(worker: Worker) -> None:
    if worker.process.poll() is None:
        worker.process.terminate()
        try:
            worker.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.process.kill()


@pytest.fixture
def start_worker(transactional_db, tmp_path):
    """Start real Celery workers (data must be committed: use transaction=True)."""
    from clinic.celery import app

    # Stale messages from tests that ran without a worker, on every queue (control.purge
    # empties only the queues this process has declared).
    with app.connection_for_write() as connection:
        for queue in QUEUES:
            connection.default_channel.queue_purge(queue)  # type: ignore[attr-defined]  # Redis channel
    started: list[Worker] = []

    def start(name: str = "worker", **extra_env: str) -> Worker:
        worker = _start_worker(tmp_path, name, extra_env)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        _stop(worker)


@pytest.fixture
def celery_worker(start_worker):
    return start_worker()


@pytest.fixture
def inbox(settings):
    """The real SMTP peer as everyone's mailbox: this process's emails go to it over SMTP
    (tests.mailbox.Inbox; `inbox.deliver()` sends the outbox's due rows as the worker does)."""
    import logging

    from bench.smtp_peer import SmtpPeer
    from tests.mailbox import Inbox

    # The peer is the recipient's mail server, not the app: its protocol log (which quotes every
    # line received) stays out of the tests that read the app's logs.
    peer_log = logging.getLogger("mail.log")
    level = peer_log.level
    peer_log.setLevel(logging.WARNING)
    peer = SmtpPeer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = peer.host
    settings.EMAIL_PORT = peer.port
    yield Inbox(peer)
    peer.stop()
    peer_log.setLevel(level)
