"""`make run`: migrate, load demo data, then run web, Celery worker and Celery beat together.

Run through `python -m clinic.embedded`, which provides DATABASE_URL and REDIS_URL. Ctrl-C stops
the three processes; the wrapper then stops the embedded servers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from clinic.celery import QUEUES
from clinic.embedded import ROOT
from scheduling.demo import DEMO_PASSWORD, demo_logins


def _manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True)


def _wait_until_ready(url: str, processes: dict[str, subprocess.Popen[bytes]]) -> bool:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if any(process.poll() is not None for process in processes.values()):
            return False
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    return False


def main() -> int:
    os.environ.setdefault("DEBUG", "true")
    port = os.environ.get("PORT", "8000")
    url = f"http://localhost:{port}"
    # Links in emails and calendar UIDs point at this instance, not at another one on :8000.
    os.environ.setdefault("SITE_URL", url)
    _manage("migrate", "--noinput")
    _manage("load_demo")
    _manage("load_demo_paperwork")
    _manage("load_demo_prices")

    celery = [sys.executable, "-m", "celery", "-A", "clinic"]
    commands = {
        "web": [sys.executable, "manage.py", "runserver", f"0.0.0.0:{port}"],
        "worker": [
            *celery,
            "worker",
            "-Q",
            ",".join(QUEUES),
            "--loglevel",
            "INFO",
            "--concurrency",
            "2",
        ],
        "beat": [*celery, "beat", "--loglevel", "INFO"],
    }
    processes = {name: subprocess.Popen(command, cwd=ROOT) for name, command in commands.items()}

    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    if _wait_until_ready(url, processes):
        logins = demo_logins()
        width = max(len(role) for role, _ in logins)
        print(f"\n  The clinic app is running at {url}/", flush=True)
        print(f"  Demo logins (password for all: {DEMO_PASSWORD}):")
        for role, email in logins:
            print(f"    {role:<{width}}  {email}")
        print("  Staff also need a second-step code: run `make totp` in another terminal.")
        print("  Press Ctrl-C to stop everything.\n", flush=True)

    exit_code = 0
    while not stopping:
        for name, process in processes.items():
            if process.poll() is not None:
                print(f"[run] {name} stopped (exit {process.returncode}); stopping the rest.")
                exit_code = process.returncode or 1
                stopping = True
        time.sleep(0.5)

    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes.values():
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
