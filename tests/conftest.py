from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.test import Client, override_settings

from accounts.models import Role, User
from tests.factories import PASSWORD, UserFactory


@pytest.fixture(scope="session", autouse=True)
def _plain_http_in_tests():
    """Production settings redirect to HTTPS and serve hashed static files from collectstatic.

    The test client and the live server speak plain HTTP and serve static sources directly. The
    override is session-wide because the live server builds its middleware once, on first use.
    """
    from django.conf import settings

    with override_settings(
        SECURE_SSL_REDIRECT=False,
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    ):
        yield


@pytest.fixture
def make_user(db: None):
    def make(role: Role = Role.PATIENT, **fields: object) -> User:
        return UserFactory(role=role, **fields)

    return make


@pytest.fixture
def login():
    """Sign a user in through the real login form, as a person would, in a client of its own."""

    def sign_in(user: User) -> Client:
        client = Client()
        response = client.post(
            "/login/", {"username": user.email, "password": PASSWORD}, follow=False
        )
        assert response.status_code == 302, "the login form refused the test user"
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
