"""Twelve shoppers click "Commander" for the same piece at the same moment, one shopper
clicks it twice (PostgreSQL)."""

import threading
import time

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from payments import stripe_client
from payments.models import Order
from products.models import Product, StockStatus

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SHOPPERS = 12


def test_twelve_shoppers_one_piece_exactly_one_reaches_stripe(stripe_server, make_product):
    piece = make_product(name="Fauteuil bridge")
    clients = []
    for _ in range(SHOPPERS):
        client = Client()
        client.post(reverse("cart:add", args=[piece.pk]))
        clients.append(client)

    start = threading.Barrier(SHOPPERS)
    responses: list = [None] * SHOPPERS
    errors: list[BaseException] = []

    def shop(index: int) -> None:
        try:
            start.wait()
            responses[index] = clients[index].post(reverse("payments:checkout"), {"cgv": "on"})
        except BaseException as error:  # surfaced by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=shop, args=(i,)) for i in range(SHOPPERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [302] * (SHOPPERS - 1) + [303]
    winner = Order.objects.get()
    assert winner.status == Order.Status.PENDING
    assert [r["Location"] for r in responses if r.status_code == 303] == [winner.checkout_url]

    # Exactly one Checkout Session exists at the Stripe-compatible server.
    sessions = stripe_client.list_checkout_sessions(created_after=0)
    assert [s["id"] for s in sessions] == [winner.stripe_session_id]

    piece.refresh_from_db()
    assert piece.held_by_id == winner.pk
    assert Product.objects.with_status().get(pk=piece.pk).status == StockStatus.RESERVED
    for client, response in zip(clients, responses, strict=True):
        if response.status_code == 302:
            page = client.get(response["Location"]).content.decode()
            assert "« Fauteuil bridge » est en cours d&#x27;achat par un autre client" in page


@pytest.mark.parametrize("second_click", ["together", "while_at_stripe"])
def test_a_double_click_sends_both_clicks_to_one_session(
    stripe_server, make_product, monkeypatch, second_click
):
    """The same shopper clicks "Commander" twice, at the same moment or while Stripe is still
    creating the first session (it takes a while). Both answers lead to the same session, the
    only one at Stripe; the shopper is never told that someone else is buying their piece."""
    piece = make_product(name="Fauteuil bridge")
    first = Client()
    first.post(reverse("cart:add", args=[piece.pk]))
    second = Client()
    second.cookies = first.cookies  # the same browser, the same session

    create = stripe_client.create_checkout_session
    at_stripe = threading.Event()

    def slow_create(params, *, idempotency_key):
        at_stripe.set()
        time.sleep(0.5)  # Stripe's latency: long enough for the second click to land
        return create(params, idempotency_key=idempotency_key)

    monkeypatch.setattr(stripe_client, "create_checkout_session", slow_create)
    start = threading.Barrier(2)
    responses: list = [None, None]
    errors: list[BaseException] = []

    def click(index: int, client: Client) -> None:
        try:
            start.wait(timeout=30)
            if index == 1 and second_click == "while_at_stripe":
                assert at_stripe.wait(timeout=30)
            responses[index] = client.post(reverse("payments:checkout"), {"cgv": "on"})
        except BaseException as error:  # surfaced by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=click, args=(i, c)) for i, c in enumerate([first, second])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors
    assert [r.status_code for r in responses] == [303, 303]
    sessions = stripe_client.list_checkout_sessions(created_after=0)
    assert [s["status"] for s in sessions] == ["open"]
    order = Order.objects.get(stripe_session_id=sessions[0]["id"])
    assert [r["Location"] for r in responses] == [order.checkout_url] * 2
    assert order.status == Order.Status.PENDING
    piece.refresh_from_db()
    assert piece.held_by_id == order.pk
