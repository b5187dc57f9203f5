"""The admin as a shop owner reads it (shop/admin_site.py, docs/decisions/0014): her sections
first, the technical models folded away in « Technique », titles and outcomes in her words,
asserted on the rendered pages."""

import io
import json
import re
from decimal import Decimal
from html import unescape

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from payments.models import Order, OrderItem, StripeEvent
from products.models import Category, Product, ProductImage

pytestmark = pytest.mark.django_db

TECHNICAL = [
    "Événements Stripe",
    "Utilisateurs",
    "Groupes",
    "Connexions",
    "Tentatives de connexion",
    "Échecs de connexion",
]
# Django's defaults that the owner must not read, and English of the services and Stripe.
DJANGO_DEFAULTS = [
    "Sélectionnez l",
    "objet commande",
    "Ajouter un objet",
    "supplémentaire",
    "Affichage de",
    "Modification de",
    "Ajout de",
    "Administration de",
]
TECHNICAL_WORDS = [
    "Checkout Session",
    "PaymentIntent",
    "Slug",
    "checkout.session",
    "payment_intent",
]
ENGLISH_OUTCOMES = re.compile(
    r"\b(paid|already|unchanged|refunded|released|processing|processed|ignored|"
    r"event type|unknown order|session open)\b"
)


def visible_text(response) -> str:
    """The page's words as a reader sees them: no tags, scripts, styles or attributes."""
    assert response.status_code == 200
    page = response.content.decode()
    page = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", unescape(page))


@pytest.fixture
def owner_client(client: Client, db) -> Client:
    """The owner as `make superuser` creates her."""
    client.force_login(User.objects.create_superuser("patronne", "p@example.com", "x" * 20))
    return client


PIECES = {"paid": "Lampe opaline", "shipped": "Fauteuil bridge", "refunded": "Miroir doré"}


@pytest.fixture
def shop_orders(make_product):
    """A paid order with its Stripe events as the webhook records them (the services'
    English outcomes stored), a shipped and delivered one, a refunded one."""
    orders = {}
    for name, fields in {
        "paid": {},
        "shipped": {
            "shipped_at": timezone.now(),
            "delivered_at": timezone.now(),
            "carrier": "mondial_relay",
            "tracking_number": "12345678",
            "tracking_url": "https://www.mondialrelay.fr/suivi-de-colis/?numeroExpedition=12345678",
        },
        "refunded": {
            "status": Order.Status.REFUNDED,
            "refund_reason": Order.RefundReason.CONFLICT,
            "refunded_at": timezone.now(),
            "stripe_refund_id": "re_test_1",
        },
    }.items():
        piece = make_product(name=PIECES[name], in_stock=False)
        order = Order.objects.create(
            **{
                "status": Order.Status.PAID,
                "total": Decimal("100.00"),
                "items_total": Decimal("100.00"),
                "paid_at": timezone.now(),
                "customer_email": "camille@example.com",
                "stripe_session_id": f"cs_test_{piece.pk}",
                "stripe_payment_intent_id": f"pi_test_{piece.pk}",
                "shipping_address": {
                    "name": "Camille Martin",
                    "address": {"line1": "1 rue", "postal_code": "1000", "city": "Bruxelles"}
                    | {"country": "BE", "line2": "", "state": ""},
                    "phone": "",
                },
                **fields,
            }
        )
        OrderItem.objects.create(order=order, product=piece, name=piece.name, price=piece.price)
        for n, (type_, detail) in enumerate(
            [
                ("checkout.session.completed", "paid"),
                ("payment_intent.succeeded", "already paid"),
                ("checkout.session.expired", "unchanged (paid)"),
                ("checkout.session.completed", "refunded (conflict)"),
                ("customer.created", "event type not handled"),
                ("payment_intent.succeeded", "unknown order: B-XXXX"),
            ]
        ):
            StripeEvent.objects.create(
                stripe_id=f"evt_{piece.pk}_{n}",
                type=type_,
                payload={"data": {"object": {"id": order.stripe_session_id}}},
                order=order,
                outcome=StripeEvent.Outcome.PROCESSED,
                detail=detail,
                processed_at=timezone.now(),
            )
        orders[name] = order
    return orders


# The home page and the side menu


def test_the_owners_home_shows_her_sections_first_and_technique_folded_at_the_bottom(
    owner_client,
):
    response = owner_client.get(reverse("admin:index"))

    page = response.content.decode()
    main = page[page.index('id="content-main"') :]
    sections = [unescape(s) for s in re.findall(r'class="section">([^<]+)</(?:a|span)>', main)]
    assert sections == ["Ventes", "Catalogue", "Pages du site", "Technique"]
    owner_part, technical_part = main.split('<details class="technical-section"', 1)
    for name in TECHNICAL:
        assert f">{name}</a>" not in owner_part, name
        assert f">{name}</a>" in technical_part, name
    # Folded: the <details> is not open.
    assert technical_part.startswith(">")
    assert re.findall(r'<th scope="row"[^>]*>\s*<a href="[^"]+">([^<]+)</a>', owner_part) == [
        "Commandes",
        "E-mails",
        "Factures",
        "Avoirs",
        "Pièces",
        "Catégories",
        "Pages",
    ]
    # The name is the link; no « Modification » beside it.
    assert "changelink" not in main


def test_the_side_menu_folds_technique_too_and_opens_it_on_its_pages(owner_client):
    orders = owner_client.get(reverse("admin:payments_order_changelist")).content.decode()
    events = owner_client.get(reverse("admin:payments_stripeevent_changelist")).content.decode()

    menu = orders[orders.index('id="nav-sidebar"') :]
    assert '<details class="technical-section">' in menu
    assert '<details class="technical-section" open>' in events[events.index('id="nav-sidebar"') :]


def test_staff_without_technical_permissions_see_no_technique_section(client, db):
    user = User.objects.create_user("vendeuse", "v@example.com", "x" * 20, is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            codename__in=["view_order", "change_order", "view_product", "change_product"]
        )
    )
    client.force_login(user)

    page = client.get(reverse("admin:index")).content.decode()

    assert "technical-section" not in page
    assert "Commandes" in page
    assert "Pièces" in page


def test_an_app_page_is_titled_by_the_section(owner_client):
    response = owner_client.get(reverse("admin:app_list", args=["payments"]))
    assert "<h1>Ventes</h1>" in response.content.decode()


# Titles in her words


@pytest.mark.parametrize(
    ("url", "title"),
    [
        (reverse("admin:payments_order_changelist"), "Commandes à expédier"),
        (reverse("admin:payments_order_changelist") + "?expedition=toutes", "Commandes"),
        (
            reverse("admin:payments_order_changelist") + "?expedition=expediees",
            "Commandes expédiées",
        ),
        (reverse("admin:payments_outboxmessage_changelist"), "E-mails"),
        (reverse("admin:products_product_changelist"), "Pièces"),
        (reverse("admin:products_product_add"), "Nouvelle pièce"),
        (reverse("admin:products_category_changelist"), "Catégories"),
        (reverse("admin:products_category_add"), "Nouvelle catégorie"),
        (reverse("admin:flatpages_flatpage_changelist"), "Pages"),
        (reverse("admin:flatpages_flatpage_add"), "Nouvelle page"),
        (reverse("admin:auth_user_changelist"), "Utilisateurs"),
    ],
)
def test_lists_and_new_objects_have_natural_titles(owner_client, url, title):
    text = visible_text(owner_client.get(url))

    assert f" {title} " in text
    page = owner_client.get(url).content.decode()
    assert f"<h1>{title}</h1>" in page
    assert f"<title>{title} | " in page
    for default in DJANGO_DEFAULTS:
        assert default not in text, default


def test_an_object_page_is_titled_by_the_object(owner_client, make_product, shop_orders):
    piece = make_product(name="Vase bleu")
    category = Category.objects.create(name="Arts de la table", slug="arts-de-la-table")
    order = shop_orders["paid"]

    for url, title in [
        (reverse("admin:products_product_change", args=[piece.pk]), "Pièce « Vase bleu »"),
        (
            reverse("admin:products_category_change", args=[category.pk]),
            "Catégorie « Arts de la table »",
        ),
        (reverse("admin:payments_order_change", args=[order.pk]), f"Commande {order.reference}"),
    ]:
        response = owner_client.get(url)
        assert f"<h1>{title}</h1>" in unescape(response.content.decode()), url
        text = visible_text(response)
        for default in DJANGO_DEFAULTS:
            assert default not in text, (url, default)


def test_the_photos_inline_says_ajouter_une_photo(owner_client, make_product, settings):
    piece = make_product(name="Vase bleu")
    photo = io.BytesIO()
    Image.new("RGB", (8, 8), "navy").save(photo, "JPEG")
    ProductImage.objects.create(
        product=piece, image=SimpleUploadedFile("v.jpg", photo.getvalue()), alt="De dessus"
    )

    page = owner_client.get(reverse("admin:products_product_change", args=[piece.pk]))

    [data] = re.findall(r'data-inline-formset="([^"]+)"', page.content.decode())
    assert json.loads(unescape(data))["options"]["addText"] == "Ajouter une photo"
    assert "Slug" not in visible_text(page)
    assert "Adresse web" in visible_text(page)


def test_the_categories_list_says_adresse_web_not_slug(owner_client):
    Category.objects.create(name="Luminaires", slug="luminaires")
    text = visible_text(owner_client.get(reverse("admin:products_category_changelist")))
    assert "Slug" not in text
    assert "Adresse web" in text


def test_date_filters_read_par_date_de(owner_client):
    text = visible_text(
        owner_client.get(reverse("admin:payments_order_changelist") + "?expedition=toutes")
    )
    assert "Par date de paiement" in text
    assert "Par date de remboursement" in text
    assert "Par payée le" not in text


# Outcomes and Stripe's words, on the owner's pages


@pytest.mark.parametrize("which", ["paid", "shipped", "refunded"])
def test_an_order_page_speaks_french_only(owner_client, shop_orders, which):
    """Every outcome the services stored on the order's Stripe events, every label: in
    French. The English stays on the events (tests, logs and reconcile read it)."""
    order = shop_orders[which]

    text = visible_text(owner_client.get(reverse("admin:payments_order_change", args=[order.pk])))

    assert ENGLISH_OUTCOMES.findall(text) == [], text
    for word in TECHNICAL_WORDS:
        assert word not in text, word
    for french in [
        "Stripe : paiement validé par le client",
        "Commande payée, pièces vendues",
        "Commande déjà payée, rien de plus à faire",
        "Rien à changer, la commande est payée",
        "Pièce déjà vendue à un autre client, remboursement automatique",
        "Sans effet sur les commandes",
        "Commande inconnue de la boutique, rien fait",
    ]:
        assert french in text, french
    assert "Belgique" in text  # the country by its French name
    assert StripeEvent.objects.filter(order=order, detail="already paid").exists()


def test_the_order_page_reads_in_the_owners_order(owner_client, shop_orders):
    """Pieces and address first, then the shipment, the money, the refunds and documents,
    the e-mails, the history; Stripe's details last, folded."""
    order = shop_orders["shipped"]

    page = unescape(
        owner_client.get(reverse("admin:payments_order_change", args=[order.pk])).content.decode()
    )

    headings = re.findall(r'class="fieldset-heading">([^<]+)<', page)
    assert headings == [
        "Pièces et adresse de livraison",
        "Expédition",
        "Montants",
        "Remboursements et pièces comptables",
        "E-mails",
        "Chronologie",
        "Détails techniques (Stripe)",
    ]
    assert page.index("Fauteuil bridge") < page.index("Mondial Relay") < page.index("Montant reçu")
    stripe = page[page.rindex("<fieldset", 0, page.index("Détails techniques (Stripe)")) :]
    assert stripe.startswith('<fieldset class="module aligned collapse"')
    assert "<details><summary>" in stripe[:400]


def test_the_orders_list_and_the_dashboard_speak_french(owner_client, shop_orders):
    for url in [
        reverse("admin:payments_order_changelist") + "?expedition=toutes",
        reverse("admin:payments_order_dashboard"),
        reverse("admin:index"),
    ]:
        text = visible_text(owner_client.get(url))
        assert ENGLISH_OUTCOMES.findall(text) == [], url
        for word in TECHNICAL_WORDS:
            assert word not in text, (url, word)
        for default in DJANGO_DEFAULTS:
            assert default not in text, (url, default)


def test_the_event_log_shows_what_came_of_each_event_in_french(owner_client, shop_orders):
    text = visible_text(owner_client.get(reverse("admin:payments_stripeevent_changelist")))
    assert "Commande déjà payée, rien de plus à faire" in text
    assert "Stripe : paiement encaissé" in text


def test_a_product_saved_from_the_admin_keeps_working(owner_client, make_product):
    """The titles and the grouping change no behaviour: a piece still saves."""
    piece = make_product(name="Vase bleu", price="10.00")
    url = reverse("admin:products_product_change", args=[piece.pk])
    form = {
        "name": "Vase bleu nuit",
        "slug": piece.slug,
        "category": "",
        "condition": "",
        "price": "12,50",
        "description": "",
        "in_stock": "on",
        "images-TOTAL_FORMS": "0",
        "images-INITIAL_FORMS": "0",
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
    }

    response = owner_client.post(url, form)

    assert response.status_code == 302, visible_text(response)[:2000]
    piece.refresh_from_db()
    assert (piece.name, piece.price) == ("Vase bleu nuit", Decimal("12.50"))
    assert Product.objects.count() == 1
