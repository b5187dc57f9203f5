"""Work deferred until the response has left (shop/after_response.py)."""

import logging

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from shop.after_response import AfterResponseMiddleware, defer


# Closing a response sends request_finished, whose receivers include Django's own
# close_old_connections: it touches the test database's connection (kept open on SQLite).
@pytest.mark.django_db
def test_deferred_work_runs_once_the_response_is_closed():
    calls = []

    def view(request):
        defer(calls.append, "mail")
        return HttpResponse("ok")

    response = AfterResponseMiddleware(view)(RequestFactory().get("/"))
    assert calls == []  # the server is still sending the response

    response.close()  # what the WSGI server does after the last byte
    assert calls == ["mail"]

    defer(calls.append, "later")  # after the request: at once
    assert calls == ["mail", "later"]


def test_outside_a_request_it_runs_at_once():
    calls = []
    defer(calls.append, 1)
    assert calls == [1]


@pytest.mark.django_db
def test_a_failure_after_the_response_is_logged_not_raised(caplog):
    def view(request):
        defer(lambda: 1 / 0)
        return HttpResponse("ok")

    response = AfterResponseMiddleware(view)(RequestFactory().get("/"))
    with caplog.at_level(logging.ERROR, logger="shop.after_response"):
        response.close()

    assert "Deferred work failed" in caplog.text
