"""Commander: holds, the Checkout Session, and every way back (cancel, outage, lapse).

These tests talk to the offline Stripe-compatible server over real HTTP through the
stripe library, as the shop does in production with Stripe itself.
"""

import socket
import time
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from payments import exceptions, services, stripe_client
from payments.models import Order, OrderItem
from payments.services import checkout
from products.models import Product, StockStatus

pytestmark = pytest.mark.django_db(transaction=True)


def cart_client(*products) -> Client:
    client = Client()
    for product in products:
        client.post(reverse("cart:add", args=[product.pk]))
    return client


def commander(client: Client, **data):
    """Click "Commander", the conditions générales de vente accepted."""
    return client.post(reverse("payments:checkout"), {"cgv": "on", **data})


def status_of(product: Product) -> str:
    return Product.objects.with_status().get(pk=product.pk).status


def test_commander_holds_the_pieces_and_opens_a_session_with_database_prices(
    stripe_server, make_product, settings
):
    """The session carries the database's prices in cents, eur, the URLs, the order
    reference in client_reference_id and metadata, and expires after the hold length + 1 min.
    A price posted with the form is ignored."""
    vase = make_product(name="Vase bleu", price="1250.00")
    lampe = make_product(name="Lampe", price="89.90")
    client = cart_client(vase, lampe)

    before = int(time.time())
    response = commander(client, price="1.00", amount="100", unit_amount="1")

    assert response.status_code == 303
    order = Order.objects.get()
    assert response["Location"] == order.checkout_url
    assert order.status == Order.Status.PENDING
    assert order.total == Decimal("1339.90")
    assert sorted(order.items.values_list("price", flat=True)) == [
        Decimal("89.90"),
        Decimal("1250.00"),
    ]
    for product in (vase, lampe):
        product.refresh_from_db()
        assert product.held_by_id == order.pk
        assert status_of(product) == StockStatus.RESERVED

    session = stripe_client.retrieve_checkout_session(order.stripe_session_id)
    amounts = sorted(item["amount_total"] for item in session["line_items"]["data"])
    assert amounts == [8990, 125000]
    assert session["amount_total"] == 133990
    assert session["currency"] == "eur"
    assert session["mode"] == "payment"
    assert session["client_reference_id"] == order.reference
    assert session["metadata"] == {"order_id": order.reference}
    hold = settings.CHECKOUT_HOLD_MINUTES * 60
    assert before + hold + 60 <= session["expires_at"] <= int(time.time()) + hold + 60
    assert session["success_url"] == (
        f"{stripe_server.url}/commande/merci/?session_id={{CHECKOUT_SESSION_ID}}"
    )
    cancel = urlparse(session["cancel_url"])
    assert cancel.path == reverse("payments:cancelled")
    signed = parse_qs(cancel.query)["commande"][0]
    assert services.unsign_cancel_reference(signed) == order.reference

    # The hold outlives the session by two minutes, on the database clock.
    vase.refresh_from_db()
    hold_end = vase.held_until.timestamp()
    assert session["expires_at"] + 110 <= hold_end <= session["expires_at"] + 130


def test_payment_intent_carries_the_order_reference(stripe_server, make_product):
    """payment_intent_data.metadata lets payment_intent.succeeded find the order alone."""
    client = cart_client(make_product())
    commander(client)
    order = Order.objects.get()
    params = checkout.session_params(order, expires_at=int(time.time()) + 3600)
    assert params["payment_intent_data"]["metadata"] == {"order_id": order.reference}
    assert params["locale"] == "fr"


def test_clicking_commander_again_with_the_same_cart_returns_the_same_session(
    stripe_server, make_product
):
    client = cart_client(make_product(), make_product())
    first = commander(client)
    second = commander(client)
    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"]
    assert Order.objects.count() == 1


def test_a_different_cart_cancels_the_previous_order_and_expires_its_session(
    stripe_server, make_product
):
    first_piece, second_piece = make_product(), make_product()
    client = cart_client(first_piece)
    commander(client)
    previous = Order.objects.get()

    client.post(reverse("cart:add", args=[second_piece.pk]))
    response = commander(client)

    assert response.status_code == 303
    previous.refresh_from_db()
    assert previous.status == Order.Status.CANCELLED
    assert not previous.session_expiry_pending
    assert stripe_client.retrieve_checkout_session(previous.stripe_session_id)["status"] == (
        "expired"
    )
    current = Order.objects.exclude(pk=previous.pk).get()
    assert set(current.items.values_list("product_id", flat=True)) == {
        first_piece.pk,
        second_piece.pk,
    }
    first_piece.refresh_from_db()
    assert first_piece.held_by_id == current.pk


def test_a_piece_held_by_someone_else_is_refused_in_french(stripe_server, make_product):
    piece, other = make_product(name="Miroir soleil"), make_product()
    commander(cart_client(piece))

    late = cart_client(piece, other)
    response = commander(late, follow=False)

    assert response.status_code == 302
    assert response["Location"] == reverse("cart:detail")
    page = late.get(reverse("cart:detail")).content.decode()
    assert "« Miroir soleil » est en cours d&#x27;achat par un autre client" in page
    assert late.session["cart"] == [other.pk]  # the unavailable piece left the cart
    assert Order.objects.count() == 1
    other.refresh_from_db()
    assert other.held_by is None


def test_a_piece_held_by_someone_else_is_refused_by_one_read_without_locks(
    stripe_server, make_product
):
    """In a drop most buyers of a piece come after its first buyer's hold: they are sent
    back to their cart by a read, without the client's lock, a product lock or an order."""
    piece = make_product(name="Broche libellule")
    commander(cart_client(piece))
    late = cart_client(piece)

    with CaptureQueriesContext(connection) as queries:
        response = commander(late, follow=False)

    assert response.status_code == 302
    assert response["Location"] == reverse("cart:detail")
    statements = " ".join(q["sql"] for q in queries.captured_queries).upper()
    assert "FOR UPDATE" not in statements
    assert "PG_ADVISORY" not in statements
    assert "INSERT" not in statements
    assert Order.objects.count() == 1
    assert late.session["cart"] == []


def test_a_sold_piece_is_refused(stripe_server, make_product):
    piece = make_product(name="Carafe")
    client = cart_client(piece)
    Product.objects.filter(pk=piece.pk).update(in_stock=False)
    response = commander(client)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "« Carafe » vient d&#x27;être vendue" in page
    assert not Order.objects.exists()


@pytest.mark.parametrize("cgv", [None, ""])
def test_commander_without_accepting_the_cgv_orders_nothing(stripe_server, make_product, cgv):
    """Without the ticked `cgv` box: back to the cart with a French message; no order, no
    hold, no Checkout Session at Stripe; the cart is kept as it was."""
    piece = make_product(name="Carafe")
    client = cart_client(piece)
    data = {} if cgv is None else {"cgv": cgv}

    response = client.post(reverse("payments:checkout"), data)

    assert response.status_code == 302
    assert response["Location"] == reverse("cart:detail")
    page = client.get(response["Location"]).content.decode()
    assert "cochez « J&#x27;ai lu et j&#x27;accepte les conditions générales de vente »" in page
    assert not Order.objects.exists()
    assert status_of(piece) == StockStatus.AVAILABLE
    assert stripe_client.list_checkout_sessions(created_after=0) == []
    assert client.session["cart"] == [piece.pk]


def test_the_cart_asks_to_accept_the_cgv_before_commander(make_product):
    """The Commander form carries a required `cgv` checkbox whose words link to the CGV."""
    client = cart_client(make_product())

    html = client.get(reverse("cart:detail")).content.decode()

    assert '<input type="checkbox" id="cgv" name="cgv" value="on" required>' in html
    assert (
        '<label for="cgv">J\'ai lu et j\'accepte les <a href="/pages/cgv/">'
        "conditions générales de vente</a></label>"
    ) in html


def test_an_empty_cart_cannot_be_ordered(stripe_server):
    client = Client()
    response = commander(client)
    assert response.status_code == 302
    assert "Votre panier est vide." in client.get(response["Location"]).content.decode()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_stripe_outage_fails_the_order_and_releases_the_holds(
    stripe_server, make_product, settings
):
    """Nothing stays held, the shopper reads a French message, never a 500."""
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{_closed_port()}"
    piece = make_product()
    client = cart_client(piece)

    response = commander(client)

    assert response.status_code == 302
    order = Order.objects.get()
    assert order.status == Order.Status.FAILED
    assert order.last_error
    assert status_of(piece) == StockStatus.AVAILABLE
    page = client.get(response["Location"]).content.decode()
    assert "Le paiement est momentanément indisponible" in page
    assert client.session["cart"] == [piece.pk]


def test_stripe_refusing_the_session_fails_the_order_too(stripe_server, make_product, settings):
    """A 4xx from Stripe (here: an `expires_at` already past) is handled like an outage."""
    settings.CHECKOUT_HOLD_MINUTES = -5
    piece = make_product()
    response = commander(cart_client(piece))
    assert response.status_code == 302
    assert Order.objects.get().status == Order.Status.FAILED
    assert status_of(piece) == StockStatus.AVAILABLE


def test_cancel_page_releases_the_holds_and_expires_the_session(stripe_server, make_product):
    piece = make_product()
    client = cart_client(piece)
    commander(client)
    order = Order.objects.get()
    cancel_url = stripe_client.retrieve_checkout_session(order.stripe_session_id)["cancel_url"]

    response = client.get(cancel_url)

    assert response.status_code == 200
    assert "Paiement annulé" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert status_of(piece) == StockStatus.AVAILABLE
    assert stripe_client.retrieve_checkout_session(order.stripe_session_id)["status"] == ("expired")
    assert client.session["cart"] == [piece.pk]  # still there if they change their mind


@pytest.mark.parametrize("reference", ["", "B-AAAAAAAA", "B-AAAAAAAA:forged:signature"])
def test_cancel_page_refuses_an_unsigned_reference(stripe_server, make_product, reference):
    """Nobody releases someone else's hold by guessing a reference."""
    piece = make_product()
    commander(cart_client(piece))
    order = Order.objects.get()
    guess = reference.replace("B-AAAAAAAA", order.reference)

    response = Client().get(reverse("payments:cancelled"), {"commande": guess})

    assert response.status_code == 400
    assert "Commande introuvable" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert status_of(piece) == StockStatus.RESERVED


def test_cancelling_a_paid_order_changes_nothing(stripe_server, make_product):
    piece = make_product()
    client = cart_client(piece)
    commander(client)
    order = Order.objects.get()
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PAID)
    signed = checkout.session_params(order, expires_at=0)["cancel_url"].split("commande=")[1]

    response = client.get(reverse("payments:cancelled"), {"commande": signed})

    assert "déjà payée" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_a_lapsed_hold_is_available_again_and_can_be_bought(stripe_server, make_product):
    """No background job: once held_until passes, the piece is available to the next shopper."""
    piece = make_product()
    commander(cart_client(piece))
    first = Order.objects.get()
    Product.objects.filter(pk=piece.pk).update(held_until=timezone.now() - timedelta(seconds=1))

    assert status_of(piece) == StockStatus.AVAILABLE
    response = commander(cart_client(piece))

    assert response.status_code == 303
    piece.refresh_from_db()
    assert piece.held_by_id != first.pk


def test_thank_you_page_says_pending_until_paid(stripe_server, make_product):
    client = cart_client(make_product())
    commander(client)
    order = Order.objects.get()
    url = f"{reverse('payments:thanks')}?session_id={order.stripe_session_id}"

    page = client.get(url).content.decode()
    assert "Paiement en cours de confirmation" in page
    assert order.reference in page

    Order.objects.filter(pk=order.pk).update(status=Order.Status.PAID)
    assert "Paiement confirmé" in client.get(url).content.decode()


@pytest.mark.parametrize(
    ("reason", "says", "never_says"),
    [
        ("conflict", "une pièce a été vendue au même instant", "ne correspondait pas"),
        ("amount_mismatch", "ne correspondait pas à son total", "vendue au même instant"),
        ("admin", "a été remboursée", "vendue au même instant"),
    ],
)
def test_thank_you_page_of_a_refunded_order_gives_the_true_reason(
    stripe_server, make_product, reason, says, never_says
):
    client = cart_client(make_product())
    commander(client)
    order = Order.objects.get()
    Order.objects.filter(pk=order.pk).update(status=Order.Status.REFUNDED, refund_reason=reason)

    page = client.get(reverse("payments:thanks"), {"session_id": order.stripe_session_id})

    text = page.content.decode()
    assert "Commande remboursée" in text
    assert says in text
    assert never_says not in text


def test_thank_you_page_for_an_unknown_session_is_404(stripe_server):
    response = Client().get(reverse("payments:thanks"), {"session_id": "cs_test_nope"})
    assert response.status_code == 404
    assert "Commande introuvable" in response.content.decode()


@pytest.mark.parametrize("session_id", ["\x00", "cs_test_\x00nope"])
def test_thank_you_page_for_a_session_id_with_a_nul_character_is_404(stripe_server, session_id):
    response = Client().get(reverse("payments:thanks"), {"session_id": session_id})
    assert response.status_code == 404


def test_the_database_refuses_a_second_sale_of_a_piece(make_product):
    piece = make_product()
    first = Order.objects.create(total=piece.price)
    second = Order.objects.create(total=piece.price)
    OrderItem.objects.create(order=first, product=piece, name="x", price=piece.price, sold=True)
    unsold = OrderItem.objects.create(order=second, product=piece, name="x", price=piece.price)

    with pytest.raises(IntegrityError), transaction.atomic():
        OrderItem.objects.filter(pk=unsold.pk).update(sold=True)

    # Once the first sale is undone (a refund that puts the piece back), it may sell again.
    OrderItem.objects.filter(order=first).update(sold=False)
    OrderItem.objects.filter(pk=unsold.pk).update(sold=True)
    assert OrderItem.objects.filter(product=piece, sold=True).get().order == second


def test_the_cancel_page_leaves_a_delayed_payment_in_progress_alone(stripe_server, make_product):
    """A SEPA debit completed the session unpaid: the order is `processing` and its hold
    waits for the bank. Landing on the cancel URL afterwards (a second tab on Stripe's page,
    the history) cancels nothing: only a pending order can be cancelled (SPEC §7)."""
    from payments.offline.testing import submit_hosted_page

    piece = make_product()
    client = cart_client(piece)
    commander(client)
    order = Order.objects.get()
    assert submit_hosted_page(order.checkout_url, method="sepa_debit").status_code == 303
    order.refresh_from_db()
    assert order.status == Order.Status.PROCESSING
    cancel_url = stripe_client.retrieve_checkout_session(order.stripe_session_id)["cancel_url"]

    response = client.get(cancel_url)

    assert response.status_code == 200
    assert "Aucune somme n'a été débitée" not in response.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.PROCESSING
    assert status_of(piece) == StockStatus.RESERVED
    piece.refresh_from_db()
    assert piece.held_by_id == order.pk


def test_a_new_cart_while_the_first_session_is_being_created_expires_that_session(
    stripe_server, make_product, monkeypatch
):
    """Commander, then a different cart (another tab) while Stripe is still creating the
    first session: the first order is cancelled before its session exists. When that session
    arrives it is expired at Stripe, not left open and payable for a cancelled order that
    holds nothing, and the first click is not sent to it."""
    first_piece, second_piece = make_product(), make_product()
    create = stripe_client.create_checkout_session
    sessions: list[stripe_client.CheckoutSession] = []

    def create_while_the_cart_changes(params, *, idempotency_key):
        session = create(params, idempotency_key=idempotency_key)
        sessions.append(session)
        if len(sessions) == 1:  # the other tab's click lands before Stripe answers
            services.start_checkout(product_ids=[first_piece.pk, second_piece.pk], shopper_id="s")
        return session

    monkeypatch.setattr(stripe_client, "create_checkout_session", create_while_the_cart_changes)

    with pytest.raises(exceptions.CheckoutError):
        services.start_checkout(product_ids=[first_piece.pk], shopper_id="s")

    first, second = Order.objects.order_by("pk")
    assert first.status == Order.Status.CANCELLED
    assert not first.session_expiry_pending
    assert stripe_client.retrieve_checkout_session(sessions[0].id)["status"] == "expired"
    assert (second.status, second.stripe_session_id) == (Order.Status.PENDING, sessions[1].id)
    assert stripe_client.retrieve_checkout_session(sessions[1].id)["status"] == "open"
    for piece in (first_piece, second_piece):
        piece.refresh_from_db()
        assert piece.held_by_id == second.pk


def test_two_first_clicks_at_once_are_the_same_shopper(stripe_server, make_product):
    """The shopper's anonymous id is in the session from the first piece added, not created
    by Commander: two clicks at the same moment both read the session as it was before
    either answered, and must still be one shopper with one order, not a stranger told the
    piece is being bought by someone else."""
    piece = make_product(name="Miroir soleil")
    client = cart_client(piece)
    read_by_the_twin = dict(client.session)

    first = commander(client)
    session = client.session
    session.clear()
    session.update(read_by_the_twin)  # the twin request saves what it read, as Django does
    session.save()
    second = commander(client)

    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"]
    assert Order.objects.count() == 1
    assert client.session["cart"] == [piece.pk]


def test_a_piece_paid_by_a_delayed_method_leaves_the_cart(stripe_server, make_product):
    """The shopper pays a piece by SEPA debit (the order waits for the bank, the piece held
    for them), then goes on shopping: the cart no longer offers that piece, like a bought
    one, so the next Commander orders the new piece instead of being refused because
    "another client" is buying the first."""
    from payments.offline.testing import submit_hosted_page

    vase, lampe = make_product(name="Vase bleu"), make_product(name="Lampe")
    client = cart_client(vase)
    commander(client)
    paying = Order.objects.get()
    assert submit_hosted_page(paying.checkout_url, method="sepa_debit").status_code == 303
    client.post(reverse("cart:add", args=[lampe.pk]))

    page = client.get(reverse("cart:detail")).content.decode()
    response = commander(client)

    assert f'data-product-id="{vase.pk}"' not in page
    assert f'data-product-id="{lampe.pk}"' in page
    assert response.status_code == 303
    order = Order.objects.exclude(pk=paying.pk).get()
    assert list(order.items.values_list("product_id", flat=True)) == [lampe.pk]
    paying.refresh_from_db()
    assert paying.status == Order.Status.PROCESSING
    vase.refresh_from_db()
    assert vase.held_by_id == paying.pk


def test_several_unavailable_pieces_are_named_in_one_french_sentence(make_product):
    """The message agrees in number with the pieces it names."""
    vase, lampe, miroir = (make_product(name=n) for n in ("Vase", "Lampe", "Miroir"))
    Product.objects.filter(pk__in=[vase.pk, lampe.pk]).update(in_stock=False)
    with pytest.raises(exceptions.CheckoutError) as refused:
        services.start_checkout(product_ids=[vase.pk, lampe.pk, miroir.pk], shopper_id="s")
    assert refused.value.message == (
        "Désolé : les pièces « Vase », « Lampe » viennent d'être vendues. "
        "Elles ont été retirées de votre panier."
    )
    assert {p.pk for p in refused.value.unavailable} == {vase.pk, lampe.pk}


def test_stripe_calls_fit_well_within_gunicorns_timeout():
    """SPEC §13: a call to Stripe, its retry included, takes 10 s at most (gunicorn stops a
    worker at 30 s: the order must be failed and its hold released before that)."""
    assert stripe_client.worst_case_seconds() <= stripe_client.BUDGET_SECONDS <= 10
    http = stripe_client._client()._requestor._client
    assert http._timeout == stripe_client.TIMEOUT


def test_a_stripe_slower_than_the_timeout_releases_the_hold_at_once(
    make_product, settings, monkeypatch
):
    """Stripe answers after the timeout, every time: Commander gives up within its budget,
    the order fails, the piece is on sale again and the shopper is back at the cart with a
    French message (never a 500, never a hold for nobody)."""
    from bench import stripe_stub

    port = _closed_port()
    server = stripe_stub.start(port, latency=2.0)
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{port}"
    monkeypatch.setattr(stripe_client, "TIMEOUT", (0.5, 0.5))
    piece = make_product()
    client = cart_client(piece)
    try:
        started = time.monotonic()
        response = commander(client)
        elapsed = time.monotonic() - started
    finally:
        server.shutdown()
        server.server_close()

    assert response.status_code == 302
    assert response["Location"] == reverse("cart:detail")
    assert elapsed < stripe_client.worst_case_seconds() + 0.5
    order = Order.objects.get()
    assert order.status == Order.Status.FAILED
    assert "timed out" in order.last_error.lower() or "timeout" in order.last_error.lower()
    assert status_of(piece) == StockStatus.AVAILABLE
    assert (
        "Le paiement est momentanément indisponible"
        in client.get(response["Location"]).content.decode()
    )


def test_the_refusal_agrees_with_the_piece_never_with_its_name(make_product):
    """A masculine name reads right too, and a name in guillemets is nested as “ ”."""
    pichet = make_product(name="Pichet « Provence »", in_stock=False)
    with pytest.raises(exceptions.CheckoutError) as refused:
        services.start_checkout(product_ids=[pichet.pk], shopper_id="s")
    assert refused.value.message == (
        "Désolé : la pièce « Pichet “Provence” » vient d'être vendue. "
        "Elle a été retirée de votre panier."
    )
