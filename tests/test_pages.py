from __future__ import annotations

import pytest
from django.test import RequestFactory

from clinic.views import server_error


@pytest.mark.django_db
def test_an_unknown_address_gets_the_friendly_404(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()


def test_the_500_page_renders_without_any_context():
    response = server_error(RequestFactory().get("/"))

    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


@pytest.mark.django_db
def test_the_layout_has_landmarks_a_skip_link_and_local_assets_only(client):
    html = client.get("/login/").content.decode()

    assert 'href="#main"' in html
    assert '<main id="main"' in html
    assert "<header>" in html and "<footer" in html
    assert 'for="id_username"' in html
    assert "cdn" not in html.lower()
    assert "/static/vendor/bootstrap/bootstrap.min.css" in html


def test_collectstatic_succeeds_with_the_production_storage(tmp_path):
    """The Docker image runs collectstatic with hashed names: every reference must resolve."""
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "x" * 50,
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    assert list((tmp_path / "static" / "vendor" / "bootstrap").glob("bootstrap.min.*.css"))
