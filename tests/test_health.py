"""Two probes: `/healthz` says the process answers (liveness: restart me if not), `/readyz` says
it can serve (readiness: send me traffic): PostgreSQL, Redis and file storage reachable and every
migration applied. A 503 names what is missing."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def database_down():
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update({"HOST": "127.0.0.1", "PORT": str(_closed_port())})
    yield
    connection.close()
    connection.settings_dict.clear()
    connection.settings_dict.update(saved)


@pytest.mark.django_db
def test_readyz_answers_200_when_everything_it_needs_answers(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "redis": "ok",
        "storage": "ok",
        "migrations": "ok",
    }


@pytest.mark.django_db
def test_readyz_answers_503_naming_redis_when_redis_is_down(client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{_closed_port()}/0"

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["redis"] == "unavailable"
    assert response.json()["database"] == "ok"


@pytest.mark.django_db(transaction=True)
def test_readyz_answers_503_naming_the_database_when_it_is_down(client, database_down):
    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"
    assert response.json()["redis"] == "ok"
    # Nothing to ask about migrations without a database.
    assert response.json()["migrations"] == "unknown"


@pytest.mark.django_db
def test_readyz_answers_503_naming_storage_when_files_cannot_be_written(client, settings, tmp_path):
    # A file where the directory should be: refused even to root, who writes anywhere else.
    blocked = tmp_path / "blocked"
    blocked.write_text("a file, not a directory")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(blocked / "media")},
        },
    }

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["storage"] == "unavailable"
    assert response.json()["database"] == "ok"


@pytest.mark.django_db
def test_readyz_answers_503_while_a_migration_is_not_applied(client, monkeypatch):
    # A process remembers that migrations were applied; this one starts before they are.
    monkeypatch.setattr("clinic.views._migrations_applied", False)
    latest = MigrationRecorder.Migration.objects.filter(app="scheduling").latest("id")
    latest.delete()  # rolled back with the test's transaction

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["migrations"] == "unavailable"
    assert response.json()["database"] == "ok"


@pytest.mark.django_db
def test_healthz_answers_200_while_the_process_runs_even_with_redis_down(client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{_closed_port()}/0"

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db(transaction=True)
def test_healthz_answers_200_while_the_process_runs_even_with_the_database_down(
    client, database_down
):
    response = client.get("/healthz")

    assert response.status_code == 200
