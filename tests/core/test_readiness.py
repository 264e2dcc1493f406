"""/healthz and /readyz against real components, including a Redis that dies."""

import tempfile
from pathlib import Path

import pytest
from django.test import override_settings

from core import embedded_redis

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_dependencies(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_ready_when_database_redis_and_geoip_answer(client, redis_conn):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "redis": "ok", "geoip": "ok"}


@pytest.fixture
def doomed_redis():
    """A real redis-server of our own that the test can kill."""
    port = embedded_redis.free_port()
    process = embedded_redis.start(Path(tempfile.mkdtemp()), port, persistent=False)
    yield process, f"redis://127.0.0.1:{port}/0"
    if process.poll() is None:
        process.kill()
        process.wait()


def test_readiness_reports_a_dead_redis_by_name(client, doomed_redis):
    process, url = doomed_redis
    with override_settings(REDIS_URL=url):
        assert client.get("/readyz").status_code == 200
        process.kill()
        process.wait()
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["error"]["code"] == "NOT_READY"
    assert "redis" in body["error"]["message"]
    assert body["checks"]["redis"].startswith("unavailable")
    assert body["checks"]["database"] == "ok" and body["checks"]["geoip"] == "ok"


def test_readiness_reports_a_missing_geoip_database(client, redis_conn, tmp_path):
    with override_settings(GEOIP_CITY_DB=str(tmp_path / "missing.mmdb")):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["geoip"].startswith("unavailable")
    assert response.json()["checks"]["redis"] == "ok"
