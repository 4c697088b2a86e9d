"""A real gunicorn on the test database and Redis, with production settings over plain HTTP, and
Debian's nginx in front of it with the proxy configuration docker-compose runs."""

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
    tmp_path: Path,
    *,
    workers: int = 1,
    log_level: str = "debug",
    environ: dict[str, str] | None = None,
) -> tuple[str, Callable[[], dict[str, str]], Callable[[], None]]:
    """Start gunicorn as the Dockerfile runs it (its ./gunicorn.conf.py included); the data must
    be committed (transactional tests). `environ` adds to or overrides its environment. Returns
    the base URL, `stop()` (which returns every log it wrote, complete) and `kill()` for the
    teardown."""
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
        **(environ or {}),
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


NGINX = "/usr/sbin/nginx"
NGINX_CONF = ROOT / "deploy" / "nginx" / "clinic.conf"


def start_nginx(
    tmp_path: Path, *, upstream: str | list[str], bind: str
) -> tuple[str, Path, Callable[[], None]]:
    """Start Debian's nginx with deploy/nginx/clinic.conf in front of `upstream` (a base URL, or
    several: nginx balances over them as compose's upstream does over its web containers).

    Only what a test machine needs changes: loopback ports instead of 80 and 443, a fresh
    self-signed certificate, and `proxy_bind`, so the proxy reaches the app from its own
    loopback address (`bind`) as the proxy container does from its own. Returns the HTTPS base
    URL, the certificate to trust and `stop()`.
    """
    directory = tmp_path / "nginx"
    (directory / "tls").mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(directory / "tls" / "privkey.pem"),
            "-out",
            str(directory / "tls" / "fullchain.pem"),
        ],
        check=True,
        capture_output=True,
    )
    servers = "\n    ".join(
        f"server {base.removeprefix('http://')};"
        for base in ([upstream] if isinstance(upstream, str) else upstream)
    )
    http_port, https_port = free_port(), free_port()
    conf = NGINX_CONF.read_text()
    for compose, here in [
        ("server web:8000;", servers),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen [::]:80;", ""),
        ("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;"),
        ("listen [::]:443 ssl;", ""),
        ("/etc/nginx/tls/", f"{directory / 'tls'}/"),
        ("proxy_pass http://clinic_web;", f"proxy_pass http://clinic_web;\n proxy_bind {bind};"),
    ]:
        assert compose in conf, f"{NGINX_CONF} no longer has {compose!r}"
        conf = conf.replace(compose, here)
    (directory / "clinic.conf").write_text(conf)
    temp_paths = "\n".join(
        f"  {kind}_temp_path {directory / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (directory / "nginx.conf").write_text(
        f"""{"user root;" if os.geteuid() == 0 else ""}
daemon off;
worker_processes 1;
pid {directory / "nginx.pid"};
error_log {directory / "error.log"} info;
events {{ worker_connections 256; }}
http {{
  access_log {directory / "access.log"};
{temp_paths}
  include {directory / "clinic.conf"};
}}
"""
    )
    process = subprocess.Popen(
        [NGINX, "-p", str(directory), "-e", str(directory / "error.log"), "-c", "nginx.conf"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", https_port), timeout=1).close()
            break
        except OSError:
            log = directory / "error.log"
            assert process.poll() is None, log.read_text() if log.exists() else "nginx exited"
            assert time.monotonic() < deadline, "nginx did not start"
            time.sleep(0.1)

    def stop() -> None:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=20)

    return f"https://127.0.0.1:{https_port}", directory / "tls" / "fullchain.pem", stop
