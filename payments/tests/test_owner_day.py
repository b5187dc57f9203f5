"""The owner's day in the admin: orders to ship first, the shipment and its one e-mail,
the packing slip, the dashboard."""

import threading
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.messages import get_messages
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from payments import selectors
from payments.exceptions import ShipmentRefused
from payments.models import Order
from payments.services.shipping import ship_order, update_tracking
from products.models import Product

pytestmark = pytest.mark.django_db

NBSP = "\N{NO-BREAK SPACE}"
ORDERS = reverse("admin:payments_order_changelist")
DASHBOARD = reverse("admin:payments_order_dashboard")
ADDRESS = {
    "name": "Camille Martin",
    "address": {
        "line1": "12 rue des Lilas",
        "line2": "",
        "postal_code": "75011",
        "city": "Paris",
        "state": "",
        "country": "FR",
    },
    "phone": "+33 6 12 34 56 78",
}
TRACKING = {"carrier": "Colissimo", "tracking_number": "6A12345678901", "tracking_url": ""}


def _staff(username: str, *codenames: str) -> User:
    user = User.objects.create_user(username, f"{username}@example.com", "motdepasse-long")
    user.is_staff = True
    user.save()
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


@pytest.fixture
def owner_client(client: Client) -> Client:
    client.force_login(_staff("proprietaire", "view_order", "change_order", "view_product"))
    return client


@pytest.fixture
def paid_order(make_product, make_order):
    """`paid_order(price=..., paid_at=..., **fields)`: a sold piece's paid order, as the
    webhook leaves it (address, e-mail, amount received)."""

    def make(*, price: str = "45.00", paid_at: datetime | None = None, **fields) -> Order:
        piece = make_product(price=price, in_stock=False)
        values = {
            "status": Order.Status.PAID,
            "paid_at": paid_at or timezone.now(),
            "customer_email": "camille@example.com",
            "shipping_address": ADDRESS,
            "stripe_payment_intent_id": f"pi_{piece.pk}",
        }
        order = make_order(products=[piece], shipping_cost="8.00", **(values | fields))
        order.items.update(sold=True)
        return order

    return make


def _listed(response) -> list[str]:
    assert response.status_code == 200
    return [order.reference for order in response.context["cl"].result_list]


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# Orders to ship


def test_the_orders_page_opens_on_the_orders_to_ship_oldest_payment_first(
    owner_client, paid_order, make_order, make_product
):
    """Paid and not shipped, in the order they were paid: what the owner packs next. The
    other views are one click away, and a search looks at every order."""
    now = timezone.now()
    recent = paid_order(paid_at=now - timedelta(hours=1))
    oldest = paid_order(paid_at=now - timedelta(days=2))
    shipped = paid_order(paid_at=now - timedelta(days=3), shipped_at=now, **TRACKING)
    pending = make_order(products=[make_product()])

    default = owner_client.get(ORDERS)

    assert _listed(default) == [oldest.reference, recent.reference]
    html = default.content.decode()
    assert "À expédier" in html
    assert reverse("admin:payments_order_ship", args=[oldest.pk]) in html
    assert _listed(owner_client.get(ORDERS, {"expedition": "a-expedier"})) == [
        oldest.reference,
        recent.reference,
    ]
    # Every order: the newest first, as everywhere else in the admin.
    assert _listed(owner_client.get(ORDERS, {"expedition": "toutes"})) == [
        pending.reference,
        shipped.reference,
        oldest.reference,
        recent.reference,
    ]
    assert _listed(owner_client.get(ORDERS, {"expedition": "expediees"})) == [shipped.reference]
    assert _listed(owner_client.get(ORDERS, {"q": pending.reference})) == [pending.reference]
    assert set(_listed(owner_client.get(ORDERS, {"status__exact": "paid"}))) == {
        recent.reference,
        oldest.reference,
        shipped.reference,
    }


def test_the_admin_index_links_the_dashboard_and_the_orders_to_ship(owner_client):
    page = owner_client.get(reverse("admin:index")).content.decode()
    assert DASHBOARD in page
    assert f"{ORDERS}?expedition=a-expedier" in page


# The shipment, and its one e-mail


def test_shipping_an_order_sends_one_email_with_the_tracking_and_refuses_a_second(
    owner_client, paid_order, django_capture_on_commit_callbacks
):
    """The button records the shipment and the buyer hears of it once; submitting the form
    again (another tab, a double click) is refused and sends nothing; correcting the
    tracking is allowed and sends nothing either."""
    order = paid_order()
    url = reverse("admin:payments_order_ship", args=[order.pk])
    form = owner_client.get(url)
    assert form.status_code == 200
    assert "Enregistrer l'expédition et prévenir le client" in form.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        shipped = owner_client.post(url, TRACKING | {"_ship": "1"}, follow=True)

    order.refresh_from_db()
    assert order.shipped_at is not None
    assert (order.carrier, order.tracking_number) == ("Colissimo", "6A12345678901")
    assert any("e-mail de suivi à camille@example.com part" in m for m in _messages(shipped))
    [message] = mail.outbox
    assert message.to == ["camille@example.com"]
    assert message.subject == f"Votre commande {order.reference} est expédiée"
    assert "Numéro de suivi : 6A12345678901" in message.body
    assert "Colissimo" in message.body
    assert "12 rue des Lilas" in message.body
    assert "6A12345678901" in message.alternatives[0][0]

    with django_capture_on_commit_callbacks(execute=True):
        again = owner_client.post(url, TRACKING | {"tracking_number": "AUTRE", "_ship": "1"})

    assert again.status_code == 409
    assert "aucun second e-mail" in again.content.decode()
    assert len(mail.outbox) == 1
    order.refresh_from_db()
    assert order.tracking_number == "6A12345678901"

    with django_capture_on_commit_callbacks(execute=True):
        corrected = owner_client.post(
            url,
            {
                "carrier": "Colissimo",
                "tracking_number": "6A99",
                "tracking_url": "https://suivi.example/6A99",
                "_update": "1",
            },
            follow=True,
        )

    assert any("aucun nouvel e-mail" in m for m in _messages(corrected))
    order.refresh_from_db()
    assert (order.tracking_number, order.tracking_url) == ("6A99", "https://suivi.example/6A99")
    assert len(mail.outbox) == 1


def test_the_shipment_form_refuses_bad_input_and_unpaid_orders(
    owner_client, paid_order, make_order, make_product
):
    order = paid_order()
    url = reverse("admin:payments_order_ship", args=[order.pk])

    missing = owner_client.post(url, {"carrier": "Colissimo", "tracking_url": "pas un lien"})

    assert missing.status_code == 400
    order.refresh_from_db()
    assert order.shipped_at is None

    pending = make_order(products=[make_product()])
    refused = owner_client.post(
        reverse("admin:payments_order_ship", args=[pending.pk]), TRACKING | {"_ship": "1"}
    )
    assert refused.status_code == 409
    assert "rien à expédier" in refused.content.decode()
    pending.refresh_from_db()
    assert pending.shipped_at is None
    assert mail.outbox == []


def test_staff_without_the_change_permission_cannot_ship(client, paid_order):
    client.force_login(_staff("assistant", "view_order"))
    order = paid_order()

    response = client.post(reverse("admin:payments_order_ship", args=[order.pk]), TRACKING)

    assert response.status_code == 403
    order.refresh_from_db()
    assert order.shipped_at is None


def test_correcting_the_tracking_of_an_order_not_shipped_is_refused(paid_order):
    order = paid_order()
    with pytest.raises(ShipmentRefused):
        update_tracking(order_id=order.pk, **TRACKING)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_shipments_send_one_email(paid_order):
    """Two submissions at the same instant: the order row lock lets one through; the other
    finds the order shipped and is refused. One e-mail."""
    order = paid_order()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def ship() -> None:
        try:
            barrier.wait(timeout=10)
            ship_order(order_id=order.pk, **TRACKING)
            outcomes.append("shipped")
        except ShipmentRefused:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=ship) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["refused", "shipped"]
    assert len(mail.outbox) == 1


# The packing slip


def test_the_packing_slip_shows_the_address_the_pieces_and_the_reference(owner_client, paid_order):
    order = paid_order()
    piece = order.items.get()

    response = owner_client.get(reverse("admin:payments_order_packing_slip", args=[order.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert f"Commande {order.reference}" in html
    assert piece.name in html
    assert "12 rue des Lilas" in html
    assert "75011 Paris" in html
    assert "Tél. +33 6 12 34 56 78" in html
    order_page = owner_client.get(reverse("admin:payments_order_change", args=[order.pk]))
    assert reverse("admin:payments_order_packing_slip", args=[order.pk]) in (
        order_page.content.decode()
    )


def test_the_packing_slip_needs_a_login(client, paid_order):
    order = paid_order()
    response = client.get(reverse("admin:payments_order_packing_slip", args=[order.pk]))
    assert response.status_code == 302
    assert "12 rue des Lilas" not in response.content.decode()


# The dashboard


def test_the_dashboard_figures_on_a_known_set_of_orders(paid_order, make_order, make_product):
    """Sales of the day and of the month (still paid: a refunded one is no sale), orders to
    ship, pieces held by open checkouts, refunds of the month, Stripe calls to retry,
    conflicts."""
    paris = ZoneInfo("Europe/Paris")
    now = datetime(2026, 11, 20, 15, 0, tzinfo=paris)
    paid_order(price="100.00", paid_at=datetime(2026, 11, 20, 9, 0, tzinfo=paris))
    paid_order(
        price="200.00",
        paid_at=datetime(2026, 11, 20, 0, 30, tzinfo=paris),
        shipped_at=now,
        **TRACKING,
    )
    paid_order(price="300.00", paid_at=datetime(2026, 11, 3, 12, 0, tzinfo=paris))
    paid_order(price="999.00", paid_at=datetime(2026, 10, 31, 23, 30, tzinfo=paris))
    paid_order(
        price="50.00",
        paid_at=datetime(2026, 11, 20, 10, 0, tzinfo=paris),
        status=Order.Status.REFUNDED,
        refund_reason=Order.RefundReason.ADMIN,
        refunded_at=datetime(2026, 11, 20, 11, 0, tzinfo=paris),
    )
    paid_order(
        price="60.00",
        status=Order.Status.REFUNDED,
        refund_reason=Order.RefundReason.CONFLICT,
        refund_pending=True,
    )
    held = make_product(name="Commode")
    make_order(products=[held], held_until=timezone.now() + timedelta(minutes=20))
    lapsed = make_product(name="Miroir")
    make_order(products=[lapsed], held_until=timezone.now() - timedelta(minutes=1))

    figures = selectors.dashboard(now=now)

    # Totals include the 8 € of shipping each order paid.
    assert (figures.today.count, figures.today.amount) == (2, Decimal("316.00"))
    assert (figures.month.count, figures.month.amount) == (3, Decimal("624.00"))
    assert figures.to_ship == 3
    assert [p.name for p in figures.held] == ["Commode"]
    assert figures.refunds_this_month == 1
    assert figures.stripe_calls_pending == 1
    assert figures.conflicts == 1


def test_the_dashboard_page_links_each_figure_to_its_list(
    owner_client, paid_order, make_order, make_product
):
    today = paid_order(price="100.00")
    older = paid_order(price="70.00", paid_at=timezone.now() - timedelta(days=40))
    stuck = paid_order(
        status=Order.Status.REFUNDED,
        refund_reason=Order.RefundReason.AMOUNT_MISMATCH,
        refund_pending=True,
    )
    held = make_product(name="Commode")
    make_order(products=[held])

    page = owner_client.get(DASHBOARD)

    assert page.status_code == 200
    html = page.content.decode()
    assert f"108,00{NBSP}€" in html
    assert "Commode" in html
    links = page.context["links"]
    assert _listed(owner_client.get(links["today"])) == [today.reference]
    assert _listed(owner_client.get(links["to_ship"])) == [older.reference, today.reference]
    assert _listed(owner_client.get(links["stripe_calls"])) == [stuck.reference]
    assert _listed(owner_client.get(links["conflicts"])) == [stuck.reference]
    held_list = owner_client.get(links["held"])
    assert [p.name for p in held_list.context["cl"].result_list] == ["Commode"]
    assert Product.objects.count() == 4


def test_the_dashboard_needs_the_view_permission(client, db):
    client.force_login(_staff("stagiaire"))
    assert client.get(DASHBOARD).status_code == 403
