"""Every shopper page is valid HTML: the Nu HTML checker (vnu.jar, the W3C's validator)
finds no error on any of them.

The pages are rendered through the real views (the test client), written to files and
checked in one run of the checker (one JVM start, about two seconds, for all of them).
The checker comes from npm (`vnu-jar`, installed by `make test` and .ci/install-vnu under
.venv/vnu) and runs on Java; without them the test is skipped, and fails in CI.
"""

import json
import os
import shutil
import subprocess
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from payments import order_page
from payments.limits import Client as LimitClient
from payments.models import Order, OrderItem
from payments.services.checkout import CANCEL_SALT
from products.demo import demo_image
from products.legal import LEGAL_PAGES, create_legal_pages
from products.models import Category, Product, ProductImage
from shop.tests.chromium import missing

VNU_JAR = Path(
    os.environ.get("VNU_JAR")
    or Path(settings.BASE_DIR) / ".venv/vnu/node_modules/vnu-jar/build/dist/vnu.jar"
)

pytestmark = pytest.mark.django_db

CONTROL = "control: a label on a <span>"
CONTROL_PAGE = (
    '<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>t</title></head>'
    '<body><a href="/panier/">Panier <span aria-label="1 pièce">1</span></a></body></html>'
)


def nu_errors(pages: dict[str, str], folder: Path) -> dict[str, list[str]]:
    """The checker's errors for each page (name: HTML), in one run."""
    java = shutil.which("java")
    if java is None or not VNU_JAR.is_file():
        missing(f"needs Java and the Nu HTML checker at {VNU_JAR}: sh .ci/install-vnu")
    files = {}
    for n, (name, html) in enumerate(pages.items()):
        path = folder / f"page-{n}.html"
        path.write_text(html, encoding="utf-8")
        files[path.resolve().as_uri().replace("file:///", "file:/")] = name
    result = subprocess.run(
        [java, "-jar", str(VNU_JAR), "--errors-only", "--format", "json", "--exit-zero-always"]
        + [str(folder / f"page-{n}.html") for n in range(len(pages))],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    errors: dict[str, list[str]] = {}
    for message in json.loads(result.stderr)["messages"]:
        name = files.get(message.get("url", ""), message.get("url", "?"))
        where = f"line {message.get('lastLine', '?')}"
        errors.setdefault(name, []).append(f"{where}: {message['message']}")
    return errors


def get(client: Client, path: str, status: int = 200, **kwargs) -> str:
    response = client.get(path, **kwargs)
    assert response.status_code == status, (path, response.status_code)
    return response.content.decode()


@pytest.fixture
def shop(make_product) -> dict[str, Product]:
    """A category, a piece with photos, one without, one reserved, one sold."""
    create_legal_pages()
    lights = Category.objects.create(
        name="Luminaires", slug="luminaires", description="Lampes recâblées."
    )
    lamp = make_product(name="Lampe « champignon » & opaline", category=lights)
    lamp.image.save("lampe.jpg", demo_image("Lampe"), save=True)
    extra = ProductImage(product=lamp, alt="La lampe allumée", position=1)
    extra.image.save("lampe-2.jpg", demo_image("Allumée"), save=True)
    reserved = make_product(name="Carafe réservée", category=lights)
    Product.objects.filter(pk=reserved.pk).update(held_until=timezone.now() + timedelta(hours=1))
    sold = make_product(name="Miroir vendu", in_stock=False, description="Rotin.\n\nØ 60 cm.")
    make_product(name="Applique sans photo", description="")
    return {"category": lights, "lamp": lamp, "sold": sold}


def test_every_shopper_page_is_valid_html(shop, settings, tmp_path):
    """Catalogue, category, search (with and without results), product pages (with a gallery,
    sold, with a message), the cart with pieces, thank-you, cancelled and unknown order pages,
    the buyer's order page (paid, shipped, delivered, withdrawn, refunded) and the withdrawal
    pages (the form, prefilled, with a problem, the confirmation, the refusals), the legal
    pages, the 404 and the 429 pages: no error from the Nu HTML checker."""
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing here may reach Stripe
    lamp, sold = shop["lamp"], shop["sold"]
    shopper = Client()
    pages = {
        "catalogue": get(shopper, "/"),
        "category": get(shopper, shop["category"].get_absolute_url()),
        "search": get(shopper, "/?q=lampe&tri=prix&vendues=0"),
        "search without result": get(shopper, "/?q=introuvable"),
        "product": get(shopper, lamp.get_absolute_url()),
        "sold product": get(shopper, sold.get_absolute_url()),
    }
    shopper.post(reverse("cart:add", args=[lamp.pk]))
    pages["product with a message"] = get(shopper, lamp.get_absolute_url())
    shopper.post(reverse("cart:add", args=[sold.pk]))  # sold meanwhile: the cart says so
    pages["cart with pieces"] = get(shopper, "/panier/")
    for legal in LEGAL_PAGES:
        pages[legal.title] = get(shopper, legal.url)
    pages["404"] = get(shopper, "/produits/introuvable/", status=404)

    paid = Order.objects.create(
        status=Order.Status.PAID,
        items_total=lamp.price,
        shipping_cost=Decimal("8.00"),
        total=lamp.price + Decimal("8.00"),
        stripe_session_id="cs_test_valid_html",
        customer_email="cliente@example.com",
        shipping_address={
            "name": "Camille Martin",
            "address": {"line1": "3 rue des Lilas", "city": "Lyon", "country": "FR"},
            "phone": "+33600000000",
        },
    )
    OrderItem.objects.create(order=paid, product=lamp, name=lamp.name, price=lamp.price)
    pages["thank-you"] = get(
        shopper, "/commande/merci/", data={"session_id": paid.stripe_session_id}
    )
    pages["unknown order"] = get(shopper, "/commande/merci/", 404, data={"session_id": "cs_x"})
    pending = Order.objects.create(total=Decimal("10.00"), stripe_session_id="cs_test_cancel")
    signed = signing.dumps(pending.reference, salt=CANCEL_SALT)
    pages["cancelled"] = get(shopper, "/commande/annulee/", data={"commande": signed})

    pages.update(_after_sale_pages(paid))

    pages["429, too many checkouts"] = _too_many_checkouts(shopper, settings)
    pages["429, too many requests"] = _too_many_requests(settings)
    pages["429, too many withdrawals"] = _too_many_withdrawals(settings)

    # A control page in the same run: the checker ran and reports what it finds (the error
    # that every page had: a label on a <span>, which screen readers ignore).
    pages[CONTROL] = CONTROL_PAGE

    errors = nu_errors(pages, tmp_path)

    [control] = errors.pop(CONTROL)
    assert "“aria-label” attribute must not be specified on any “span”" in control
    assert errors == {}


def _too_many_checkouts(shopper: Client, settings) -> str:
    """Commander from an address that already has its one open checkout."""
    settings.CHECKOUT_LIMIT_PER_CLIENT = 1
    held = Product.objects.create(name="Tenue", slug="tenue", price=Decimal("20.00"))
    order = Order.objects.create(
        total=held.price, client_hash=LimitClient.from_address("127.0.0.1").hash
    )
    Product.objects.filter(pk=held.pk).update(
        held_by=order, held_until=timezone.now() + timedelta(minutes=30)
    )
    piece = Product.objects.create(name="Vase", slug="vase", price=Decimal("30.00"))
    shopper.post(reverse("cart:add", args=[piece.pk]))
    response = shopper.post(reverse("payments:checkout"), {"cgv": "on"})
    assert response.status_code == 429
    return response.content.decode()


def _too_many_requests(settings) -> str:
    """A cart flooded past RATE_LIMIT_CART."""
    settings.RATELIMIT_ENABLE = True
    settings.RATE_LIMIT_CART = "1/m"
    bot = Client(REMOTE_ADDR="203.0.113.9")
    piece = Product.objects.create(name="Bol", slug="bol", price=Decimal("12.00"))
    bot.post(reverse("cart:add", args=[piece.pk]))
    response = bot.post(reverse("cart:add", args=[piece.pk]))
    assert response.status_code == 429
    return response.content.decode()


def _after_sale_pages(paid: Order) -> dict[str, str]:
    """The order page through the order's life, and every page of the withdrawal."""
    Order.objects.filter(pk=paid.pk).update(paid_at=timezone.now() - timedelta(days=4))
    buyer = Client()
    order_path = order_page.path_for(paid.reference)
    token = order_page.token_for(paid.reference)
    pages = {"order page, paid": get(buyer, order_path)}
    pages["withdrawal form"] = get(buyer, "/retractation/")
    pages["withdrawal form, prefilled"] = get(buyer, "/retractation/", data={"commande": token})
    wrong = {"reference": "B-ZZZZZZZZ", "email": "personne@example.com"}
    pages["withdrawal form, wrong pair"] = _post_withdrawal(buyer, wrong, 400)
    pages["withdrawal form, invalid e-mail"] = _post_withdrawal(
        buyer, {"reference": "", "email": "pas-une-adresse"}, 400
    )
    Order.objects.filter(pk=paid.pk).update(
        shipped_at=timezone.now() - timedelta(days=3),
        carrier="colissimo",
        tracking_number="6A12345678901",
        tracking_url="https://www.laposte.fr/outils/suivre-vos-envois?code=6A12345678901",
    )
    pages["order page, shipped"] = get(buyer, order_path)
    Order.objects.filter(pk=paid.pk).update(delivered_at=timezone.now() - timedelta(days=1))
    pages["order page, delivered"] = get(buyer, order_path)
    pair = {"reference": paid.reference, "email": paid.customer_email, "nom": "Camille Martin"}
    pages["withdrawal recorded"] = _post_withdrawal(buyer, pair, 200)
    pages["withdrawal already recorded"] = _post_withdrawal(buyer, pair, 200)
    pages["order page, withdrawn"] = get(buyer, order_path)
    Order.objects.filter(pk=paid.pk).update(status=Order.Status.REFUNDED)
    pages["order page, refunded"] = get(buyer, order_path)

    late = Order.objects.create(
        status=Order.Status.PAID,
        total=Decimal("10.00"),
        customer_email="tard@example.com",
        shipped_at=timezone.now() - timedelta(days=60),
        delivered_at=timezone.now() - timedelta(days=55),
    )
    closed = {"reference": late.reference, "email": late.customer_email}
    pages["withdrawal refused, period closed"] = _post_withdrawal(buyer, closed, 409)
    pages["order page, period closed"] = get(buyer, order_page.path_for(late.reference))
    refunded = {"reference": paid.reference, "email": "other@example.com"}
    pages["withdrawal refused, no match on a refunded order"] = _post_withdrawal(
        buyer, refunded, 400
    )
    Order.objects.filter(pk=late.pk).update(status=Order.Status.REFUNDED, withdrawn_at=None)
    pages["withdrawal refused, refunded"] = _post_withdrawal(buyer, closed, 409)
    Order.objects.filter(pk=late.pk).update(status=Order.Status.PROCESSING)
    pages["withdrawal refused, not paid"] = _post_withdrawal(buyer, closed, 409)
    return pages


def _post_withdrawal(client: Client, data: dict, status: int) -> str:
    response = client.post("/retractation/", data)
    assert response.status_code == status, (data, response.status_code)
    return response.content.decode()


def _too_many_withdrawals(settings) -> str:
    """The withdrawal form flooded past RATE_LIMIT_WITHDRAWAL."""
    settings.RATELIMIT_ENABLE = True
    settings.RATE_LIMIT_WITHDRAWAL = "1/m"
    bot = Client(REMOTE_ADDR="203.0.113.10")
    bot.post("/retractation/", {"reference": "B-AAAAAAAA", "email": "a@example.com"})
    response = bot.post("/retractation/", {"reference": "B-AAAAAAAA", "email": "a@example.com"})
    assert response.status_code == 429
    return response.content.decode()
