"""Carriers from a list: the tracking link built from the number for each one, « Autre »
with the owner's name and link, the shipment e-mail's « Suivre le colis », and orders
shipped before the list (migration payments 0011)."""

import importlib
from urllib.parse import parse_qs, urlsplit

import pytest
from django.apps import apps
from django.core import mail

from payments import carriers
from payments.carriers import Carrier
from payments.exceptions import ShipmentRefused
from payments.forms import ShipmentForm
from payments.models import Order
from payments.services.shipping import ship_order, update_tracking

pytestmark = pytest.mark.django_db

# Each listed carrier's public tracking page, and the query that finds the parcel.
EXPECTED = {
    Carrier.COLISSIMO: (
        "https://www.laposte.fr/outils/suivre-vos-envois",
        {"code": "6A12345678901"},
    ),
    Carrier.LETTRE_SUIVIE: (
        "https://www.laposte.fr/outils/suivre-vos-envois",
        {"code": "6A12345678901"},
    ),
    Carrier.CHRONOPOST: (
        "https://www.chronopost.fr/tracking-no-cms/suivi-page",
        {"listeNumerosLT": "6A12345678901", "langue": "fr"},
    ),
    Carrier.MONDIAL_RELAY: (
        "https://www.mondialrelay.fr/suivi-de-colis/",
        {"numeroExpedition": "6A12345678901", "codePostal": "75011"},
    ),
    Carrier.DHL: (
        "https://www.dhl.com/fr-fr/home/tracking/tracking-parcel.html",
        {"submit": "1", "tracking-id": "6A12345678901"},
    ),
    Carrier.UPS: ("https://www.ups.com/track", {"loc": "fr_FR", "tracknum": "6A12345678901"}),
}


def _parts(url: str) -> tuple[str, dict[str, str]]:
    split = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(split.query).items()}
    return f"{split.scheme}://{split.netloc}{split.path}", query


@pytest.fixture
def paid_order(make_product, make_order):
    def make(**fields) -> Order:
        values = {
            "status": Order.Status.PAID,
            "customer_email": "camille@example.com",
            "shipping_address": {
                "name": "Camille Martin",
                "address": {
                    "line1": "12 rue des Lilas",
                    "line2": "",
                    "postal_code": "75011",
                    "city": "Paris",
                    "state": "",
                    "country": "BE",
                },
                "phone": "",
            },
        }
        return make_order(products=[make_product()], hold=False, **(values | fields))

    return make


def test_every_listed_carrier_has_a_tracking_page_and_autre_has_none():
    assert set(carriers.TRACKING_PAGES) == set(Carrier.values) - {Carrier.OTHER}
    assert carriers.tracking_url(Carrier.OTHER, "ABC123") == ""


@pytest.mark.parametrize("carrier", list(EXPECTED))
def test_shipping_with_a_listed_carrier_builds_its_link_and_emails_it(
    carrier, paid_order, django_capture_on_commit_callbacks
):
    """The owner picks the carrier and types the number as printed (spaces, small letters):
    the order keeps the number as the carrier writes it and the link to the parcel's page,
    which the buyer's e-mail gives under « Suivre le colis »; a pasted link is not kept."""
    order = paid_order()

    with django_capture_on_commit_callbacks(execute=True):
        ship_order(
            order_id=order.pk,
            carrier=carrier,
            tracking_number=" 6a 1234 5678 901 ",
            tracking_url="https://ailleurs.example/",
        )

    order.refresh_from_db()
    assert order.carrier == carrier
    assert order.tracking_number == "6A12345678901"
    assert _parts(order.tracking_url) == EXPECTED[carrier]
    assert order.carrier_name == Carrier(carrier).label
    [message] = mail.outbox
    assert f"Transporteur : {Carrier(carrier).label}" in message.body
    assert f"Suivre le colis : {order.tracking_url}" in message.body
    html = message.alternatives[0][0]
    assert f'<a href="{order.tracking_url.replace("&", "&amp;")}">Suivre le colis</a>' in html
    assert "ailleurs.example" not in message.body


def test_mondial_relay_without_a_postal_code_still_links_the_number(paid_order):
    order = paid_order(shipping_address=None)

    ship_order(order_id=order.pk, carrier=Carrier.MONDIAL_RELAY, tracking_number="12345678")

    order.refresh_from_db()
    assert _parts(order.tracking_url) == (
        "https://www.mondialrelay.fr/suivi-de-colis/",
        {"numeroExpedition": "12345678"},
    )


def test_a_number_is_escaped_in_the_link():
    """Whatever reaches the builder stays one query value (the form refuses such numbers)."""
    url = carriers.tracking_url(Carrier.UPS, "1Z&x=<b>")
    assert _parts(url)[1]["tracknum"] == "1Z&x=<b>"
    assert "<" not in url


def test_autre_keeps_the_owners_name_and_link(paid_order, django_capture_on_commit_callbacks):
    order = paid_order()

    with django_capture_on_commit_callbacks(execute=True):
        ship_order(
            order_id=order.pk,
            carrier=Carrier.OTHER,
            other_carrier=" Coursier Vélo Paris ",
            tracking_number="cv-2026 118",
            tracking_url="https://coursier.example/suivi?n=cv-2026-118",
        )

    order.refresh_from_db()
    assert (order.carrier, order.carrier_name, order.tracking_number, order.tracking_url) == (
        "autre",
        "Coursier Vélo Paris",
        "cv-2026 118",
        "https://coursier.example/suivi?n=cv-2026-118",
    )
    [message] = mail.outbox
    assert "Transporteur : Coursier Vélo Paris" in message.body
    assert "Suivre le colis : https://coursier.example/suivi?n=cv-2026-118" in message.body


@pytest.mark.parametrize(
    ("fields", "refusal"),
    [
        ({"carrier": "Colissimo"}, "Choisissez le transporteur dans la liste"),
        ({"carrier": "laposte"}, "Choisissez le transporteur dans la liste"),
        ({"tracking_number": "  "}, "Indiquez le numéro de suivi"),
        ({"tracking_number": "6A-123/45"}, "ne contient que des lettres et des chiffres"),
        ({"tracking_number": "6A1"}, "ne contient que des lettres et des chiffres"),
        ({"carrier": "autre", "tracking_url": "https://x.example/1"}, "nom du transporteur"),
        ({"carrier": "autre", "other_carrier": "Coursier"}, "Collez le lien de suivi"),
        (
            {"carrier": "autre", "other_carrier": "Coursier", "tracking_url": "javascript:x"},
            "Collez le lien de suivi",
        ),
    ],
)
def test_bad_tracking_is_refused_in_french_and_changes_nothing(paid_order, fields, refusal):
    order = paid_order()
    values = {"carrier": "colissimo", "tracking_number": "6A12345678901"} | fields

    with pytest.raises(ShipmentRefused, match=refusal):
        ship_order(order_id=order.pk, **values)

    order.refresh_from_db()
    assert (order.shipped_at, order.carrier, order.tracking_url) == (None, "", "")
    assert mail.outbox == []


def test_correcting_the_carrier_rebuilds_the_link_and_sends_nothing(paid_order):
    order = paid_order()
    ship_order(order_id=order.pk, carrier=Carrier.COLISSIMO, tracking_number="6A12345678901")
    mail.outbox.clear()

    update_tracking(order_id=order.pk, carrier=Carrier.CHRONOPOST, tracking_number="XY123456789FR")

    order.refresh_from_db()
    assert order.carrier == Carrier.CHRONOPOST
    assert "listeNumerosLT=XY123456789FR" in order.tracking_url
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"carrier": "", "tracking_number": "6A1234"}, {"carrier"}),
        ({"carrier": "colissimo", "tracking_number": "6A 12-34"}, {"tracking_number"}),
        ({"carrier": "autre", "tracking_number": "A1"}, {"other_carrier", "tracking_url"}),
        (
            {
                "carrier": "autre",
                "tracking_number": "A1",
                "other_carrier": "X",
                "tracking_url": "p",
            },
            {"tracking_url"},
        ),
    ],
)
def test_the_shipment_form_says_what_is_missing(data, errors):
    form = ShipmentForm(data)
    assert not form.is_valid()
    assert set(form.errors) == errors


def test_the_form_drops_a_pasted_link_for_a_listed_carrier():
    form = ShipmentForm(
        {
            "carrier": "dhl",
            "tracking_number": "jjd 0001",
            "other_carrier": "x",
            "tracking_url": "https://x.example/",
        }
    )
    assert form.is_valid()
    assert form.cleaned_data == {
        "carrier": "dhl",
        "tracking_number": "JJD0001",
        "other_carrier": "",
        "tracking_url": "",
    }


@pytest.mark.parametrize(
    ("name", "carrier"),
    [
        ("Colissimo", Carrier.COLISSIMO),
        ("La Poste - Colissimo", Carrier.COLISSIMO),
        ("la poste", Carrier.COLISSIMO),
        ("Lettre suivie", Carrier.LETTRE_SUIVIE),
        ("La Poste Lettre Suivie", Carrier.LETTRE_SUIVIE),
        ("Chronopost", Carrier.CHRONOPOST),
        ("chrono 13", Carrier.CHRONOPOST),
        ("Mondial Relay", Carrier.MONDIAL_RELAY),
        ("mondialrelay", Carrier.MONDIAL_RELAY),
        ("DHL Express", Carrier.DHL),
        ("UPS", Carrier.UPS),
        ("Relais Colis", Carrier.OTHER),
        ("Groupsped", Carrier.OTHER),  # « ups » inside another word is not UPS
        ("Coursier à vélo", Carrier.OTHER),
    ],
)
def test_a_free_text_carrier_is_recognised(name, carrier):
    assert carriers.carrier_of(name) == carrier


def test_orders_shipped_before_the_list_keep_their_carrier_and_get_a_link(paid_order):
    """The migration's data step: a known name becomes its carrier, with the link built
    unless one was pasted; any other name becomes « autre » and keeps its name and link."""
    migration = importlib.import_module("payments.migrations.0011_carriers")
    colissimo = paid_order(carrier="Colissimo", tracking_number="6a 123")
    relay = paid_order(carrier="mondial relay", tracking_number="12345678")
    pasted = paid_order(
        carrier="DHL Express", tracking_number="JJD1", tracking_url="https://dhl.example/JJD1"
    )
    other = paid_order(
        carrier="Coursier du Marais", tracking_number="M-12", tracking_url="https://m.example/12"
    )
    unshipped = paid_order()

    migration.carriers_from_names(apps, None)

    for order in (colissimo, relay, pasted, other, unshipped):
        order.refresh_from_db()
    assert (colissimo.carrier, colissimo.tracking_url) == (
        "colissimo",
        "https://www.laposte.fr/outils/suivre-vos-envois?code=6A123",
    )
    assert relay.carrier == "mondial_relay"
    assert "codePostal=75011" in relay.tracking_url
    assert (pasted.carrier, pasted.tracking_url) == ("dhl", "https://dhl.example/JJD1")
    assert (other.carrier, other.other_carrier, other.tracking_url) == (
        "autre",
        "Coursier du Marais",
        "https://m.example/12",
    )
    assert other.carrier_name == "Coursier du Marais"
    assert unshipped.carrier == ""

    migration.names_from_carriers(apps, None)

    colissimo.refresh_from_db()
    other.refresh_from_db()
    assert (colissimo.carrier, other.carrier) == ("Colissimo", "Coursier du Marais")
