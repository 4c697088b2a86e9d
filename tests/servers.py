"""A real gunicorn on the test database and Redis, with production settings over plain HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_gunicorn(
    tmp_path: Path, *, workers: int = 1, log_level: str = "debug"
) -> tuple[str, Callable[[], dict[str, str]], Callable[[], None]]:
    """Start gunicorn as the Dockerfile runs it (its ./gunicorn.conf.py included); the data must
    be committed (transactional tests). Returns the base URL, `stop()` (which returns every log
    it wrote, complete) and `kill()` for the teardown."""
    from django.conf import settings

    from tests.conftest import _test_database_url

    port = free_port()
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        # The test's own key: sessions signed in here and links signed here must hold there.
        "SECRET_KEY": settings.SECRET_KEY,
        "DATABASE_URL": _test_database_url(),
        "DATABASE_CONN_MAX_AGE": "0",
        "STATIC_ROOT": str(tmp_path / "static"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
        "SMS_BACKEND": "notifications.backends.FileSmsBackend",
        "SMS_FILE_PATH": str(tmp_path / "sms"),
        "LOG_LEVEL": log_level.upper(),
    }
    # Production settings serve hashed static files: collect them as the image build does.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    logs = {name: tmp_path / f"{name}.log" for name in ("access", "error", "output")}
    with open(logs["output"], "wb") as output:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "clinic.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--access-logfile",
                str(logs["access"]),
                "--error-logfile",
                str(logs["error"]),
                "--capture-output",
                "--log-level",
                log_level,
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{base}/readyz", timeout=2)  # noqa: S310 (loopback)
            break
        except OSError:
            assert server.poll() is None, logs["output"].read_text()[-3000:]
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.3)

    def stop() -> dict[str, str]:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=30)
        return {name: path.read_text() if path.exists() else "" for name, path in logs.items()}

    def kill() -> None:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=30)

    return base, stop, kill
