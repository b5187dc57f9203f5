"""Logs: one id per request, in every line and on the response; JSON lines with extras."""

import io
import json
import logging
import logging.config
import sys

import pytest
from django.conf import settings
from django.test import Client

from shop.logs import build_logging_config, running_management_command
from shop.tests.test_deploy import production_env, run


@pytest.fixture
def log_lines():
    """Apply the real logging configuration with its handler writing to a buffer.

    Returns a function giving the lines written so far; the project's configuration is put
    back afterwards.
    """

    def configure(log_format: str):
        config = build_logging_config(log_format=log_format)
        config["handlers"]["console"]["stream"] = buffer
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


@pytest.mark.parametrize("log_format", ["plain", "json"])
def test_a_host_outside_allowed_hosts_is_one_warning_line_without_traceback(
    client, db, log_lines, log_format
):
    """Bots asking for other host names get 400 and leave one WARNING line, not an ERROR
    with a traceback that would flood the logs and the alerts."""
    lines = log_lines(log_format)

    response = client.get("/", headers={"Host": "scanner.example"})

    assert response.status_code == 400
    output = lines()
    assert len(output) == 1, output
    assert "Traceback" not in "\n".join(output)
    if log_format == "json":
        record = json.loads(output[0])
        assert record["level"] == "WARNING"
        assert record["name"] == "django.security.DisallowedHost"
        assert "exc_info" not in record
        assert "scanner.example" in record["message"]
    else:
        assert " WARNING django.security.DisallowedHost " in output[0]
        assert "Invalid HTTP_HOST header: 'scanner.example'" in output[0]


def test_other_security_errors_keep_their_level(log_lines):
    """Only the host check is quietened: other suspicious operations stay errors."""
    lines = log_lines("plain")

    logging.getLogger("django.security.SuspiciousSession").error("Session data corrupted")

    assert " ERROR django.security.SuspiciousSession " in lines()[-1]


def test_dumpdata_output_stays_valid_json_with_logging_on(tmp_path):
    """Management commands log to stderr: `manage.py dumpdata > backup.json` gives JSON even
    with every SQL query logged (DEBUG, LOG_LEVEL=DEBUG), and the logs are on stderr."""
    env = production_env(
        tmp_path, DEBUG="true", LOG_LEVEL="DEBUG", LOG_FORMAT="json", SECURE_SSL_REDIRECT="false"
    )
    migrate = run([sys.executable, "manage.py", "migrate", "--noinput"], env)
    assert migrate.returncode == 0, migrate.stderr

    dump = run([sys.executable, "manage.py", "dumpdata", "contenttypes"], env)

    assert dump.returncode == 0, dump.stderr
    data = json.loads(dump.stdout)
    assert {"app_label": "products", "model": "product"} in [row["fields"] for row in data]
    logged = [json.loads(line) for line in dump.stderr.splitlines() if line.startswith("{")]
    assert any(r["name"] == "django.db.backends" and "SELECT" in r["message"] for r in logged)


def test_web_processes_log_to_stdout():
    """gunicorn and tests log to stdout, where a Procfile platform collects them."""
    assert not running_management_command(["/app/.venv/bin/gunicorn", "shop.wsgi"])
    assert running_management_command(["manage.py", "dumpdata"])
    assert running_management_command(["/usr/bin/django-admin", "dumpdata"])
    assert running_management_command(["/venv/lib/python3.11/site-packages/django/__main__.py"])
    assert build_logging_config(log_format="json")["handlers"]["console"]["stream"] == (
        "ext://sys.stdout"
    )
