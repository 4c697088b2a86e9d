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
