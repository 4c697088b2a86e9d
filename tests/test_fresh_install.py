"""A fresh install works on the first start (docs/operations.md#the-two-commands), and existing
enrolments survive the move to django-otp (docs/security.md#sign-in). Both run `manage.py migrate`
in a subprocess against a database of their own, created empty on the test server, exactly as the
first `make run` does."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest
from django.db import connection

from accounts.permissions import MANAGED, VIEWED

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.django_db


def _server_connection(database: str):
    settings = connection.settings_dict
    conn = psycopg2.connect(
        dbname=database,
        user=settings["USER"],
        password=settings["PASSWORD"],
        host=settings["HOST"],
        port=settings["PORT"] or None,
    )
    conn.autocommit = True
    return conn


@contextlib.contextmanager
def _empty_database() -> Iterator[tuple[str, str]]:
    """(name, DATABASE_URL) of a new empty database, dropped afterwards."""
    name = f"fresh_{uuid.uuid4().hex[:12]}"
    admin = _server_connection("postgres")
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(os.environ["DATABASE_URL"])
    try:
        yield name, urlunsplit(parts._replace(path="/" + name))
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _manage(url: str, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "DATABASE_CONN_MAX_AGE": "0"}
    done = subprocess.run(
        [sys.executable, "manage.py", *args, "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]


def _group_permissions(database: str) -> dict[str, set[tuple[str, str]]]:
    conn = _server_connection(database)
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                """
                SELECT g.name, ct.app_label, p.codename
                FROM auth_group g
                JOIN auth_group_permissions gp ON gp.group_id = g.id
                JOIN auth_permission p ON p.id = gp.permission_id
                JOIN django_content_type ct ON ct.id = p.content_type_id
                """
            )
            found: dict[str, set[tuple[str, str]]] = {}
            for group, app_label, codename in cursor.fetchall():
                found.setdefault(group, set()).add((app_label, codename))
            return found
    finally:
        conn.close()


def test_one_migrate_of_an_empty_database_gives_the_clinic_admins_every_permission():
    with _empty_database() as (name, url):
        _manage(url, "migrate")
        groups = _group_permissions(name)

    admins = groups.get("Clinic administrators", set())
    for app_label, model in MANAGED:
        assert (app_label, f"view_{model}") in admins, (app_label, model)
        assert (app_label, f"change_{model}") in admins, (app_label, model)
    for app_label, model in VIEWED:
        assert (app_label, f"view_{model}") in admins, (app_label, model)
    assert ("locations", "add_location") in admins
    assert ("locations", "change_nurseshift") in admins
    assert ("review", "change_protocoltemplate") in admins
    # Every group there is has its permissions, not only the first app's.
    assert set(groups) == {"Clinic administrators"}


def test_existing_authenticators_and_recovery_codes_move_to_django_otp():
    from django_otp.oath import TOTP

    secret = "KRSXG5CTMVRXEZLUKN2XAZLSONSWG4TF"
    recovery = ["0a1b2c3d4e", "ffeeddccbb"]
    with _empty_database() as (name, url):
        _manage(url, "migrate", "accounts", "0004")
        conn = _server_connection(name)
        with conn.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO accounts_user (password, is_superuser, first_name, last_name,
                    is_staff, is_active, date_joined, email, public_id, role)
                VALUES ('!', false, 'Old', 'Nurse', false, true, now(), 'old.nurse@example.org',
                    %s, 'nurse') RETURNING id
                """,
                [str(uuid.uuid4())],
            )
            user_id = cursor.fetchone()[0]
            cursor.execute(
                "INSERT INTO accounts_staffdevice (user_id, secret, confirmed_at, last_step) "
                "VALUES (%s, %s, now(), 123)",
                [user_id, secret],
            )
            for code in recovery:
                cursor.execute(
                    "INSERT INTO accounts_recoverycode (user_id, code_hash) VALUES (%s, %s)",
                    [user_id, hashlib.sha256(code.encode()).hexdigest()],
                )
            cursor.execute(
                "INSERT INTO accounts_recoverycode (user_id, code_hash, used_at) "
                "VALUES (%s, %s, now())",
                [user_id, hashlib.sha256(b"usedusedus").hexdigest()],
            )
        conn.close()

        _manage(url, "migrate")

        conn = _server_connection(name)
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT key, confirmed, last_t FROM otp_totp_totpdevice WHERE user_id = %s",
                [user_id],
            )
            devices = cursor.fetchall()
            cursor.execute(
                "SELECT t.token FROM otp_static_statictoken t "
                "JOIN otp_static_staticdevice d ON d.id = t.device_id WHERE d.user_id = %s",
                [user_id],
            )
            tokens = {row[0] for row in cursor.fetchall()}
            cursor.execute(
                "SELECT tablename FROM pg_tables WHERE tablename IN "
                "('accounts_staffdevice', 'accounts_recoverycode', 'accounts_loginfailure')"
            )
            old_tables = cursor.fetchall()
        conn.close()

    assert len(devices) == 1
    key, confirmed, last_t = devices[0]
    assert key == base64.b32decode(secret).hex()
    assert (confirmed, last_t) == (True, 123)
    # The same authenticator app keeps producing codes the new device accepts.
    assert TOTP(bytes.fromhex(key)).token() == TOTP(base64.b32decode(secret)).token()
    from accounts.security import recovery_token

    assert tokens == {recovery_token(code) for code in recovery}
    assert old_tables == []
