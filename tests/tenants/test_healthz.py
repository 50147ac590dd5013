import pytest
from django.db import OperationalError
from django.test import Client


@pytest.mark.django_db
@pytest.mark.parametrize(
    "host", ["localhost", "127.0.0.1", "acme.eu.localhost", "eu.localhost:8000"]
)
def test_it_answers_on_every_allowed_host(host):
    response = Client(HTTP_HOST=host).get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_it_answers_503_when_the_database_cannot_be_queried(monkeypatch):
    from django.db import connection

    def broken_cursor(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = Client(HTTP_HOST="127.0.0.1").get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unavailable", "cache": "ok"}


@pytest.mark.django_db
def test_it_refuses_post():
    assert Client(HTTP_HOST="localhost").post("/healthz").status_code == 405
