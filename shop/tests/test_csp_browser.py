"""The Content-Security-Policy, as Chromium enforces it, on shop pages and the admin.

The browser reports every refused script, style, image, request or form submission as a
`securitypolicyviolation` event and a console message: none may occur, while the polling
script runs and forms submit. Chromium resolves no outside name here
(`--host-resolver-rules`), so a redirect to Stripe is judged by the policy without leaving
the machine.
"""

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.test import Client
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from products.demo import demo_image
from products.models import Product
from shop.tests.chromium import launched_chromium
from shop.urls import urlpatterns as shop_urlpatterns

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_OUTSIDE_NAMES = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.effectiveDirective + " " + event.blockedURI);
});
"""


@csrf_exempt
def redirect_to(request: HttpRequest, target: str) -> HttpResponse:
    """POST → 303 elsewhere, as checkout does towards Stripe Checkout."""
    response = HttpResponseRedirect(
        {"stripe": "https://checkout.stripe.com/c/pay/cs_test_1", "other": "https://example.net/"}[
            target
        ]
    )
    response.status_code = 303
    return response


def form_page(request: HttpRequest, target: str) -> HttpResponse:
    return HttpResponse(
        f'<!doctype html><form method="post" action="/csp-test/redirect/{target}/">'
        '<button type="submit">Commander</button></form>'
    )


urlpatterns = [
    path("csp-test/form/<str:target>/", form_page),
    path("csp-test/redirect/<str:target>/", redirect_to),
    *shop_urlpatterns,
]


class Browser:
    """One Chromium page that records CSP violations, from events and the console."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.console: list[str] = []
        page.on("console", self._on_console)

    def _on_console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.console.append(message.text)

    def visit(self, url: str) -> Any:
        response = self.page.goto(url)
        self.page.wait_for_load_state("load")
        return response

    def violations(self) -> list[str]:
        try:
            events = self.page.evaluate("window.__cspViolations || []")
        except Exception:  # a page that is no longer ours (a failed navigation)
            events = []
        return events + self.console


@pytest.fixture(scope="module")
def chromium_browser() -> Iterator[Any]:
    """One Chromium for the module, resolving no outside name."""
    with launched_chromium(extra_args=(NO_OUTSIDE_NAMES,)) as browser:
        yield browser


@pytest.fixture
def chromium(chromium_browser, live_server, settings) -> Iterator[Browser]:
    """A fresh browser context (no cookies) whose pages record CSP violations."""
    settings.STOCK_POLL_SECONDS = 1
    context = chromium_browser.new_context(base_url=live_server.url, locale="fr-FR")
    context.set_default_timeout(10_000)
    context.add_init_script(RECORD_VIOLATIONS)
    yield Browser(context.new_page())
    context.close()


@pytest.fixture
def product() -> Product:
    product = Product.objects.create(
        name="Vase bleu", slug="vase-bleu", description="Un vase.", price=Decimal("42.00")
    )
    product.image.save("vase-bleu.jpg", demo_image("Vase bleu"), save=True)
    return product


def test_shop_pages_and_the_polling_script_satisfy_the_policy(chromium, product):
    """Catalogue, product page, cart (through the add-to-cart form), 404: no violation, and
    the polling script (a same-origin file) runs and reaches the stock API."""
    page = chromium.page
    chromium.visit("/")
    with page.expect_response(lambda r: "/api/products?ids=" in r.url, timeout=5_000) as polled:
        pass
    assert polled.value.status == 200

    chromium.visit(f"/produits/{product.slug}/")
    page.get_by_role("button", name="Ajouter au panier").click()
    page.wait_for_url("**/produits/vase-bleu/")
    chromium.visit("/panier/")
    assert "Vase bleu" in page.content()
    chromium.visit("/nulle-part/")

    assert chromium.violations() == []


def test_the_admin_satisfies_the_policy(chromium, product, django_user_model, live_server):
    """The admin's login page, index, product list (thumbnails), product form (preview,
    image widget), user form, lockout log, orders and Stripe events: no violation."""
    page = chromium.page
    chromium.visit(f"/{django_settings.ADMIN_URL}login/")
    assert page.locator("#id_username").is_visible()
    assert chromium.violations() == []

    owner = django_user_model.objects.create_superuser("proprietaire", "p@example.com", "x")
    client = Client()
    client.force_login(owner)
    session = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": django_settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )
    admin = f"/{django_settings.ADMIN_URL}"
    for url in [
        admin,
        f"{admin}products/product/",
        f"{admin}products/product/{product.pk}/change/",
        f"{admin}products/product/add/",
        f"{admin}auth/user/{owner.pk}/change/",
        f"{admin}axes/accessattempt/",
        f"{admin}payments/order/",
        f"{admin}payments/stripeevent/",
    ]:
        response = chromium.visit(url)
        assert response.status == 200, url
        assert chromium.violations() == [], url
    chromium.visit(f"{admin}products/product/")
    assert page.locator("img.admin-thumbnail").count() == 1


@pytest.mark.urls("shop.tests.test_csp_browser")
def test_form_action_lets_checkout_redirect_to_stripe_only(chromium):
    """Chromium applies form-action to the redirect that follows a POST: the 303 from
    checkout to Stripe Checkout is allowed; to any other origin it is refused."""
    chromium.visit("/csp-test/form/stripe/")
    chromium.page.get_by_role("button", name="Commander").click()
    chromium.page.wait_for_timeout(1_000)
    assert not [v for v in chromium.violations() if "form-action" in v]

    chromium.visit("/csp-test/form/other/")
    chromium.page.get_by_role("button", name="Commander").click()
    chromium.page.wait_for_timeout(1_000)
    assert any("form-action" in v for v in chromium.violations())
