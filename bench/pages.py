"""Server-side latency of the key pages under concurrent load, next to a one-query floor page.

The network of bench.network is loaded (built first when missing); gunicorn serves the app with
production settings plus bench/settings.py (the timing middleware and the reference pages, which
exist only in the benchmark's server); wrk (Debian's package, installed when missing) loads each
page from several connections at once, signed in as the role that uses it. Timings are the
server's own: the middleware writes each request's view, time and number of queries, so the
figures exclude the load generator and the network. Each page's p95 is reported with its ratio to
the staff floor's p95 in the same run, and its query count with the network loaded and with a
tiny location. Nothing is cached: every request builds its page from the database
(`"page_cache": "off"`).

The staff floor is the least a signed-in staff page costs: the session, the user, the staff
middleware and the site's layout with its navigation, and one query of its own
(`staff_floor_p95_ms`). The anonymous layout with one query (`floor_p95_ms`) and a bare two-byte
text response (`bare_floor_p95_ms`) are reported next to it. The run goes in rounds: in each,
every page is loaded for its share of `--seconds` with the staff floor sampled before it, so the
floor and the pages meet the same moments of a shared machine.

    python -m bench.pages [--seconds 12] [--rounds 3] [--connections 8] [--scale 1.0]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bench.harness import django_environment, percentile, report

if TYPE_CHECKING:
    from django.contrib.sessions.backends.base import SessionBase

    from accounts.models import User

# What wrk goes round for one page: (session cookie or None, path).
Targets = Sequence[tuple[str | None, str]]

MIN_NETWORK_SESSIONS = 150_000
DRAFTERS = 16
# The most each page's p95 may be, as a multiple of the staff floor's
# (docs/benchmarks.md#key-pages-under-load): the grids and
# the dashboard summarise a location's whole schedule, the others one record or one page of rows.
GOAL_RATIO = {
    "day_view": 10,
    "week_view": 10,
    "patient_page": 5,
    "dashboard": 10,
    "review_queue": 4,
    "intake_summary": 4,
    "patient_home": 4,
    "intake_step_post": 4,
}
CSRF = "c" * 32


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "apt-get", "install", "-y", "-q", "wrk"], check=True)
    return shutil.which("wrk") or "wrk"


def _signed_in(user: User) -> str:
    """A session cookie value for `user`, past the second factor, as a browser would hold."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    store: SessionBase = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        store[DEVICE_ID_SESSION_KEY] = device.persistent_id
    store.create()
    assert store.session_key is not None
    return store.session_key


def _lua(targets: Targets, body: str | None) -> str:
    """A wrk script going round the targets (session cookie, path), POSTing `body` if given."""
    rows = ",\n".join(
        f'  {{"{path}", "{"sessionid=" + cookie + "; " if cookie else ""}csrftoken={CSRF}"}}'
        for cookie, path in targets
    )
    method = "POST" if body is not None else "GET"
    payload = f'"{body}"' if body else "nil"
    return (
        f"local targets = {{\n{rows}\n}}\n"
        "local i = 0\n"
        f'wrk.headers["X-CSRFToken"] = "{CSRF}"\n'
        + ('wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n' if body else "")
        + "request = function()\n"
        "  i = i % #targets + 1\n"
        '  wrk.headers["Cookie"] = targets[i][2]\n'
        f'  return wrk.format("{method}", targets[i][1], nil, {payload})\n'
        "end\n"
    )


def _request(base: str, cookie: str | None, path: str, body: str | None) -> None:
    request = urllib.request.Request(  # noqa: S310 (our own server)
        base + path,
        data=body.encode() if body else None,
        headers={
            "Cookie": f"sessionid={cookie}; csrftoken={'c' * 32}",
            "X-CSRFToken": "c" * 32,
            **({"Content-Type": "application/x-www-form-urlencoded"} if body else {}),
        },
    )
    with contextlib.suppress(urllib.error.HTTPError):
        urllib.request.urlopen(request, timeout=30)  # noqa: S310


def _timings(folder: Path) -> dict[str, list[tuple[float, int]]]:
    found: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for path in folder.glob("timing-*.tsv"):
        for line in path.read_text().splitlines():
            view, status, ms, queries = line.split("\t")
            if status in ("200", "302"):
                found[view].append((float(ms), int(queries)))
        path.unlink()
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=12, help="per page, over all rounds")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    wrk = _ensure_wrk()

    with django_environment(), tempfile.TemporaryDirectory() as scratch:
        from django.db.models import Count

        from accounts.models import Role, User
        from accounts.security import enrol_with_key
        from bench import network
        from bench.generate import busy_location
        from intake.models import Intake
        from intake.samples import fill_intake, sample_steps, submitted_intake
        from locations.models import Location
        from scheduling.models import Session

        bench_locations = Location.objects.filter(slug__startswith="net-")
        existing = Session.objects.filter(location__in=bench_locations).count()
        if existing < MIN_NETWORK_SESSIONS * args.scale:
            started = time.perf_counter()
            counts = network.build(args.scale)
            print(
                f"built the network {counts} in {time.perf_counter() - started:.0f} s", flush=True
            )
        big = max(bench_locations, key=lambda loc: loc.sessions.count())
        tiny = busy_location(sessions=200, days_before=7, days_after=7, seed=99)
        total_sessions = Session.objects.count()

        def staff(role: str, location: Location) -> User:
            user = User.objects.create(
                email=f"bench-{role}-{time.time_ns()}@example.org", role=role, password="!"
            )
            user.locations.add(location)
            enrol_with_key(user, "00" * 20)
            return user

        def pages_for(location: Location) -> dict[str, tuple[Targets, str | None]]:
            desk = _signed_in(staff(Role.FRONT_DESK, location))
            clinician = _signed_in(staff(Role.CLINICIAN, location))
            admin = _signed_in(staff(Role.CLINIC_ADMIN, location))
            intake = Intake.objects.filter(location=location).exclude(status="draft").first()
            assert intake is not None, "bench.network loads submitted intakes at every location"
            patient = _signed_in(intake.patient)
            # The summary a clinician opens to decide: a waiting intake, with its decision forms.
            applicant = User.objects.create(
                email=f"bench-applicant-{time.time_ns()}@example.org",
                role=Role.PATIENT,
                password="!",
            )
            waiting = submitted_intake(applicant, location_slug=location.slug)
            # The sample answers name "stamford" as the preferred location.
            Location.objects.get_or_create(
                slug="stamford",
                defaults={"name": "Stamford", "time_zone": "America/New_York", "address": "x"},
            )
            # Patients filling their own intakes at once (one patient never saves one step from
            # eight tabs): the POSTs go round DRAFTERS drafts, each with its own session.
            drafting = []
            for _ in range(DRAFTERS):
                drafter = User.objects.create(
                    email=f"bench-drafter-{time.time_ns()}@example.org",
                    role=Role.PATIENT,
                    password="!",
                )
                draft = fill_intake(drafter, location_slug="stamford")
                drafting.append((_signed_in(drafter), f"/intake/{draft.public_id}/pain/"))
            # The desk's patient page of the patient with the most sessions here.
            busiest = (
                Session.objects.filter(location=location)
                .values("patient_id")
                .annotate(n=Count("id"))
                .order_by("-n")
                .first()
            )
            assert busiest is not None
            patient_uuid = User.objects.get(pk=busiest["patient_id"]).public_id
            today = location.local_today().isoformat()
            pain = "&".join(f"{k}={v}" for k, v in sample_steps()["pain"].items())
            return {
                "day_view": ([(desk, f"/desk/{location.slug}/day/{today}/")], None),
                "week_view": ([(desk, f"/desk/{location.slug}/week/{today}/")], None),
                "patient_page": ([(desk, f"/desk/patients/{patient_uuid}/")], None),
                "review_queue": (
                    [(clinician, f"/review/?status=approved&location={location.pk}")],
                    None,
                ),
                "intake_summary": ([(clinician, f"/review/{waiting.public_id}/")], None),
                "patient_home": ([(patient, "/intake/")], None),
                "intake_step_post": (drafting, pain),
                "dashboard": ([(admin, f"/outcomes/{location.slug}/dashboard/")], None),
            }

        big_pages = pages_for(big)
        staff_cookie = _signed_in(staff(Role.FRONT_DESK, big))
        tiny_pages = pages_for(tiny)
        port = _free_port()
        folder = Path(scratch)
        env = {
            **os.environ,
            "DEBUG": "false",
            "SECURE_SSL_REDIRECT": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "REQUEST_TIMING_LOG": str(folder),
            "LOG_LEVEL": "WARNING",
            "STATIC_ROOT": str(folder / "static"),
        }
        # Production settings serve hashed static files: collect them as a deployment does.
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            env=env,
            check=True,
        )
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "clinic.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(os.cpu_count() or 2),
                "--log-level",
                "warning",
            ],
            env=env,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"{base}/bench/floor/", timeout=2)  # noqa: S310
                    break
                except OSError:
                    time.sleep(0.3)

            def load(targets: Targets, body: str | None, seconds: int) -> None:
                # One wrk thread: the load generator shares the machine with the server.
                command = [wrk, "-t", "1", "-c", str(args.connections), "-d", f"{seconds}s"]
                script = folder / "load.lua"
                script.write_text(_lua(targets, body))
                command += ["-s", str(script)]
                subprocess.run([*command, base + targets[0][1]], check=True, capture_output=True)

            def run(targets: Targets, body: str | None, seconds: int) -> list[tuple[float, int]]:
                load(targets, body, seconds)
                timings = _timings(folder)
                return max(timings.values(), key=len) if timings else []

            # Rounds: each round samples the floor before every page and at its end, and each
            # page gets `seconds / rounds` per round. A passing disturbance of the shared
            # machine (a vacuum, another process) then weighs on the floor and on every page
            # alike instead of on whichever page it happened to meet.
            rounds = max(1, args.rounds)
            slice_seconds = max(2, round(args.seconds / rounds))
            floor_seconds = max(1, slice_seconds // 2)
            floor_page = [(staff_cookie, "/bench/floor/staff/")]
            floor: list[tuple[float, int]] = []
            anonymous: list[tuple[float, int]] = []
            bare: list[tuple[float, int]] = []
            measured: dict[str, list[tuple[float, int]]] = defaultdict(list)
            for _round in range(rounds):
                bare += run([(None, "/bench/floor/bare/")], None, floor_seconds)
                anonymous += run([(None, "/bench/floor/")], None, floor_seconds)
                for page, (targets, body) in big_pages.items():
                    floor += run(floor_page, None, floor_seconds)
                    measured[page] += run(targets, body, slice_seconds)
                floor += run(floor_page, None, floor_seconds)
            figures: dict[str, float | int | str | None] = {}
            for page, samples in measured.items():
                times = [ms for ms, _ in samples]
                figures[f"{page}_p95_ms"] = round(percentile(times, 0.95), 2)
                figures[f"{page}_p50_ms"] = round(percentile(times, 0.50), 2)
                figures[f"{page}_queries"] = max(q for _, q in samples) if samples else None
                figures[f"{page}_requests"] = len(samples)
            floor_times = [ms for ms, _ in floor]
            floor_p95 = percentile(floor_times, 0.95)
            figures["staff_floor_p95_ms"] = round(floor_p95, 2)
            figures["staff_floor_p50_ms"] = round(percentile(floor_times, 0.50), 2)
            figures["floor_p95_ms"] = round(percentile([ms for ms, _ in anonymous], 0.95), 2)
            figures["bare_floor_p95_ms"] = round(percentile([ms for ms, _ in bare], 0.95), 2)
            for page in big_pages:
                p95 = float(figures[f"{page}_p95_ms"] or 0)
                figures[f"{page}_ratio"] = round(p95 / floor_p95, 2)
                figures[f"{page}_goal_ratio"] = GOAL_RATIO[page]
            # The tiny location's pages: the same queries as at the busy one, or the count grows
            # with the data.
            for page, ([(cookie, path), *_], body) in tiny_pages.items():
                _request(base, cookie, path, body)
                samples = [s for samples in _timings(folder).values() for s in samples]
                figures[f"{page}_queries_tiny"] = max(q for _, q in samples) if samples else None
        finally:
            server.terminate()
            server.wait(timeout=30)

        figures.update(
            sessions_in_database=total_sessions,
            connections=args.connections,
            seconds_per_page=args.seconds,
            rounds=rounds,
            gunicorn_workers=os.cpu_count(),
            page_cache="off",
        )
        print(
            "staff floor p95 {staff_floor_p95_ms} ms; ".format(**figures)
            + ", ".join(
                f"{p} p95 {figures[p + '_p95_ms']} ms (x{figures[p + '_ratio']}, "
                f"{figures[p + '_queries']} queries)"
                for p in big_pages
            )
        )
        report("pages", figures)


if __name__ == "__main__":
    main()
