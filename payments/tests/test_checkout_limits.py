"""Nobody can freeze the shop: open checkouts per client address, pieces per checkout.

The concurrency tests run on PostgreSQL with the offline Stripe server over real HTTP:
sessions that exist there are sessions the shop asked for.
"""

import logging
import threading
import time

import pytest
from django.contrib.messages import get_messages
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from cart.cart import Cart
from payments import exceptions, limits, services, stripe_client
from payments.models import Order
from payments.services import checkout
from products.models import Product, StockStatus

pytestmark = pytest.mark.django_db(transaction=True)

BOT = "81.2.69.142"
NEIGHBOUR = "81.2.69.160"


def cart_client(*products: Product, address: str = BOT) -> Client:
    client = Client(REMOTE_ADDR=address)
    for product in products:
        client.post(reverse("cart:add", args=[product.pk]))
    return client


def commander(client: Client):
    """Click "Commander", the conditions générales de vente accepted."""
    return client.post(reverse("payments:checkout"), {"cgv": "on"})


def status_of(product: Product) -> str:
    return Product.objects.with_status().get(pk=product.pk).status


def session_ids() -> set[str]:
    return {s["id"] for s in stripe_client.list_checkout_sessions(created_after=0)}


@pytest.mark.postgres
def test_the_fourth_concurrent_checkout_from_one_address_is_refused(
    stripe_server, make_product, caplog
):
    """Four fresh sessions from one address click Commander at the same moment, each for
    another piece, while a shopper elsewhere buys too: three checkouts open, the fourth gets
    429 and a French page (no order, no hold, no Checkout Session), the other address is not
    affected. The log names the address truncated, never whole."""
    pieces = [make_product(name=f"Vase n° {n}") for n in range(4)]
    elsewhere_piece = make_product(name="Lampe")
    clients = [cart_client(piece) for piece in pieces]
    clients.append(cart_client(elsewhere_piece, address=NEIGHBOUR))

    start = threading.Barrier(len(clients))
    responses: list = [None] * len(clients)
    errors: list[BaseException] = []

    def click(index: int) -> None:
        try:
            start.wait(timeout=30)
            responses[index] = commander(clients[index])
        except BaseException as error:  # surfaced by the assertion below
            errors.append(error)
        finally:
            connection.close()

    caplog.set_level(logging.INFO)
    threads = [threading.Thread(target=click, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors
    from_bot = responses[:4]
    assert sorted(r.status_code for r in from_bot) == [303, 303, 303, 429]
    assert responses[4].status_code == 303

    refused_index = next(i for i, r in enumerate(from_bot) if r.status_code == 429)
    page = from_bot[refused_index].content.decode()
    assert "Trop de paiements en cours" in page
    assert "au plus 3 à la fois" in page
    assert f'href="{reverse("cart:detail")}"' in page

    refused_piece = pieces[refused_index]
    assert status_of(refused_piece) == StockStatus.AVAILABLE
    assert not refused_piece.order_items.exists()
    assert Cart(clients[refused_index].session).product_ids == [refused_piece.pk]

    orders = Order.objects.all()
    assert orders.count() == 4
    assert session_ids() == {o.stripe_session_id for o in orders}
    bot_hash = limits.Client.from_address(BOT).hash
    assert orders.filter(client_hash=bot_hash).count() == 3
    assert limits.count_open_checkouts(bot_hash) == 3
    assert orders.exclude(client_hash=bot_hash).get().items.get().product == elsewhere_piece

    refusals = [r for r in caplog.records if r.name == "payments.limits"]
    assert [(r.levelname, r.client, r.open_checkouts, r.limit) for r in refusals] == [
        ("WARNING", "81.2.69.0", 3, 3)
    ]
    assert all(BOT not in f"{r.getMessage()} {r.__dict__}" for r in caplog.records)


def test_the_order_keeps_a_keyed_hash_of_the_address_not_the_address(
    stripe_server, make_product, settings
):
    commander(cart_client(make_product()))
    order = Order.objects.get()

    assert BOT not in str(Order.objects.values().get())
    assert len(order.client_hash) == 64
    assert order.client_hash == limits.Client.from_address(BOT).hash
    settings.SECRET_KEY = "another-secret-key-gives-other-hashes"
    assert order.client_hash != limits.Client.from_address(BOT).hash


def test_a_shopper_at_the_limit_can_still_replace_or_reopen_their_own_checkout(
    stripe_server, make_product
):
    """At the limit, a shopper of that address clicking Commander again gets their session
    back; changing their cart cancels their previous checkout before the count, so the
    new one is not refused. A new shopper from the address is."""
    pieces = [make_product() for _ in range(5)]
    shoppers = [cart_client(piece) for piece in pieces[:3]]
    assert [commander(s).status_code for s in shoppers] == [303, 303, 303]
    first = Order.objects.get(items__product=pieces[0])

    again = commander(shoppers[0])
    assert again.status_code == 303
    assert again["Location"] == first.checkout_url

    shoppers[0].post(reverse("cart:add", args=[pieces[3].pk]))
    replaced = commander(shoppers[0])

    assert replaced.status_code == 303
    first.refresh_from_db()
    assert first.status == Order.Status.CANCELLED
    assert status_of(pieces[0]) == StockStatus.RESERVED  # held again, by the new order
    assert limits.count_open_checkouts(first.client_hash) == 3

    newcomer = cart_client(pieces[4])
    assert commander(newcomer).status_code == 429
    assert status_of(pieces[4]) == StockStatus.AVAILABLE


def test_checkouts_that_no_longer_hold_a_piece_do_not_count(stripe_server, make_product):
    """Once a checkout is cancelled or expired, or its hold has lapsed, the address may
    open another."""
    pieces = [make_product() for _ in range(4)]
    for piece in pieces[:3]:
        assert commander(cart_client(piece)).status_code == 303
    assert commander(cart_client(pieces[3])).status_code == 429

    cancelled, lapsed, _ = Order.objects.order_by("pk")
    services.cancel_order(order_id=cancelled.pk)
    assert commander(cart_client(pieces[3])).status_code == 303
    assert commander(cart_client(make_product())).status_code == 429

    Product.objects.filter(held_by=lapsed).update(held_until="2000-01-01T00:00:00Z")
    assert commander(cart_client(make_product())).status_code == 303


@pytest.mark.postgres
def test_the_count_waits_for_another_connections_checkout_of_the_same_client(
    make_product, settings
):
    """The count is read from the database, serialised per client: while one connection is
    between counting and committing its order, a second checkout from the same client (on
    another connection, as from another process) waits for it, then counts it and is
    refused. Without the client's lock it would count one order too few."""
    settings.CHECKOUT_LIMIT_PER_CLIENT = 2
    client = limits.Client.from_address(BOT)
    first, second, third = make_product(), make_product(), make_product()
    checkout._create_order_and_hold(product_ids=[first.pk], shopper_id="a", client=client)

    counted = threading.Event()
    commit = threading.Event()
    outcome: dict[str, object] = {}

    def hold_open() -> None:
        try:
            with transaction.atomic():
                checkout._create_order_and_hold(
                    product_ids=[second.pk], shopper_id="b", client=client
                )
                counted.set()
                commit.wait(timeout=30)
                # Read before the commit: the waiter may be let through (and refused) before
                # this thread runs again after it.
                outcome["committing_at"] = time.monotonic()
        finally:
            connection.close()

    def second_checkout() -> None:
        try:
            checkout._create_order_and_hold(product_ids=[third.pk], shopper_id="c", client=client)
            outcome["second"] = "created"
        except exceptions.CheckoutLimitReached as refusal:
            outcome["second"] = refusal
            outcome["refused_at"] = time.monotonic()
        finally:
            connection.close()

    holder = threading.Thread(target=hold_open)
    holder.start()
    try:
        assert counted.wait(timeout=30)
        waiter = threading.Thread(target=second_checkout)
        waiter.start()
        waiter.join(timeout=0.5)
        assert waiter.is_alive(), "the second checkout did not wait for the first to commit"
    finally:
        commit.set()
        holder.join(timeout=30)
    waiter.join(timeout=30)

    refusal = outcome["second"]
    assert isinstance(refusal, exceptions.CheckoutLimitReached)
    assert (refusal.open_checkouts, refusal.limit) == (2, 2)
    assert outcome["refused_at"] >= outcome["committing_at"]
    assert status_of(third) == StockStatus.AVAILABLE
    assert Order.objects.count() == 2


def test_a_cart_over_the_pieces_limit_goes_back_to_the_cart(stripe_server, make_products):
    """Eleven pieces: back to the cart with a French message, nothing held, no order, no
    session. Ten pieces check out."""
    pieces = make_products(11)
    client = cart_client(*pieces)

    response = commander(client)

    assert response.status_code == 302
    assert response["Location"] == reverse("cart:detail")
    assert [str(m) for m in get_messages(response.wsgi_request)][-1] == (
        "Une commande compte au plus 10 pièces : retirez une pièce de votre panier pour "
        "commander (vous pourrez passer une seconde commande ensuite)."
    )
    assert not Order.objects.exists()
    assert not Product.objects.filter(held_by__isnull=False).exists()
    assert session_ids() == set()
    assert len(Cart(client.session).product_ids) == 11

    client.post(reverse("cart:remove", args=[pieces[-1].pk]))
    assert commander(client).status_code == 303
    assert Order.objects.get().items.count() == 10


def test_the_pieces_limit_is_a_setting(settings):
    settings.CHECKOUT_MAX_PIECES = 2
    assert limits.too_many_pieces([1, 2]) is None
    assert "retirez 2 pièces" in limits.too_many_pieces([1, 2, 3, 4])


@pytest.mark.postgres
def test_a_double_click_at_the_limit_leads_to_one_session(
    stripe_server, make_product, settings, monkeypatch
):
    """With one open checkout allowed, a shopper's two clicks at the same moment both lead to
    the one session: the click that meets the limit is given the other click's session."""
    settings.CHECKOUT_LIMIT_PER_CLIENT = 1
    piece = make_product()
    first = cart_client(piece)
    second = Client(REMOTE_ADDR=BOT)
    second.cookies = first.cookies  # the same browser, the same session

    create = stripe_client.create_checkout_session

    def slow_create(params, *, idempotency_key):
        time.sleep(0.5)  # Stripe's latency: the other click meets the first one's order
        return create(params, idempotency_key=idempotency_key)

    start = threading.Barrier(2)
    responses: list = [None, None]
    errors: list[BaseException] = []

    def click(index: int, client: Client) -> None:
        try:
            start.wait(timeout=30)
            responses[index] = commander(client)
        except BaseException as error:  # surfaced by the assertion below
            errors.append(error)
        finally:
            connection.close()

    monkeypatch.setattr(stripe_client, "create_checkout_session", slow_create)
    threads = [threading.Thread(target=click, args=(i, c)) for i, c in enumerate([first, second])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors
    order = Order.objects.get()
    assert [r.status_code for r in responses] == [303, 303]
    assert [r["Location"] for r in responses] == [order.checkout_url] * 2
    assert session_ids() == {order.stripe_session_id}
