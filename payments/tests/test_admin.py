"""The payments admin, behind login: orders, the Stripe event log, and their actions."""

import itertools
import json
import socket
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from payments import limits, services
from payments.admin import OrderAdmin
from payments.models import Order, OrderItem, StripeEvent
from payments.offline.models import Refund
from payments.offline.testing import submit_hosted_page
from products.models import Product, StockStatus

NBSP = "\N{NO-BREAK SPACE}"
ORDERS = reverse("admin:payments_order_changelist")
EVENTS = reverse("admin:payments_stripeevent_changelist")
_counter = itertools.count(1)


def _order_url(order: Order) -> str:
    return reverse("admin:payments_order_change", args=[order.pk])


def _event_url(event: StripeEvent) -> str:
    return reverse("admin:payments_stripeevent_change", args=[event.pk])


def _listed(response) -> set[str]:
    """The orders' references (or the events' Stripe ids) on a changelist page."""
    assert response.status_code == 200
    return {
        getattr(o, "reference", None) or o.stripe_id for o in response.context["cl"].result_list
    }


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def new_order(db) -> Callable[..., Order]:
    """An order with one piece; `paid=True` records the sale as the webhook does."""

    def make(*, paid: bool = False, price: str = "120.00", **fields: Any) -> Order:
        n = next(_counter)
        product = Product.objects.create(
            name=f"Lampe n° {n}", slug=f"lampe-{n}", price=Decimal(price), in_stock=not paid
        )
        values: dict[str, Any] = {
            "total": product.price,
            "stripe_session_id": f"cs_test_{n:04d}",
        }
        if paid:
            values |= {
                "status": Order.Status.PAID,
                "paid_at": timezone.now(),
                "stripe_payment_intent_id": f"pi_test_{n:04d}",
                "amount_received": product.price,
                "currency_received": "eur",
            }
        values |= fields
        order = Order.objects.create(**values)
        OrderItem.objects.create(
            order=order, product=product, name=product.name, price=product.price, sold=paid
        )
        return order

    return make


def _staff(username: str, *codenames: str) -> User:
    user = User.objects.create_user(username, f"{username}@example.com", "motdepasse-long")
    user.is_staff = True
    user.save()
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="payments", codename__in=codenames)
    )
    return user


@pytest.fixture
def owner(db) -> User:
    """The shop owner: staff with every payments permission, not a superuser."""
    return _staff(
        "proprietaire",
        "view_order",
        "change_order",
        "add_order",
        "delete_order",
        "view_stripeevent",
        "change_stripeevent",
        "add_stripeevent",
        "delete_stripeevent",
    )


@pytest.fixture
def owner_client(client: Client, owner: User) -> Client:
    client.force_login(owner)
    return client


@pytest.fixture
def viewer_client(client: Client, db) -> Client:
    """A staff member who may only look at orders and events."""
    client.force_login(_staff("assistant", "view_order", "view_stripeevent"))
    return client


def _event(order: Order | None, type_: str = "checkout.session.completed", **fields) -> StripeEvent:
    n = next(_counter)
    obj = {"id": order.stripe_session_id if order else f"cs_other_{n}", "object": "x"}
    values = {
        "stripe_id": f"evt_{n:06d}",
        "type": type_,
        "payload": {"id": f"evt_{n:06d}", "type": type_, "data": {"object": obj}},
        "order": order,
        "outcome": StripeEvent.Outcome.PROCESSED,
        "attempts": 1,
    }
    values |= fields
    return StripeEvent.objects.create(**values)


# Login and permissions


@pytest.mark.parametrize("url", [ORDERS, EVENTS, reverse("admin:payments_order_change", args=[1])])
def test_anonymous_visitors_are_sent_to_the_login_page(client, db, url):
    """Without a staff login, the payments admin redirects to its login page."""
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize(
    "url",
    [
        f"{ORDERS}?status__exact=%00",
        f"{ORDERS}?q=%00",
        f"{EVENTS}?q=a%00b",
        reverse("admin:auth_user_changelist") + "?q=%00",
    ],
)
def test_a_nul_character_in_an_admin_list_is_a_400_not_a_500(admin_client, url):
    """PostgreSQL refuses NUL in a query: the lists and searches would fail with a 500."""
    response = admin_client.get(url)

    assert response.status_code == 400
    assert "caractère nul" in response.content.decode()


def test_a_customer_account_is_refused(client, django_user_model):
    """A logged-in shopper who is not staff cannot see orders."""
    client.force_login(django_user_model.objects.create_user("client", password="x" * 12))

    response = client.get(ORDERS)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize(
    "url",
    [reverse("admin:payments_order_add"), reverse("admin:payments_stripeevent_add")],
)
def test_nobody_adds_orders_or_events_by_hand(owner_client, url):
    """Even with the add permission, orders come from checkouts and events from Stripe."""
    assert owner_client.get(url).status_code == 403


def test_an_order_cannot_be_saved_or_deleted_from_the_admin(owner_client, new_order):
    """The order page is read-only: a POST is refused and nothing changes, no delete."""
    order = new_order(paid=True)

    saved = owner_client.post(_order_url(order), {"status": "pending", "customer_email": "x@y.z"})
    deleted = owner_client.post(
        reverse("admin:payments_order_delete", args=[order.pk]), {"post": "yes"}
    )

    assert saved.status_code == 403
    assert deleted.status_code == 403
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    page = owner_client.get(_order_url(order)).content.decode()
    assert 'name="_save"' not in page
    assert "deletelink" not in page


def test_an_event_cannot_be_changed_or_deleted(owner_client, new_order):
    """The event log is read-only, even for an owner holding every permission."""
    event = _event(new_order())

    changed = owner_client.post(_event_url(event), {"type": "x", "outcome": "ignored"})
    deleted = owner_client.post(
        reverse("admin:payments_stripeevent_delete", args=[event.pk]), {"post": "yes"}
    )

    assert changed.status_code == 403
    assert deleted.status_code == 403
    event.refresh_from_db()
    assert (event.type, event.outcome) == ("checkout.session.completed", "processed")


def test_view_only_staff_see_orders_and_events_but_no_action(viewer_client, new_order):
    """Without the change permission, the refund, retry and reprocess actions are not offered."""
    _event(new_order(paid=True))

    orders = viewer_client.get(ORDERS)
    events = viewer_client.get(EVENTS)

    assert orders.status_code == events.status_code == 200
    assert orders.context["action_form"] is None
    assert events.context["action_form"] is None


def test_the_owner_is_offered_the_refund_delivery_retry_and_reprocess_actions(
    owner_client, new_order
):
    """The actions the owner needs are on the lists, and Django's bulk delete is not."""
    _event(new_order(paid=True))

    order_actions = dict(owner_client.get(ORDERS).context["action_form"].fields["action"].choices)
    event_actions = dict(owner_client.get(EVENTS).context["action_form"].fields["action"].choices)

    assert set(order_actions) - {""} == {"refund", "mark_delivered", "retry_stripe_calls"}
    assert set(event_actions) - {""} == {"reprocess"}


# Orders: list, filters, search


def test_order_list_shows_reference_status_total_email_and_pending_calls(owner_client, new_order):
    """Each row carries the reference, the status badge, the French total and the email,
    and an order with a Stripe call to retry says so."""
    paid = new_order(paid=True, price="1250.00", customer_email="alice@example.com")
    stuck = new_order(
        status=Order.Status.REFUNDED,
        refund_reason=Order.RefundReason.CONFLICT,
        refund_pending=True,
    )

    response = owner_client.get(ORDERS, {"expedition": "toutes"})

    html = response.content.decode()
    assert _listed(response) == {paid.reference, stuck.reference}
    assert '<span class="order-status order-status--paid">Payée</span>' in html
    assert f"1{NBSP}250,00{NBSP}€" in html
    assert "alice@example.com" in html
    assert '<span class="stripe-pending">⚠ remboursement</span>' in html


@pytest.fixture
def assorted_orders(new_order) -> dict[str, Order]:
    return {
        "pending": new_order(),
        "paid": new_order(paid=True),
        "admin_refund": new_order(
            status=Order.Status.REFUNDED, refund_reason=Order.RefundReason.ADMIN
        ),
        "conflict": new_order(
            status=Order.Status.REFUNDED, refund_reason=Order.RefundReason.CONFLICT
        ),
        "mismatch": new_order(
            status=Order.Status.REFUNDED,
            refund_reason=Order.RefundReason.AMOUNT_MISMATCH,
            refund_pending=True,
        ),
        "expiry": new_order(status=Order.Status.CANCELLED, session_expiry_pending=True),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status__exact": "paid"}, {"paid"}),
        ({"status__exact": "refunded"}, {"admin_refund", "conflict", "mismatch"}),
        ({"conflit": "oui"}, {"conflict", "mismatch"}),
        ({"refund_reason__exact": "admin"}, {"admin_refund"}),
        ({"stripe": "a-relancer"}, {"mismatch", "expiry"}),
    ],
)
def test_order_filters(owner_client, assorted_orders, query, expected):
    """Status, conflicts (automatic refunds), refund reason and Stripe calls to retry."""
    response = owner_client.get(ORDERS, query)

    assert _listed(response) == {assorted_orders[name].reference for name in expected}


def test_order_search_by_reference_email_session_and_payment_intent(owner_client, new_order):
    """The owner finds an order from whatever a customer or Stripe gives them."""
    order = new_order(paid=True, customer_email="bob@example.org")
    new_order(paid=True, customer_email="carla@example.org")

    for query in (
        order.reference,
        "bob@example",
        order.stripe_session_id,
        order.stripe_payment_intent_id,
    ):
        assert _listed(owner_client.get(ORDERS, {"q": query})) == {order.reference}, query


def test_order_list_runs_a_constant_number_of_queries(
    owner_client, new_order, django_assert_max_num_queries
):
    """Fifty orders cost no more queries than one (no query per row)."""
    new_order()
    with django_assert_max_num_queries(20) as one:
        owner_client.get(ORDERS)
    for _ in range(49):
        new_order()

    with django_assert_max_num_queries(len(one.captured_queries)):
        owner_client.get(ORDERS)


# Orders: detail


def test_order_page_shows_items_totals_and_customer(owner_client, new_order):
    """The order page lists its pieces read-only, the amounts and the shipping address."""
    order = new_order(
        paid=True,
        price="89.90",
        customer_email="dora@example.com",
        shipping_address={"name": "Dora Martin", "address": {"city": "Lyon"}},
    )
    item = order.items.get()

    response = owner_client.get(_order_url(order))

    assert response.status_code == 200
    html = response.content.decode()
    product_url = reverse("admin:products_product_change", args=[item.product_id])
    assert f'<a href="{product_url}">{item.name}</a>' in html
    assert f"89,90{NBSP}€" in html
    assert "dora@example.com" in html
    assert "Lyon" in html
    # The lines are shown, not editable: no formset on the page.
    assert response.context["inline_admin_formsets"] == []


@pytest.mark.parametrize(
    ("key", "offline", "prefix"),
    [
        ("sk_test_123", False, "https://dashboard.stripe.com/test/"),
        ("sk_live_123", False, "https://dashboard.stripe.com/"),
    ],
)
def test_stripe_ids_link_to_the_dashboard_of_the_key_mode(
    owner_client, new_order, settings, key, offline, prefix
):
    """Session, PaymentIntent and refund open in Stripe's dashboard, test or live after the key."""
    settings.STRIPE_SECRET_KEY = key
    settings.STRIPE_OFFLINE = offline
    order = new_order(paid=True, stripe_refund_id="re_test_1")

    html = owner_client.get(_order_url(order)).content.decode()

    for path, object_id in [
        ("checkout/sessions", order.stripe_session_id),
        ("payments", order.stripe_payment_intent_id),
        ("refunds", "re_test_1"),
    ]:
        assert f'href="{prefix}{path}/{object_id}"' in html
    if prefix.endswith("/test/"):
        return
    assert "dashboard.stripe.com/test/" not in html


def test_offline_stripe_ids_are_shown_without_a_dashboard_link(owner_client, new_order, settings):
    """Simulated payments exist in no Stripe dashboard: the ids are plain text."""
    settings.STRIPE_OFFLINE = True
    order = new_order(paid=True)

    html = owner_client.get(_order_url(order)).content.decode()

    assert order.stripe_payment_intent_id in html
    assert "dashboard.stripe.com" not in html


def test_order_timeline_merges_timestamps_and_stripe_events_in_order(owner_client, new_order):
    """The timeline lists creation, payment and every event of the order by time, with
    each event's outcome and error, and links to the event; other orders' events stay out."""
    order = new_order(paid=True)
    t0 = timezone.now() - timedelta(hours=2)
    Order.objects.filter(pk=order.pk).update(created_at=t0, paid_at=t0 + timedelta(minutes=5))
    failed = _event(
        None,  # not linked yet: found through the session id in its payload
        outcome=StripeEvent.Outcome.FAILED,
        error="OperationalError: could not connect",
        payload={"data": {"object": {"id": order.stripe_session_id}}},
    )
    processed = _event(order, "payment_intent.succeeded", detail="paid")
    StripeEvent.objects.filter(pk=failed.pk).update(received_at=t0 + timedelta(minutes=4))
    StripeEvent.objects.filter(pk=processed.pk).update(received_at=t0 + timedelta(minutes=6))
    other = _event(new_order(), "checkout.session.expired")

    html = owner_client.get(_order_url(order)).content.decode()

    timeline = html[html.index('class="order-timeline"') :]
    positions = [
        timeline.index("Commande créée"),
        timeline.index(f'href="{_event_url(failed)}"'),
        timeline.index("OperationalError: could not connect"),
        timeline.index("Paiement enregistré"),
        timeline.index(f'href="{_event_url(processed)}">Stripe : paiement encaissé'),
    ]
    assert positions == sorted(positions)
    # In the owner's words; the services' own outcome (« paid ») stays on the event.
    assert "Échec, Stripe renverra ce message" in timeline
    assert "Commande payée, pièces vendues" in timeline
    assert "payment_intent.succeeded" not in timeline
    assert _event_url(other) not in html


# Stripe events


def test_event_list_filters_and_search(owner_client, new_order):
    """Events filter by type and outcome, and are found by their Stripe id."""
    order = new_order(paid=True)
    completed = _event(order)
    failed = _event(order, "payment_intent.succeeded", outcome=StripeEvent.Outcome.FAILED)
    unknown = _event(None, "customer.created", outcome=StripeEvent.Outcome.IGNORED)

    assert _listed(owner_client.get(EVENTS)) == {
        completed.stripe_id,
        failed.stripe_id,
        unknown.stripe_id,
    }
    assert _listed(owner_client.get(EVENTS, {"type": "customer.created"})) == {unknown.stripe_id}
    assert _listed(owner_client.get(EVENTS, {"outcome__exact": "failed"})) == {failed.stripe_id}
    assert _listed(owner_client.get(EVENTS, {"q": completed.stripe_id})) == {completed.stripe_id}
    assert _listed(owner_client.get(EVENTS, {"q": order.reference})) == {
        completed.stripe_id,
        failed.stripe_id,
    }


def test_event_page_pretty_prints_the_payload_and_links_the_order(owner_client, new_order):
    """The raw payload is shown indented and escaped; the order is one click away."""
    order = new_order()
    event = _event(
        order,
        payload={"id": "evt_x", "data": {"object": {"name": "<b>Éléphant</b>"}}},
    )

    response = owner_client.get(_event_url(event))

    assert response.status_code == 200
    html = response.content.decode()
    pretty = json.dumps(event.payload, indent=2, ensure_ascii=False, sort_keys=True)
    assert pretty.replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;") in html
    assert "<b>Éléphant</b>" not in html
    assert f'href="{_order_url(order)}">{order.reference}</a>' in html
    assert 'name="_save"' not in html


# Actions that need no Stripe call


def test_refund_action_leaves_unpaid_orders_alone(owner_client, new_order):
    """Refunding is for paid orders: the action leads a pending one to its confirmation
    page, which says why there is nothing to confirm."""
    order = new_order()

    response = owner_client.post(
        ORDERS, {"action": "refund", "_selected_action": [order.pk]}, follow=True
    )

    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert response.redirect_chain[-1][0] == reverse("admin:payments_order_refund", args=[order.pk])
    assert "Seule une commande payée se rembourse ici" in response.content.decode()
    assert b"Confirmer le remboursement" not in response.content


@pytest.mark.django_db(transaction=True)
def test_retry_action_keeps_the_flag_and_says_so_when_stripe_is_down(
    client, owner, new_order, settings
):
    """With Stripe unreachable, the retry leaves the refund flagged, records the error on
    the order and tells the owner."""
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{_closed_port()}"
    client.force_login(owner)
    order = new_order(
        status=Order.Status.REFUNDED,
        refund_reason=Order.RefundReason.ADMIN,
        stripe_payment_intent_id="pi_test_down",
        refund_pending=True,
    )

    response = client.post(
        ORDERS, {"action": "retry_stripe_calls", "_selected_action": [order.pk]}, follow=True
    )

    order.refresh_from_db()
    assert order.refund_pending
    assert "refund" in order.last_error
    assert any("Stripe ne répond toujours pas" in m for m in _messages(response))


# Actions through the offline Stripe server, over real HTTP


def _paid_through_checkout(price: str = "310.00") -> tuple[Order, Product]:
    """A piece bought on the simulated Checkout page; the webhook marked the order paid."""
    n = next(_counter)
    piece = Product.objects.create(name=f"Buffet n° {n}", slug=f"buffet-{n}", price=Decimal(price))
    order = services.start_checkout(product_ids=[piece.pk], shopper_id=f"s{n}")
    assert submit_hosted_page(order.checkout_url).status_code == 303
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    return order, piece


def _refunds_of(order: Order) -> list[int]:
    return list(
        Refund.objects.filter(payment_intent__stripe_id=order.stripe_payment_intent_id).values_list(
            "amount", flat=True
        )
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("back_on_sale", [True, False])
def test_refund_from_the_list_is_confirmed_then_refunded_through_stripe(
    stripe_server, client, owner, back_on_sale
):
    """The owner refunds a paid order from the list: the action leads to the confirmation
    page (nothing refunded yet); confirmed, Stripe refunds it in full, the order shows the
    refund, and the piece is back on sale only when ticked."""
    order, piece = _paid_through_checkout()
    client.force_login(owner)

    page = client.post(ORDERS, {"action": "refund", "_selected_action": [order.pk]}, follow=True)
    assert page.redirect_chain[-1][0] == reverse("admin:payments_order_refund", args=[order.pk])
    assert _refunds_of(order) == []
    form = {"montant": "310,00", "motif": "Rétractation du client"}
    if back_on_sale:
        form["remettre_en_vente"] = [str(piece.pk)]
    response = client.post(
        reverse("admin:payments_order_refund", args=[order.pk]), form, follow=True
    )

    order.refresh_from_db()
    assert (order.status, order.refund_reason) == (Order.Status.REFUNDED, "admin")
    assert not order.refund_pending
    assert _refunds_of(order) == [31000]
    assert order.stripe_refund_id.startswith("re_")
    assert order.refunded_at is not None
    status = Product.objects.with_status().get(pk=piece.pk).stock_status
    assert status == (StockStatus.AVAILABLE if back_on_sale else StockStatus.SOLD)
    assert order.items.get().sold is not back_on_sale
    assert any("Remboursement de 310,00" in m for m in _messages(response))

    again = client.post(reverse("admin:payments_order_refund", args=[order.pk]), form)
    assert again.status_code in (400, 409)
    assert _refunds_of(order) == [31000]  # a second confirmation refunds nothing more


@pytest.mark.django_db(transaction=True)
def test_retry_action_sends_a_pending_refund(stripe_server, client, owner, settings):
    """A refund decided while Stripe was down goes through when the owner retries."""
    order, _ = _paid_through_checkout()
    api_base = settings.STRIPE_API_BASE
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{_closed_port()}"
    services.refund_paid_order(order_id=order.pk, put_back_on_sale=True)
    settings.STRIPE_API_BASE = api_base
    order.refresh_from_db()
    assert order.refund_pending
    client.force_login(owner)

    pending = client.get(ORDERS, {"stripe": "a-relancer"})
    response = client.post(
        ORDERS, {"action": "retry_stripe_calls", "_selected_action": [order.pk]}, follow=True
    )

    assert _listed(pending) == {order.reference}
    order.refresh_from_db()
    assert not order.refund_pending
    assert _refunds_of(order) == [31000]
    assert any(f"Appels Stripe passés pour : {order.reference}" in m for m in _messages(response))


# Reprocessing an event


def _completed_event(order: Order, **fields) -> StripeEvent:
    """A `checkout.session.completed` for this pending order, as stored by the webhook."""
    session = {
        "id": order.stripe_session_id,
        "object": "checkout.session",
        "status": "complete",
        "payment_status": "paid",
        "amount_total": order.total_cents,
        "currency": "eur",
        "metadata": {"order_id": order.reference},
        "payment_intent": "pi_test_reprocess",
        "customer_details": {"email": "eve@example.com"},
    }
    payload = {"id": f"evt_{order.reference}", "type": "checkout.session.completed"}
    payload["data"] = {"object": session}
    values = {"payload": payload, "stripe_id": payload["id"]} | fields
    return _event(order, **values)


def test_reprocess_handles_a_failed_event_again(owner_client, new_order):
    """A failed event, reprocessed, marks its order paid and the piece sold."""
    order = new_order()
    event = _completed_event(
        order, outcome=StripeEvent.Outcome.FAILED, error="OperationalError", processed_at=None
    )

    response = owner_client.post(
        EVENTS, {"action": "reprocess", "_selected_action": [event.pk]}, follow=True
    )

    order.refresh_from_db()
    event.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert not Product.objects.get(pk=order.items.get().product_id).in_stock
    assert event.outcome == StripeEvent.Outcome.PROCESSED
    assert event.attempts == 2
    # What came of it in French; the service's « paid » stays on the event.
    assert f"{event.stripe_id} : traité (Commande payée, pièces vendues)." in _messages(response)
    assert event.detail == "paid"


def test_reprocess_leaves_a_processed_event_alone(owner_client, new_order):
    """An event already processed is not acted on twice: the order stays as it is."""
    order = new_order()
    event = _completed_event(order, outcome=StripeEvent.Outcome.PROCESSED)

    response = owner_client.post(
        EVENTS, {"action": "reprocess", "_selected_action": [event.pk]}, follow=True
    )

    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert any("déjà traité" in m for m in _messages(response))


def test_view_only_staff_cannot_post_the_reprocess_action(viewer_client, new_order):
    """Posting the action without the permission does nothing."""
    order = new_order()
    event = _completed_event(order, outcome=StripeEvent.Outcome.FAILED)

    viewer_client.post(EVENTS, {"action": "reprocess", "_selected_action": [event.pk]})

    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def test_open_checkouts_show_how_many_their_client_address_has_open(
    owner_client, make_product, make_order, django_assert_max_num_queries
):
    """The owner sees, on each open checkout, its client address's open checkouts against
    the limit (counted in the list's own query): closed orders and lapsed holds do not
    count, and a client at the limit stands out."""
    bot, shopper = limits.Client.from_address("81.2.69.142"), limits.Client.from_address("::1")
    at_limit = [make_order(products=[make_product()], client_hash=bot.hash) for _ in range(3)]
    make_order(products=[make_product()], client_hash=bot.hash, status=Order.Status.EXPIRED)
    lapsed = make_order(
        products=[make_product()],
        client_hash=shopper.hash,
        held_until=timezone.now() - timedelta(minutes=1),
    )
    paying = make_order(
        products=[make_product()], client_hash=shopper.hash, status=Order.Status.PROCESSING
    )

    with django_assert_max_num_queries(20):
        response = owner_client.get(ORDERS, {"expedition": "toutes"})

    shown = {
        order.reference: OrderAdmin.client_open_checkouts(None, order)
        for order in response.context["cl"].result_list
    }
    for order in at_limit:
        assert shown[order.reference] == '<span class="client-limit-reached">3 / 3</span>'
    assert shown[paying.reference] == "1 / 3"
    assert shown[lapsed.reference] == "1 / 3"  # its client's other checkout still holds
    assert list(shown.values()).count("—") == 1  # the expired order
    assert response.content.decode().count('class="client-limit-reached"') == 3
