"""`GET /healthz`: what the platform's health check sees."""

import logging
from unittest import mock

import pytest
from django.db import OperationalError, connection


def _database_down(execute, sql, params, many, context):
    """An execute wrapper that fails every statement, as a database that went away does."""
    raise OperationalError("connection to server at 127.0.0.1, port 5432 failed")


def test_healthz_answers_ok_when_the_database_answers(client, db):
    """200, the body `ok`, as plain text that no cache keeps."""
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Content-Type"].startswith("text/plain")
    assert "no-cache" in response["Cache-Control"]


def test_healthz_really_asks_the_database(client, db, django_assert_num_queries):
    """The check runs a query: a process with a dead database must not say ok."""
    with django_assert_num_queries(1):
        client.get("/healthz")


def test_healthz_is_503_when_the_database_is_down(client, db, caplog):
    """When the database raises, the answer is 503 and the failure is logged."""
    with (
        caplog.at_level(logging.ERROR, logger="shop.views"),
        connection.execute_wrapper(_database_down),
    ):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.content != b"ok"
    assert "no-cache" in response["Cache-Control"]
    assert any("database" in r.getMessage() for r in caplog.records)


def test_healthz_is_503_when_no_connection_can_be_opened(client, db):
    """A failure while opening a connection (not only while executing) is a 503 too."""
    refused = OperationalError("could not connect to server")
    with mock.patch.object(connection, "cursor", side_effect=refused):
        response = client.get("/healthz")

    assert response.status_code == 503


def test_healthz_is_ok_again_once_the_database_is_back(client, db):
    """Nothing is cached between checks: the next check after an outage says ok."""
    with connection.execute_wrapper(_database_down):
        assert client.get("/healthz").status_code == 503

    assert client.get("/healthz").status_code == 200


def test_healthz_refuses_post(client, db):
    """Only GET (and HEAD) are answered."""
    assert client.post("/healthz").status_code == 405


@pytest.mark.parametrize(("path", "status"), [("/healthz", 200), ("/", 301)])
def test_healthz_is_exempt_from_the_https_redirect(client, db, settings, path, status):
    """Behind SECURE_SSL_REDIRECT, plain HTTP to /healthz still answers; pages redirect."""
    settings.SECURE_SSL_REDIRECT = True

    response = client.get(path)

    assert response.status_code == status
    if status == 301:
        assert response["Location"].startswith("https://")
