from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from clinic.env import database_from_url, env_bool, env_int, env_list, redis_url

ROOT = Path(__file__).resolve().parent.parent


def _load_settings(**overrides: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "x" * 60,
        "DATABASE_URL": "postgres://clinic@db.internal/clinic",
        "REDIS_URL": "redis://cache.internal:6379/0",
        **overrides,
    }
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={key: value for key, value in env.items() if value != "<unset>"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_settings_load_with_good_production_values():
    result = _load_settings()

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"DEBUG": "ture"}, "DEBUG must be true or false"),
        ({"SECRET_KEY": "<unset>"}, "SECRET_KEY must be set"),
        ({"DATABASE_URL": "mysql://db/clinic"}, "DATABASE_URL must start with postgres://"),
        ({"DATABASE_URL": "<unset>"}, "DATABASE_URL must be set"),
        ({"REDIS_URL": "http://cache:6379"}, "REDIS_URL must be a redis://"),
        ({"EMAIL_PORT": "twenty-five"}, "EMAIL_PORT must be a whole number"),
        ({"TRUSTED_PROXY_COUNT": "1"}, "set TRUSTED_PROXY_ADDRESSES to the proxy's address"),
        (
            {"TRUSTED_PROXY_COUNT": "1", "TRUSTED_PROXY_ADDRESSES": "nginx"},
            "TRUSTED_PROXY_ADDRESSES must list IP addresses or networks",
        ),
    ],
)
def test_settings_refuse_a_bad_environment_value_with_a_clear_error(overrides, message):
    result = _load_settings(**overrides)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("Yes", True), ("on", True), ("0", False), ("off", False)]
)
def test_env_bool_reads_the_usual_spellings(raw, expected):
    assert env_bool("FLAG", not expected, environ={"FLAG": raw}) is expected


def test_env_bool_falls_back_to_its_default_when_unset():
    assert env_bool("FLAG", True, environ={}) is True


def test_env_int_enforces_its_range():
    assert env_int("N", 5, minimum=1, maximum=10, environ={"N": "10"}) == 10
    with pytest.raises(ImproperlyConfigured, match="between 1 and 10"):
        env_int("N", 5, minimum=1, maximum=10, environ={"N": "11"})


def test_env_list_splits_on_commas_and_drops_blanks():
    assert env_list("HOSTS", [], environ={"HOSTS": "a.org, b.org,,"}) == ["a.org", "b.org"]


def test_database_url_with_a_socket_directory():
    config = database_from_url("postgres://postgres@/clinic?host=/tmp/pg&sslmode=disable")

    assert config["HOST"] == "/tmp/pg"
    assert config["NAME"] == "clinic"
    assert config["USER"] == "postgres"
    assert config["OPTIONS"] == {"sslmode": "disable"}


def test_database_url_with_host_port_and_escaped_password():
    config = database_from_url("postgresql://app:p%40ss@db.internal:6543/clinic")

    assert (config["HOST"], config["PORT"], config["PASSWORD"]) == ("db.internal", "6543", "p@ss")


def test_database_url_without_a_database_name_is_refused():
    with pytest.raises(ImproperlyConfigured, match="must name a database"):
        database_from_url("postgres://db.internal/")


def test_redis_url_accepts_unix_sockets():
    assert redis_url(environ={"REDIS_URL": "unix:///run/redis.sock"}) == "unix:///run/redis.sock"


def test_database_url_keeps_target_session_attrs_for_failover():
    config = database_from_url(
        "postgres://app:secret@db1.internal:5432,db2.internal:5433/clinic"
        "?target_session_attrs=read-write&sslmode=verify-full"
    )

    assert config["HOST"] == "db1.internal,db2.internal"
    assert config["PORT"] == "5432,5433"
    assert config["OPTIONS"] == {"target_session_attrs": "read-write", "sslmode": "verify-full"}


def test_managed_services_settings_reach_django_and_celery():
    """DATABASE_URL's options end up in DATABASES, and a rediss:// REDIS_URL gives the cache,
    the broker and the result backend verified TLS (docs/operations.md#managed-services)."""
    probe = (
        "import django, json, ssl; django.setup()\n"
        "from django.conf import settings\n"
        "from celery.backends.redis import RedisBackend\n"
        "from clinic.celery import app\n"
        "backend = RedisBackend(app=app, url=settings.REDIS_URL)\n"
        "print(json.dumps({\n"
        "  'options': settings.DATABASES['default']['OPTIONS'],\n"
        "  'databases': list(settings.DATABASES),\n"
        "  'routers': settings.DATABASE_ROUTERS,\n"
        "  'broker_ssl': app.conf.broker_use_ssl['ssl_cert_reqs'] == ssl.CERT_REQUIRED,\n"
        "  'broker_ca': app.conf.broker_use_ssl['ssl_ca_certs'],\n"
        "  'connection_ssl': bool(app.connection_for_write().ssl),\n"
        "  'backend_ssl': backend.connparams['ssl_cert_reqs'] == ssl.CERT_REQUIRED,\n"
        "  'cache_ssl': settings.CACHES['default']['OPTIONS']['ssl_cert_reqs']\n"
        "     == ssl.CERT_REQUIRED,\n"
        "}))\n"
    )
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "x" * 60,
        "DATABASE_URL": "postgres://clinic@db.internal/clinic?target_session_attrs=read-write",
        "REDIS_URL": "rediss://:secret@cache.internal:6380/0",
        "REDIS_TLS_CA_CERTS": "/etc/ssl/certs/ca-certificates.crt",
    }
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    import json

    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found == {
        "options": {"target_session_attrs": "read-write"},
        # No read replica anywhere, so none on the booking path: one database, no router.
        "databases": ["default"],
        "routers": [],
        "broker_ssl": True,
        "broker_ca": "/etc/ssl/certs/ca-certificates.crt",
        "connection_ssl": True,
        "backend_ssl": True,
        "cache_ssl": True,
    }


def test_a_plain_redis_url_configures_no_tls():
    from clinic.env import redis_tls_options

    assert redis_tls_options("redis://cache.internal:6379/0") == {}
    assert redis_tls_options("unix:///run/redis.sock") == {}
