import pytest
from django.db import OperationalError, connection

from config.celery import app as celery_app

pytestmark = pytest.mark.django_db


def test_it_answers_200_without_sign_in_when_database_and_broker_answer(client):
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}
    assert "no-cache" in response["Cache-Control"]


def test_it_answers_503_when_the_broker_is_unreachable(client, monkeypatch):
    # Port 9 on loopback: nothing listens, the connection is refused at once.
    monkeypatch.setattr(celery_app.conf, "broker_write_url", "redis://127.0.0.1:9/0")
    response = client.get("/healthz/")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "broker": "error"}


def test_it_answers_503_when_the_database_fails(client):
    def refuse(execute, sql, params, many, context):
        raise OperationalError("connection refused")

    with connection.execute_wrapper(refuse):
        response = client.get("/healthz/")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "error"


def test_it_reveals_no_versions_hosts_or_errors(client, monkeypatch):
    monkeypatch.setattr(celery_app.conf, "broker_write_url", "redis://127.0.0.1:9/0")
    body = client.get("/healthz/").content.decode().lower()
    for leak in ("127.0.0.1", "redis", "postgres", "sqlite", "django", "version", "refused"):
        assert leak not in body
