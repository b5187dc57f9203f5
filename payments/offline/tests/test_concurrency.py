"""Races on one session or one idempotency key, through the threaded live server.

PostgreSQL only: with SQLite's in-memory test database every server thread shares one
connection, which says nothing about several processes."""

import contextlib
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import stripe

from payments.offline.models import CheckoutSession, Event, PaymentIntent
from payments.offline.tests.helpers import verify

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]
CLICKS = 5


def test_concurrent_payer_clicks_pay_once(stripe_client, session_params, webhooks):
    """Five Payer posts at once: one completes the session, the others get the French
    refusal; one PaymentIntent, one pair of events."""
    session = stripe_client.v1.checkout.sessions.create(session_params())
    pages = [requests.get(session.url, timeout=10) for _ in range(CLICKS)]
    start = threading.Barrier(CLICKS)

    def click(page: requests.Response) -> int:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        start.wait()
        return requests.post(
            session.url + "payer/",
            data={"csrfmiddlewaretoken": token, "email": "a@example.com", "name": "A"},
            headers={"Cookie": f"csrftoken={page.cookies['csrftoken']}"},
            allow_redirects=False,
            timeout=30,
        ).status_code

    with ThreadPoolExecutor(CLICKS) as pool:
        statuses = sorted(pool.map(click, pages))

    assert statuses == [303] + [409] * (CLICKS - 1)
    assert PaymentIntent.objects.count() == 1
    assert sorted(verify(d).type for d in webhooks) == [
        "checkout.session.completed",
        "payment_intent.succeeded",
    ]


def test_payer_racing_expiry_changes_the_session_once(stripe_client, session_params, webhooks):
    """Payer and an API expiry at the same moment: exactly one wins, and the shop hears
    only the winner's events."""
    session = stripe_client.v1.checkout.sessions.create(session_params())
    page = requests.get(session.url, timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    start = threading.Barrier(2)

    def pay() -> None:
        start.wait()
        requests.post(
            session.url + "payer/",
            data={"csrfmiddlewaretoken": token, "email": "a@example.com", "name": "A"},
            headers={"Cookie": f"csrftoken={page.cookies['csrftoken']}"},
            allow_redirects=False,
            timeout=30,
        )

    def expire() -> None:
        start.wait()
        with contextlib.suppress(stripe.InvalidRequestError):  # the loser's 400
            stripe_client.v1.checkout.sessions.expire(session.id)

    with ThreadPoolExecutor(2) as pool:
        for future in [pool.submit(pay), pool.submit(expire)]:
            future.result()

    status = CheckoutSession.objects.get(stripe_id=session.id).status
    types = sorted(Event.objects.values_list("type", flat=True))
    if status == "complete":
        assert types == ["checkout.session.completed", "payment_intent.succeeded"]
    else:
        assert (status, types) == ("expired", ["checkout.session.expired"])
        assert PaymentIntent.objects.count() == 0
    assert sorted(verify(d).type for d in webhooks) == types


def test_concurrent_retries_with_one_idempotency_key_create_one_session(
    stripe_client, session_params
):
    params = session_params()
    start = threading.Barrier(CLICKS)

    def create(_: int) -> str:
        start.wait()
        return stripe_client.v1.checkout.sessions.create(params, {"idempotency_key": "same"}).id

    with ThreadPoolExecutor(CLICKS) as pool:
        ids = set(pool.map(create, range(CLICKS)))

    assert len(ids) == 1
    assert CheckoutSession.objects.count() == 1
