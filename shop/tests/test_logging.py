"""Logs: one id per request, in every line and on the response; JSON lines with extras."""

import io
import json
import logging
import logging.config

import pytest
from django.conf import settings
from django.test import Client

from shop.logs import build_logging_config


@pytest.fixture
def log_lines():
    """Apply the real logging configuration with its handler writing to a buffer.

    Returns a function giving the lines written so far; the project's configuration is put
    back afterwards.
    """

    def configure(log_format: str):
        config = build_logging_config(log_format=log_format)
        config["handlers"]["stdout"]["stream"] = buffer
        logging.config.dictConfig(config)
        return lambda: [line for line in buffer.getvalue().splitlines() if line.strip()]

    buffer = io.StringIO()
    yield configure
    logging.config.dictConfig(settings.LOGGING)


def test_each_response_carries_a_request_id(client, db):
    """A new id per request, on `X-Request-ID`."""
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]

    assert len(first) == 32
    assert first != second


def test_the_proxys_request_id_is_kept(client, db):
    """The router's id (Heroku sends one) is reused, so both logs tell the same story."""
    given = "9f1c2b3a-1111-4a2b-8c3d-0123456789ab"
    response = client.get("/healthz", headers={"X-Request-ID": given})

    assert response["X-Request-ID"] == given


def test_a_request_id_that_is_not_an_id_is_replaced(client, db):
    """A client cannot write arbitrary text into the logs through the header."""
    response = client.get("/healthz", headers={"X-Request-ID": 'x" injected {"level": "ok"}'})

    assert response["X-Request-ID"] != 'x" injected {"level": "ok"}'
    assert len(response["X-Request-ID"]) == 32


@pytest.mark.urls("shop.tests.urls_errors")
def test_json_lines_carry_the_request_id_the_extras_and_the_traceback(db, log_lines):
    """In production, each line is one JSON object. A payment line has the request's id and
    the order/event fields the code passed; the error has its traceback; both are findable
    with the id from the response."""
    lines = log_lines("json")
    client = Client(raise_request_exception=False)

    response = client.get("/boom/", headers={"X-Request-ID": "req-42"})

    records = [json.loads(line) for line in lines()]
    assert response["X-Request-ID"] == "req-42"
    payment = next(r for r in records if r["message"] == "Marking order paid")
    assert payment["request_id"] == "req-42"
    assert payment["order"] == "B-1042"
    assert payment["event_id"] == "evt_1"
    assert payment["event_type"] == "checkout.session.completed"
    assert payment["level"] == "INFO"
    assert payment["name"] == "payments.services"
    error = next(r for r in records if r["message"].startswith("Internal Server Error"))
    assert error["request_id"] == "req-42"
    assert error["level"] == "ERROR"
    assert "RuntimeError: something broke" in error["exc_info"]
    assert "Traceback" in error["exc_info"]


def test_lines_outside_a_request_have_no_request_id(log_lines):
    """A management command or a start-up line says "-" rather than a stale id."""
    lines = log_lines("json")

    logging.getLogger("payments.reconcile").warning("Refund retried", extra={"order": "B-7"})

    record = json.loads(lines()[-1])
    assert record["request_id"] == "-"
    assert record["order"] == "B-7"


def test_plain_lines_are_readable_and_keep_the_extras(client, db, log_lines):
    """In development: time, level, logger, [request id], message, key=value extras."""
    lines = log_lines("plain")

    client.get("/page-absente/", headers={"X-Request-ID": "req-7"})
    logging.getLogger("payments.webhooks").info(
        "Event handled", extra={"event_id": "evt_9", "order": "B-9"}
    )

    not_found = next(line for line in lines() if "Not Found" in line)
    assert " WARNING django.request [req-7] Not Found: /page-absente/" in not_found
    assert lines()[-1].endswith("INFO payments.webhooks [-] Event handled event_id=evt_9 order=B-9")


def test_an_unknown_log_format_is_refused():
    """A typo in LOG_FORMAT stops start-up instead of silently logging another way."""
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        build_logging_config(log_format="xml")
