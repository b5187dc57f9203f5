"""Accessibility in a real browser: axe-core on the shopper's pages, the live region that
announces stock changes, and the purchase path with the keyboard alone."""

import re
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import re_path
from django.utils import timezone
from django.views.static import serve
from playwright.sync_api import expect

from payments.models import Order, OrderItem
from products.demo import demo_image
from products.legal import LEGAL_PAGES, create_legal_pages
from products.models import Category, Product, ProductImage
from shop.tests.browser.conftest import POLL_SECONDS
from shop.urls import urlpatterns as shop_urlpatterns

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    # Photos are served here as a web server or object storage serves them in production.
    pytest.mark.urls(__name__),
]

WITHIN = (POLL_SECONDS * 4 + 2) * 1000
SERIOUS = {"serious", "critical"}


def media(request: HttpRequest, path: str) -> HttpResponse:
    if not Path(settings.MEDIA_ROOT).is_dir():
        raise Http404
    return serve(request, path, document_root=settings.MEDIA_ROOT)


urlpatterns = [re_path(r"^media/(?P<path>.*)$", media), *shop_urlpatterns]


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


def serious_violations(axe: Axe, page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each."""
    page.wait_for_load_state("load")
    results = axe.run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(node["target"][0] for node in v["nodes"][:3])
        for v in results.response["violations"]
        if v["impact"] in SERIOUS
    ]


@pytest.fixture
def shop_with_photos(make_product) -> dict[str, Any]:
    """A category, a piece with three photos, one without any, one reserved, one sold."""
    create_legal_pages()  # transactional tests start from an empty database
    lights = Category.objects.create(
        name="Luminaires", slug="luminaires", description="Lampes recâblées.", position=1
    )
    lamp = make_product(name="Lampe champignon", category=lights)
    lamp.image.save("lampe.jpg", demo_image("Lampe champignon"), save=True)
    for position, alt in enumerate(["La lampe allumée", "Le pied en laiton"], start=1):
        extra = ProductImage(product=lamp, alt=alt, position=position)
        extra.image.save(f"lampe-{position}.jpg", demo_image(alt), save=True)
    no_photo = make_product(name="Applique sans photo", category=lights)
    reserved = make_product(name="Carafe réservée")
    reserved.image.save("carafe.jpg", demo_image("Carafe"), save=True)
    Product.objects.filter(pk=reserved.pk).update(held_until=timezone.now() + timedelta(minutes=30))
    sold = make_product(name="Miroir vendu", in_stock=False)
    return {"category": lights, "lamp": lamp, "no_photo": no_photo, "sold": sold}


def test_the_shoppers_pages_have_no_serious_accessibility_violation(
    new_page, step, live_server, axe, shop_with_photos
):
    """axe-core finds no serious or critical violation on the catalogue (pieces with and
    without photo, reserved, sold), a category page, a product page with its gallery, the
    cart with a piece, each legal page and the thank-you page."""
    page = new_page()
    lamp = shop_with_photos["lamp"]
    found: dict[str, list[str]] = {}

    def check(name: str, path: str | None = None) -> None:
        if path is not None:
            page.goto(path)
        step(page, name)
        found[name] = serious_violations(axe, page)

    check("catalogue", "/")
    check("category", shop_with_photos["category"].get_absolute_url())
    check("search without result", "/?q=introuvable")
    check("product page", lamp.get_absolute_url())
    check("product page without photo", shop_with_photos["no_photo"].get_absolute_url())
    page.get_by_role("button", name="Ajouter au panier").click()
    expect(page.locator(".cart-count")).to_have_text("1")
    check("product page with a message")
    check("cart", "/panier/")
    for legal in LEGAL_PAGES:
        check(legal.title, legal.url)
    order = Order.objects.create(
        total=lamp.price, status=Order.Status.PAID, stripe_session_id=f"cs_test_{uuid.uuid4().hex}"
    )
    OrderItem.objects.create(order=order, product=lamp, name=lamp.name, price=lamp.price)
    check("thank-you page", f"/commande/merci/?session_id={order.stripe_session_id}")
    expect(page.get_by_text("Paiement confirmé")).to_be_visible()

    assert {name: v for name, v in found.items() if v} == {}


def test_a_card_without_photo_is_a_named_link_to_its_piece(page, live_server, shop_with_photos):
    """The placeholder of a piece without photo gives its link the piece's name."""
    page.goto("/")
    no_photo = shop_with_photos["no_photo"]
    links = page.get_by_role("link", name=re.compile(r"^Applique sans photo"))
    expect(links).to_have_count(2)  # the picture and the title
    for n in range(2):
        expect(links.nth(n)).to_have_attribute("href", no_photo.get_absolute_url())


def test_the_live_region_announces_a_sale_once(
    page, make_product, sell_through_webhook, shop_settings
):
    """An open product page says nothing while polls bring no change; when the piece is
    sold, the polite live region announces it by name (guillemets in it nested as “ ”)."""
    product = make_product(name="Vase « céladon »")
    page.goto(product.get_absolute_url())
    region = page.locator("[data-stock-announcer]")
    expect(region).to_have_attribute("aria-live", "polite")
    with page.expect_response(lambda r: "/api/products?ids=" in r.url):
        pass  # a first poll, unchanged
    expect(region).to_have_text("")

    sell_through_webhook(product)

    expect(region).to_have_text("Vendu : « Vase “céladon” ».", timeout=WITHIN)
    with page.expect_response(lambda r: "/api/products?ids=" in r.url):
        pass  # the next poll changes nothing: the sentence is not repeated
    expect(region).to_have_text("Vendu : « Vase “céladon” ».")


def tab_to(page: Any, accessible: str, *, limit: int = 60) -> None:
    """Press Tab until the focused element's text, label or value is `accessible`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        name = page.evaluate(
            """() => {
                const el = document.activeElement;
                if (!el) return "";
                if (el.labels && el.labels.length) return el.labels[0].textContent.trim();
                return (el.getAttribute("aria-label") || el.textContent || "").trim();
            }"""
        )
        if name == accessible:
            return
    raise AssertionError(f"Tab never reached « {accessible} »")


def test_the_purchase_path_works_with_the_keyboard_alone(page, live_server, make_product):
    """Skip link, add to cart, cart, the CGV box and Commander: all with Tab, Enter, Space."""
    create_legal_pages()
    product = make_product(name="Tabouret tripode")
    page.goto(product.get_absolute_url())

    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Aller au contenu")).to_be_focused()
    page.keyboard.press("Enter")
    tab_to(page, "Ajouter au panier")
    page.keyboard.press("Enter")
    expect(page.locator(".cart-count")).to_have_text("1")
    tab_to(page, "Panier 1 pièce")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/panier/$"))
    tab_to(page, "J'ai lu et j'accepte les conditions générales de vente")
    page.keyboard.press("Space")
    expect(
        page.get_by_label("J'ai lu et j'accepte les conditions générales de vente")
    ).to_be_checked()
    tab_to(page, "Commander")
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(re.escape(live_server.url + "/_stripe/pay/")))
