"""The sign-in lockout counts the address the connection came from, through the proxy and not.

docker-compose.yml runs nginx (deploy/nginx/clinic.conf) as the only way in and gunicorn behind
it with TRUSTED_PROXY_COUNT=1 and TRUSTED_PROXY_ADDRESSES naming that proxy. These tests run the
same pair on loopback: each visitor connects from an address of its own (127.0.0.3, .4, .5), the
proxy reaches gunicorn from 127.0.0.2, and every visitor writes whatever X-Forwarded-For it likes.
"""

from __future__ import annotations

import http.client
import re
import ssl
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.hashers import Argon2PasswordHasher

from accounts.models import Role, User
from tests.factories import PASSWORD, UserFactory
from tests.servers import start_gunicorn, start_nginx

LOCKED = "Too many unsuccessful sign-ins"
PROXY = "127.0.0.2"
# What docker-compose.yml gives the web service, with the proxy's address on this machine.
BEHIND_THE_PROXY = {
    "BEHIND_TLS_PROXY": "true",
    "TRUSTED_PROXY_COUNT": "1",
    "TRUSTED_PROXY_ADDRESSES": PROXY,
}


@dataclass
class Answer:
    status: int
    text: str


@dataclass
class Visitor:
    """Someone at `source` signing in at `base`, over HTTPS (the proxy) or HTTP (gunicorn)."""

    base: str
    source: str
    certificate: Path | None = None

    def _send(self, method: str, path: str, body: str = "", **headers: str) -> Answer:
        url = urllib.parse.urlsplit(self.base)
        connection: http.client.HTTPConnection
        if url.scheme == "https":
            connection = http.client.HTTPSConnection(
                url.hostname or "",
                url.port,
                context=ssl.create_default_context(cafile=self.certificate),
                source_address=(self.source, 0),
                timeout=30,
            )
        else:
            connection = http.client.HTTPConnection(
                url.hostname or "", url.port, source_address=(self.source, 0), timeout=30
            )
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            answer = Answer(response.status, response.read().decode())
            self.cookie = response.getheader("Set-Cookie", "") or getattr(self, "cookie", "")
            return answer
        finally:
            connection.close()

    def sign_in(self, email: str, password: str, forwarded: str | None = None) -> Answer:
        extra = {"X-Forwarded-For": forwarded} if forwarded else {}
        form = self._send("GET", "/login/", **extra)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
        cookie = re.search(r"csrftoken=([^;]+)", self.cookie)
        assert token and cookie, form.text[:500]
        return self._send(
            "POST",
            "/login/",
            urllib.parse.urlencode(
                {"csrfmiddlewaretoken": token[1], "username": email, "password": password}
            ),
            **extra,
            Cookie=f"csrftoken={cookie[1]}",
            Origin=self.base,
            Referer=f"{self.base}/login/",
            **{"Content-Type": "application/x-www-form-urlencoded"},
        )


def _patient() -> User:
    """A patient whose password gunicorn can check: its settings hash with Argon2, not with the
    tests' fast hasher."""
    user = UserFactory.create(role=Role.PATIENT)
    hasher = Argon2PasswordHasher()
    User.objects.filter(pk=user.pk).update(password=hasher.encode(PASSWORD, hasher.salt()))
    return user


def _addresses_counted() -> set[str]:
    return set(AccessAttempt.objects.values_list("ip_address", flat=True))


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_through_the_proxy_the_lockout_counts_the_real_client_whatever_it_forwards(tmp_path):
    user = _patient()
    app, stop_app, kill_app = start_gunicorn(tmp_path, log_level="info", environ=BEHIND_THE_PROXY)
    proxy, certificate, stop_proxy = start_nginx(tmp_path, upstream=app, bind=PROXY)
    try:
        attacker = Visitor(proxy, "127.0.0.3", certificate)
        neighbour = Visitor(proxy, "127.0.0.4", certificate)
        # Twenty wrong passwords, each claiming another address, half of them the neighbour's.
        for n in range(20):
            forged = "127.0.0.4" if n % 2 else f"198.51.100.{n}, 203.0.113.{n}"
            wrong = attacker.sign_in(f"guess{n}@example.org", "wrong", forwarded=forged)
            assert wrong.status == (200 if n < 19 else 429)  # the 20th failure locks

        neighbours_sign_in = neighbour.sign_in(user.email, PASSWORD)
        attackers_next = attacker.sign_in(user.email, PASSWORD, forwarded="198.51.100.99")
    finally:
        stop_proxy()
        stop_app()
        kill_app()

    assert neighbours_sign_in.status == 302
    assert attackers_next.status == 429
    assert LOCKED in attackers_next.text
    assert _addresses_counted() == {"127.0.0.3"}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_client_that_reaches_gunicorn_directly_cannot_choose_its_address(tmp_path):
    """Gunicorn trusts the header only from the proxy's address; from anywhere else, and with
    no trusted proxy at all (TRUSTED_PROXY_COUNT=0, `make run`), the peer is the client."""
    user = _patient()
    for count, environ in [("1", BEHIND_THE_PROXY), ("0", {"TRUSTED_PROXY_COUNT": "0"})]:
        AccessAttempt.objects.all().delete()
        app, stop_app, kill_app = start_gunicorn(
            tmp_path / count, log_level="info", environ=environ
        )
        try:
            attacker = Visitor(app, "127.0.0.5")
            for n in range(20):
                attacker.sign_in(f"guess{n}@example.org", "wrong", forwarded=f"198.51.100.{n}")
            attackers_next = attacker.sign_in(user.email, PASSWORD, forwarded="198.51.100.99")
            neighbours = Visitor(app, "127.0.0.6").sign_in(
                user.email, PASSWORD, forwarded="127.0.0.5"
            )
        finally:
            stop_app()
            kill_app()

        assert LOCKED in attackers_next.text, f"TRUSTED_PROXY_COUNT={count}"
        assert neighbours.status == 302, f"TRUSTED_PROXY_COUNT={count}"
        assert _addresses_counted() == {"127.0.0.5"}, f"TRUSTED_PROXY_COUNT={count}"
