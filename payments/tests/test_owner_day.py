"""The owner's day in the admin: orders to ship first, the shipment and its one e-mail,
the delivery, the packing slip, orders that must not leave, the dashboard."""

import threading
from datetime import datetime, timedelta
from decimal import Decimal
from html import unescape
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
from payments.services.shipping import mark_delivered, ship_order, update_tracking
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
TRACKING = {"carrier": "colissimo", "tracking_number": "6A12345678901", "tracking_url": ""}


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
    assert (order.carrier, order.tracking_number) == ("colissimo", "6A12345678901")
    assert order.tracking_url == (
        "https://www.laposte.fr/outils/suivre-vos-envois?code=6A12345678901"
    )
    assert any("e-mail de suivi à camille@example.com part" in m for m in _messages(shipped))
    [message] = mail.outbox
    assert message.to == ["camille@example.com"]
    assert message.subject == f"Votre commande {order.reference} est expédiée"
    assert "Numéro de suivi : 6A12345678901" in message.body
    assert "Colissimo" in message.body
    assert "12 rue des Lilas" in message.body
    assert "6A12345678901" in message.alternatives[0][0]
    assert f"Suivre le colis : {order.tracking_url}" in message.body
    assert f'<a href="{order.tracking_url}">Suivre le colis</a>' in message.alternatives[0][0]

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
                "carrier": "autre",
                "other_carrier": "Coursier du quartier",
                "tracking_number": "6A99",
                "tracking_url": "https://suivi.example/6A99",
                "_update": "1",
            },
            follow=True,
        )

    assert any("aucun nouvel e-mail" in m for m in _messages(corrected))
    order.refresh_from_db()
    assert (order.carrier_name, order.tracking_number, order.tracking_url) == (
        "Coursier du quartier",
        "6A99",
        "https://suivi.example/6A99",
    )
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


# The shipment and the delivery in the order's history


def test_the_timeline_tells_the_shipment_and_the_delivery(owner_client, paid_order):
    """In the order's « Chronologie »: the shipment with its carrier, number and tracking
    link, then the delivery, in time order after the payment."""
    order = paid_order(paid_at=timezone.now() - timedelta(days=3))
    ship_order(order_id=order.pk, **TRACKING)
    Order.objects.filter(pk=order.pk).update(shipped_at=timezone.now() - timedelta(days=2))
    mark_delivered(order_id=order.pk)
    order.refresh_from_db()

    entries = selectors.order_timeline(order)

    labels = [entry.label for entry in entries]
    assert labels.index("Paiement enregistré, pièces vendues") < labels.index(
        "Expédiée, client prévenu par e-mail"
    )
    assert labels[-1] == "Livrée (marquée par la boutique)"
    [shipped] = [e for e in entries if e.label.startswith("Expédiée")]
    assert shipped.at == order.shipped_at
    assert shipped.detail == "Colissimo · suivi 6A12345678901"
    assert shipped.url == "https://www.laposte.fr/outils/suivre-vos-envois?code=6A12345678901"
    assert entries[-1].at == order.delivered_at

    html = owner_client.get(reverse("admin:payments_order_change", args=[order.pk])).content
    timeline = html.decode()[html.decode().index('class="order-timeline"') :]
    assert (
        '<a href="https://www.laposte.fr/outils/suivre-vos-envois?code=6A12345678901" '
        'target="_blank" rel="noopener noreferrer">Colissimo · suivi 6A12345678901</a>'
    ) in timeline
    assert timeline.index("Expédiée, client prévenu") < timeline.index("Livrée (marquée")


def test_an_order_not_shipped_has_no_shipment_or_delivery_in_its_timeline(paid_order):
    labels = [entry.label for entry in selectors.order_timeline(paid_order())]
    assert not [label for label in labels if label.startswith(("Expédiée", "Livrée"))]


# « Marquer livrée »


def test_marking_delivered_from_the_order_page_asks_then_records_the_date_once(
    owner_client, paid_order, settings
):
    """The order's page offers « Marquer livrée » once shipped; the confirmation says the
    withdrawal period starts today; confirmed, `delivered_at` is recorded; a second time
    (another tab) is refused in French and the first date stays."""
    settings.WITHDRAWAL_DAYS = 14
    order = paid_order(shipped_at=timezone.now() - timedelta(days=2), **TRACKING)
    url = reverse("admin:payments_order_delivery", args=[order.pk])
    page = owner_client.get(reverse("admin:payments_order_change", args=[order.pk]))
    assert f'href="{url}">Marquer livrée</a>' in page.content.decode()

    confirmation = owner_client.get(url)

    assert confirmation.status_code == 200
    page = unescape(confirmation.content.decode())
    assert "délai de rétractation de 14 jours court à partir d'aujourd'hui" in page
    assert "Oui, le client l'a reçue : marquer livrée" in page
    order.refresh_from_db()
    assert order.delivered_at is None  # asking records nothing

    before = timezone.now()
    done = owner_client.post(url, follow=True)

    order.refresh_from_db()
    assert before <= order.delivered_at <= timezone.now()
    assert any("marquée livrée aujourd'hui" in m for m in _messages(done))
    first = order.delivered_at

    again = owner_client.post(url, follow=True)

    order.refresh_from_db()
    assert order.delivered_at == first
    assert any("déjà marquée livrée" in m for m in _messages(again))
    after = owner_client.get(reverse("admin:payments_order_change", args=[order.pk]))
    assert "Marquer livrée</a>" not in after.content.decode()
    assert "Livrée le" in after.content.decode()


@pytest.mark.parametrize(
    ("fields", "refusal"),
    [
        ({}, "n'est pas encore expédiée"),
        (
            {
                "status": Order.Status.REFUNDED,
                "refund_reason": Order.RefundReason.ADMIN,
                "refunded_at": timezone.now(),
                "shipped_at": timezone.now(),
            },
            "est remboursée : elle ne peut pas être marquée livrée",
        ),
        ({"status": Order.Status.CANCELLED}, "est annulée : elle ne peut pas être marquée livrée"),
    ],
)
def test_marking_delivered_is_refused_for_an_order_not_shipped_or_not_paid(
    owner_client, paid_order, fields, refusal
):
    order = paid_order(**fields)
    url = reverse("admin:payments_order_delivery", args=[order.pk])

    with pytest.raises(ShipmentRefused, match=refusal):
        mark_delivered(order_id=order.pk)
    confirmation = unescape(owner_client.get(url).content.decode())
    posted = owner_client.post(url, follow=True)

    assert refusal in confirmation
    assert "marquer livrée" not in confirmation  # no button to confirm
    assert any(refusal in m for m in _messages(posted))
    order.refresh_from_db()
    assert order.delivered_at is None


def test_the_list_action_marks_the_shipped_orders_delivered_after_asking(owner_client, paid_order):
    """« Marquer livrées » on the list: a confirmation that names what cannot be marked,
    then the shipped ones are, and each refusal is said."""
    shipped = paid_order(shipped_at=timezone.now(), **TRACKING)
    also_shipped = paid_order(shipped_at=timezone.now(), **TRACKING)
    not_shipped = paid_order()
    selection = {
        "action": "mark_delivered",
        "_selected_action": [shipped.pk, also_shipped.pk, not_shipped.pk],
    }

    asked = owner_client.post(ORDERS, selection | {"index": "0"})

    assert asked.status_code == 200
    page = unescape(asked.content.decode())
    assert "marquer 2 commandes livrées" in page
    assert f"La commande {not_shipped.reference} n'est pas encore expédiée" in page
    assert not Order.objects.filter(delivered_at__isnull=False).exists()

    done = owner_client.post(ORDERS, selection | {"confirmer": "1"}, follow=True)

    assert set(Order.objects.filter(delivered_at__isnull=False)) == {shipped, also_shipped}
    said = _messages(done)
    assert any("2 commande(s) marquée(s) livrée(s)" in m for m in said)
    assert any(f"{not_shipped.reference} n'est pas encore expédiée" in m for m in said)


def test_staff_without_the_change_permission_cannot_mark_delivered(client, paid_order):
    client.force_login(_staff("assistant", "view_order"))
    order = paid_order(shipped_at=timezone.now(), **TRACKING)

    response = client.post(reverse("admin:payments_order_delivery", args=[order.pk]))

    assert response.status_code == 403
    order.refresh_from_db()
    assert order.delivered_at is None


# Refunded or cancelled: not to be shipped


@pytest.fixture
def refunded_order(paid_order):
    return paid_order(
        status=Order.Status.REFUNDED,
        refund_reason=Order.RefundReason.ADMIN,
        refunded_at=timezone.now(),
    )


@pytest.fixture
def cancelled_order(paid_order):
    return paid_order(status=Order.Status.CANCELLED, paid_at=None)


@pytest.mark.parametrize(
    ("which", "stamp"),
    [
        ("refunded_order", "REMBOURSÉE – NE PAS EXPÉDIER"),
        ("cancelled_order", "ANNULÉE – NE PAS EXPÉDIER"),
    ],
)
def test_an_order_that_must_not_leave_has_no_shipment_form_and_a_stamped_slip(
    owner_client, request, which, stamp
):
    """The shipment page offers no form (and a POST is still refused, 409); the packing
    slip says it in capitals where « Payée le … » was; the order's page offers neither."""
    order = request.getfixturevalue(which)
    ship_url = reverse("admin:payments_order_ship", args=[order.pk])

    page = owner_client.get(ship_url)

    assert page.status_code == 200
    shown = unescape(page.content.decode())
    assert "<form" not in shown.split('id="content-main"')[1]
    assert "Enregistrer l'expédition" not in shown
    assert "elle ne doit pas être expédiée" in shown
    assert stamp in shown
    posted = owner_client.post(ship_url, TRACKING | {"_ship": "1"})
    assert posted.status_code == 409
    assert "<form" not in posted.content.decode().split('id="content-main"')[1]
    order.refresh_from_db()
    assert order.shipped_at is None
    assert mail.outbox == []

    slip = owner_client.get(reverse("admin:payments_order_packing_slip", args=[order.pk]))

    slip_html = slip.content.decode()
    assert f'<p class="packing-slip__stamp" data-order-stamp>{stamp}</p>' in slip_html
    assert "Payée le" not in slip_html
    order_page = owner_client.get(reverse("admin:payments_order_change", args=[order.pk]))
    assert ship_url not in order_page.content.decode()


def test_a_paid_order_has_its_form_and_a_slip_saying_when_it_was_paid(owner_client, paid_order):
    order = paid_order(paid_at=datetime(2026, 11, 20, 9, 0, tzinfo=ZoneInfo("Europe/Paris")))

    form = owner_client.get(reverse("admin:payments_order_ship", args=[order.pk]))
    slip = owner_client.get(reverse("admin:payments_order_packing_slip", args=[order.pk]))

    assert 'name="_ship"' in form.content.decode()
    assert "Payée le 20/11/2026" in slip.content.decode()
    assert "NE PAS EXPÉDIER" not in slip.content.decode()


def test_the_orders_to_ship_leave_out_refunded_and_cancelled_ones(
    owner_client, paid_order, refunded_order, cancelled_order
):
    to_ship = paid_order()

    assert _listed(owner_client.get(ORDERS)) == [to_ship.reference]
    assert selectors.dashboard().to_ship == 1
